/**
 * What a client of the proxy's own HTTP/1.x server receives, byte for byte, over real loopback
 * sockets: the status line and fields (Date once, the connection's own Connection/Keep-Alive),
 * the body framing chosen at writeHead (Content-Length, chunked for HTTP/1.1, close-delimited
 * for HTTP/1.0; none for HEAD, 204, 304 — RFC 9112 §6.1-6.3), trailers, 100 Continue and
 * 103 Early Hints. What writeHead refuses and res.destroy() are in server-response-guards.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { exchange, fieldValues, head, readBody, readResponse, serveWithClient, stopAllH1Servers } from '../../../../helpers/h1-server.js';

afterEach(stopAllH1Servers);

const GET11 = head('GET / HTTP/1.1', 'Host: x');
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

const serve = serveWithClient;

/** The head with the Date value replaced by `<date>` (after checking it is a current IMF-fixdate). */
function headWithoutDate(text: string): string {
  const dates = [...text.matchAll(/\r\nDate: ([^\r]*)\r\n/g)];
  expect(dates).toHaveLength(1);
  const value = dates[0]![1]!;
  expect(value).toMatch(IMF_FIXDATE);
  expect(Math.abs(Date.parse(value) - Date.now())).toBeLessThan(60_000);
  return text.replace(value, '<date>');
}

describe('status line and fields', () => {
  it('sends the fields in order, Date once, and announces keep-alive with the idle timeout in seconds', async () => {
    const { raw } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '5' });
      res.end('hello');
    });
    const res = await exchange(raw, GET11);
    expect(headWithoutDate(res.head)).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nDate: <date>\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n');
    expect(res.body.toString()).toBe('hello');
    expect(raw.buffered.length).toBe(0);
  }, 10_000);

  it.each([
    [2500, 'timeout=2'],
    [300, 'timeout=1'],
    [60_000, 'timeout=60'],
  ])('Keep-Alive for idleTimeoutMs %d is %s', async (idleTimeoutMs, value) => {
    const { raw } = await serve((_req, res) => res.writeHead(204).end(), { idleTimeoutMs });
    expect(fieldValues(await exchange(raw, GET11), 'keep-alive')).toEqual([value]);
  }, 10_000);

  it('takes a reason phrase, numbers, arrays, raw arrays and pairs, and puts setHeader fields first', async () => {
    let n = 0;
    const { raw } = await serve((_req, res) => {
      n++;
      if (n === 1) res.writeHead(201, 'Made It', { 'X-N': 5, 'Set-Cookie': ['a=1', 'b=2'], 'Content-Length': 0 });
      else if (n === 2) res.writeHead(202, ['X-Raw', 'one', 'x-raw', 'two', 'Content-Length', '0']);
      else {
        res.setHeader('X-Set', 'first');
        res.setHeader('x-set', ['replaced-1', 'replaced-2']);
        res.writeHead(418, [['X-Pair', 'p']]);
      }
      res.end();
    });
    const a = await exchange(raw, GET11);
    expect(a.statusLine).toBe('HTTP/1.1 201 Made It');
    expect(a.headers.slice(0, 4)).toEqual([
      ['X-N', '5'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Content-Length', '0'],
    ]);
    const b = await exchange(raw, GET11);
    expect(b.statusLine).toBe('HTTP/1.1 202 Accepted');
    expect(b.headers.slice(0, 3)).toEqual([
      ['X-Raw', 'one'],
      ['x-raw', 'two'],
      ['Content-Length', '0'],
    ]);
    const c = await exchange(raw, GET11);
    expect(c.statusLine).toBe("HTTP/1.1 418 I'm a Teapot");
    expect(c.headers.slice(0, 3)).toEqual([
      ['x-set', 'replaced-1'],
      ['x-set', 'replaced-2'],
      ['X-Pair', 'p'],
    ]);
  }, 10_000);

  it('writes an implied 200 head (with statusCode and setHeader) when the body comes first', async () => {
    const { raw } = await serve((_req, res) => {
      res.statusCode = 203;
      res.setHeader('X-Set', 'yes');
      res.write('body');
      res.end();
    });
    const res = await exchange(raw, GET11);
    expect(res.statusLine).toBe('HTTP/1.1 203 Non-Authoritative Information');
    expect(fieldValues(res, 'x-set')).toEqual(['yes']);
    expect(res.body.toString()).toBe('body');
  }, 10_000);

  it('keeps a Date the handler gave and adds none', async () => {
    const date = 'Tue, 01 Jan 2030 00:00:00 GMT';
    const { raw } = await serve((_req, res) => res.writeHead(200, { date, 'Content-Length': 0 }).end());
    const res = await exchange(raw, GET11);
    expect(fieldValues(res, 'date')).toEqual([date]);
  }, 10_000);

  it('replaces Connection and Keep-Alive fields the handler gave with the connection’s own', async () => {
    const { raw } = await serve((_req, res) => res.writeHead(200, { Connection: 'keep-alive, X-Hop', 'Keep-Alive': 'timeout=999, max=5', 'Content-Length': 0 }).end());
    const res = await exchange(raw, GET11);
    expect(fieldValues(res, 'connection')).toEqual(['keep-alive']);
    expect(fieldValues(res, 'keep-alive')).toEqual(['timeout=5']);
  }, 10_000);

  it('closes the connection after a response the handler marked Connection: close', async () => {
    const { raw } = await serve((_req, res) => res.writeHead(200, { Connection: 'close', 'Content-Length': 2 }).end('ok'));
    const res = await exchange(raw, GET11);
    expect(fieldValues(res, 'connection')).toEqual(['close']);
    expect(fieldValues(res, 'keep-alive')).toEqual([]);
    expect(await raw.readToEnd(3000)).toHaveLength(0);
    await raw.closed(3000);
  }, 10_000);

  it('answers an HTTP/1.1 request with Connection: close with Connection: close, and closes', async () => {
    const { raw } = await serve((_req, res) => res.writeHead(200, { 'Content-Length': 2 }).end('ok'));
    const res = await exchange(raw, head('GET / HTTP/1.1', 'Host: x', 'Connection: close'));
    expect(fieldValues(res, 'connection')).toEqual(['close']);
    expect(res.body.toString()).toBe('ok');
    expect(await raw.readToEnd(3000)).toHaveLength(0);
    await raw.closed(3000);
  }, 10_000);
});

describe('body framing', () => {
  it('frames an HTTP/1.1 response without a length as chunks (empty writes send no chunk)', async () => {
    const { raw } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('ab');
      res.write('');
      res.write(Buffer.from('cde'));
      res.end();
    });
    for (let i = 0; i < 2; i++) {
      const res = await exchange(raw, GET11);
      expect(fieldValues(res, 'transfer-encoding')).toEqual(['chunked']);
      expect(fieldValues(res, 'content-length')).toEqual([]);
      expect(fieldValues(res, 'connection')).toEqual(['keep-alive']);
      expect(res.rawBody.toString()).toBe('2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n');
      expect(raw.buffered.length).toBe(0);
    }
  }, 10_000);

  it('frames end(data) and a bare end() to HTTP/1.1 as chunks', async () => {
    let n = 0;
    const { raw } = await serve((_req, res) => (n++ === 0 ? res.end('data') : res.end()));
    expect((await exchange(raw, GET11)).rawBody.toString()).toBe('4\r\ndata\r\n0\r\n\r\n');
    const empty = await exchange(raw, GET11);
    expect(fieldValues(empty, 'transfer-encoding')).toEqual(['chunked']);
    expect(empty.rawBody.toString()).toBe('0\r\n\r\n');
  }, 10_000);

  it('does not double a Transfer-Encoding: chunked the handler gave', async () => {
    const { raw } = await serve((_req, res) => {
      res.writeHead(200, { 'Transfer-Encoding': 'chunked' });
      res.end('xyz');
    });
    const res = await exchange(raw, GET11);
    expect(fieldValues(res, 'transfer-encoding')).toEqual(['chunked']);
    expect(res.rawBody.toString()).toBe('3\r\nxyz\r\n0\r\n\r\n');
  }, 10_000);

  it('sends a Content-Length body as written, in pieces, without chunk lines', async () => {
    const { raw } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': '11' });
      res.write('hello');
      setTimeout(() => res.end(' world'), 20);
    });
    const res = await exchange(raw, GET11);
    expect(res.framing).toBe('length');
    expect(res.body.toString()).toBe('hello world');
    expect(fieldValues(res, 'transfer-encoding')).toEqual([]);
  }, 10_000);

  it('answers HTTP/1.0 without keep-alive with Connection: close and closes', async () => {
    const { raw } = await serve((_req, res) => res.writeHead(200, { 'Content-Length': 2 }).end('ok'));
    const res = await exchange(raw, head('GET / HTTP/1.0'));
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(fieldValues(res, 'connection')).toEqual(['close']);
    expect(res.body.toString()).toBe('ok');
    expect(await raw.readToEnd(3000)).toHaveLength(0);
    await raw.closed(3000);
  }, 10_000);

  it('delimits a body without a length to HTTP/1.0 by the close (no chunked framing)', async () => {
    const { raw } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('0\r\n\r\n');
      res.end('rest');
    });
    const res = await exchange(raw, head('GET / HTTP/1.0', 'Connection: keep-alive'));
    expect(res.framing).toBe('close');
    expect(fieldValues(res, 'transfer-encoding')).toEqual([]);
    expect(fieldValues(res, 'connection')).toEqual(['close']);
    expect(res.body.toString()).toBe('0\r\n\r\nrest');
    await raw.closed(3000);
  }, 10_000);

  it('keeps an HTTP/1.0 keep-alive connection open for a response with a length', async () => {
    const { srv, raw } = await serve((req, res) => res.writeHead(200, { 'Content-Length': req.url!.length }).end(req.url));
    for (const path of ['/one', '/two']) {
      const res = await exchange(raw, head(`GET ${path} HTTP/1.0`, 'Connection: keep-alive'));
      expect(fieldValues(res, 'connection')).toEqual(['keep-alive']);
      expect(fieldValues(res, 'keep-alive')).toEqual(['timeout=5']);
      expect(res.body.toString()).toBe(path);
    }
    expect(srv.sockets).toHaveLength(1);
  }, 10_000);

  it('sends no body for HEAD even when end(body) is called, and the next response follows right after', async () => {
    const { raw } = await serve((req, res) => {
      if (req.url === '/len') res.writeHead(200, { 'Content-Length': '11' });
      else res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('hello world');
    });
    // One request at a time here (pipelining has its own tests): after each HEAD response nothing
    // may follow, and the next response must start with its status line.
    const withLength = await exchange(raw, head('HEAD /len HTTP/1.1', 'Host: x'), 'HEAD');
    expect(fieldValues(withLength, 'content-length')).toEqual(['11']);
    expect(fieldValues(withLength, 'connection')).toEqual(['keep-alive']);
    const withoutLength = await exchange(raw, head('HEAD /nolen HTTP/1.1', 'Host: x'), 'HEAD');
    expect(withoutLength.statusLine).toBe('HTTP/1.1 200 OK');
    expect(fieldValues(withoutLength, 'transfer-encoding')).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    expect(raw.buffered.length).toBe(0);
    const get = await exchange(raw, head('GET /len HTTP/1.1', 'Host: x'));
    expect(get.statusLine).toBe('HTTP/1.1 200 OK');
    expect(get.body.toString()).toBe('hello world');
    expect(raw.buffered.length).toBe(0);
  }, 10_000);

  it.each([204, 304])('sends no body and no framing field for %d, and the connection carries on', async (status) => {
    const { raw } = await serve((_req, res) => {
      res.writeHead(status, { ETag: '"x"' });
      res.end('ignored');
    });
    for (let i = 0; i < 2; i++) {
      const res = await exchange(raw, GET11);
      expect(res.status).toBe(status);
      expect(fieldValues(res, 'transfer-encoding')).toEqual([]);
      expect(fieldValues(res, 'content-length')).toEqual([]);
      expect(fieldValues(res, 'connection')).toEqual(['keep-alive']);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(raw.buffered.length).toBe(0);
  }, 10_000);
});

describe('trailers', () => {
  it('sends trailers after the last chunk (object and pairs)', async () => {
    let n = 0;
    const { raw } = await serve((_req, res) => {
      res.writeHead(200, { Trailer: 'X-Sum' });
      res.write('abc');
      if (n++ === 0) res.addTrailers({ 'X-Sum': 'sha256=1' });
      else res.addTrailers([['X-Sum', 'sha256=2'], ['X-Other', 'o']]);
      res.end();
    });
    const a = await exchange(raw, GET11);
    expect(a.rawBody.toString()).toBe('3\r\nabc\r\n0\r\nX-Sum: sha256=1\r\n\r\n');
    const b = await exchange(raw, GET11);
    expect(b.trailers).toEqual([
      ['X-Sum', 'sha256=2'],
      ['X-Other', 'o'],
    ]);
  }, 10_000);

  it('never writes a trailer that could split the message', async () => {
    const { raw } = await serve((_req, res) => {
      res.write('abc');
      res.addTrailers([['X-Ok', '1'], ['X-Bad', 'v\r\nInjected: yes'], ['Bad Name', 'v']]);
      res.end();
    });
    const res = await exchange(raw, GET11);
    expect(res.trailers).toEqual([['X-Ok', '1']]);
  }, 10_000);

  it('drops trailers on a Content-Length body (it cannot carry them)', async () => {
    const { raw } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': 3 });
      res.addTrailers({ 'X-Sum': '1' });
      res.end('abc');
    });
    const res = await exchange(raw, GET11);
    expect(res.framing).toBe('length');
    expect(res.body.toString()).toBe('abc');
    await new Promise((r) => setTimeout(r, 50));
    expect(raw.buffered.length).toBe(0);
    expect((await exchange(raw, GET11)).statusLine).toBe('HTTP/1.1 200 OK');
  }, 10_000);
});

describe('interim responses', () => {
  it('sends 100 Continue with writeContinue, then reads the body the client held back', async () => {
    const { srv, raw } = await serve((req, res) => {
      res.writeContinue();
      void readBody(req).then((body) => res.writeHead(200, { 'Content-Length': body.length }).end(body));
    });
    await raw.write(head('PUT /upload HTTP/1.1', 'Host: x', 'Expect: 100-continue', 'Content-Length: 7'));
    expect(await raw.readHead()).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    await raw.write('payload');
    const res = await readResponse(raw);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('payload');
    expect(srv.requests[0]!.headers['expect']).toBe('100-continue');
  }, 10_000);

  it('sends no 100 Continue once the final head is written', async () => {
    const { raw } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': 2 });
      res.writeContinue();
      res.end('ok');
    });
    const res = await exchange(raw, head('GET / HTTP/1.1', 'Host: x', 'Expect: 100-continue'));
    expect(res.status).toBe(200);
  }, 10_000);

  // RFC 9110 §15.2: "A server MUST NOT send a 1xx response to an HTTP/1.0 client."
  it('sends no 100 Continue to an HTTP/1.0 client', async () => {
    const { raw } = await serve((req, res) => {
      res.writeContinue();
      void readBody(req).then((body) => res.writeHead(200, { 'Content-Length': body.length }).end(body));
    });
    await raw.write(head('PUT / HTTP/1.0', 'Expect: 100-continue', 'Content-Length: 2') + 'hi');
    const res = await readResponse(raw);
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(res.body.toString()).toBe('hi');
  }, 10_000);

  it('sends 103 Early Hints (repeated fields kept) before the final response', async () => {
    const { raw } = await serve((_req, res) => {
      res.writeEarlyHints({ link: ['</a.css>; rel=preload; as=style', '</b.js>; rel=preload; as=script'], 'X-Hint': 'h' });
      setTimeout(() => res.writeHead(200, { 'Content-Length': 2 }).end('ok'), 20);
    });
    const hints = await exchange(raw, GET11);
    expect(hints.head).toBe('HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload; as=style\r\nlink: </b.js>; rel=preload; as=script\r\nX-Hint: h\r\n\r\n');
    const final = await readResponse(raw);
    expect(final.status).toBe(200);
    expect(final.body.toString()).toBe('ok');
  }, 10_000);

  it('sends no 103 to an HTTP/1.0 client, and refuses a hint that could split the message', async () => {
    let thrown: unknown;
    const { raw } = await serve((req, res) => {
      res.writeEarlyHints({ link: '</a.css>; rel=preload' });
      try {
        if (req.httpVersion === '1.1') res.writeEarlyHints({ link: 'x\r\nInjected: 1' });
      } catch (err) {
        thrown = err;
      }
      res.writeHead(200, { 'Content-Length': 2 }).end('ok');
    });
    const res = await exchange(raw, head('GET / HTTP/1.0', 'Connection: keep-alive'));
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    const res11 = await exchange(raw, GET11);
    expect(res11.status).toBe(103);
    expect(res11.head).not.toContain('Injected');
    expect((await readResponse(raw)).status).toBe(200);
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_CHAR' });
  }, 10_000);
});
