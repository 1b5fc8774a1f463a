/**
 * The life of a connection on the proxy's own HTTP/1.x server, over real loopback sockets:
 * keep-alive reuse, pipelined requests answered in order (RFC 9112 §9.3.2) whenever the handler
 * answers, unread request bodies drained so the connection carries on, CONNECT and upgrades handed
 * over with the bytes read past their head, the idle timeout, closeIdleConnections, and what a
 * handler sees of the request (Node's IncomingMessage surface).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { H1IncomingRequest } from '../../../../../src/proxy/net/h1-server/incoming.js';
import type { H1ServerResponse } from '../../../../../src/proxy/net/h1-server/outgoing.js';
import { fieldValues, head, readBody, readResponse, serveWithClient, startH1Server, stopAllH1Servers, trackClient, type RequestHandler } from '../../../../helpers/h1-server.js';
import { openRaw } from '../../../../helpers/raw-client.js';
import { once, waitFor } from '../../../../helpers/wait.js';

afterEach(stopAllH1Servers);

const get = (path: string) => head(`GET ${path} HTTP/1.1`, 'Host: x');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers with the method, path and body it read: `POST /a <body>`. */
const echo: RequestHandler = (req, res) => {
  void readBody(req).then((body) => {
    const text = `${req.method} ${req.url} ${body}`;
    res.writeHead(200, { 'Content-Length': Buffer.byteLength(text, 'latin1') }).end(text, 'latin1');
  });
};

const serve = serveWithClient;

describe('keep-alive', () => {
  it('serves three sequential requests on one connection', async () => {
    const { srv, raw } = await serve(echo);
    for (const path of ['/1', '/2', '/3']) {
      await raw.write(get(path));
      const res = await readResponse(raw);
      expect(res.body.toString()).toBe(`GET ${path} `);
      expect(fieldValues(res, 'connection')).toEqual(['keep-alive']);
    }
    expect(srv.sockets).toHaveLength(1);
    expect(srv.requests.map((r) => r.url)).toEqual(['/1', '/2', '/3']);
  }, 10_000);

  it('serves sequential requests with Content-Length and chunked bodies on one connection', async () => {
    const { srv, raw } = await serve(echo);
    await raw.write(head('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 5') + 'hello');
    expect((await readResponse(raw)).body.toString()).toBe('POST /a hello');
    await raw.write(head('POST /b HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    expect((await readResponse(raw)).body.toString()).toBe('POST /b abcde');
    await raw.write(get('/c'));
    expect((await readResponse(raw)).body.toString()).toBe('GET /c ');
    expect(srv.sockets).toHaveLength(1);
  }, 10_000);

  it('ignores empty lines before a request line (RFC 9112 §2.2)', async () => {
    const { raw } = await serve(echo);
    await raw.write(`\r\n\r\n${get('/after-crlf')}`);
    expect((await readResponse(raw)).body.toString()).toBe('GET /after-crlf ');
  }, 10_000);
});

describe('pipelining', () => {
  const three = get('/1') + get('/2') + get('/3');

  it('answers pipelined requests in order when every answer comes later', async () => {
    const { srv, raw } = await serve((req, res) => {
      setTimeout(() => res.end(`${req.url}`), req.url === '/1' ? 100 : 5);
    });
    await raw.write(three);
    for (const path of ['/1', '/2', '/3']) expect((await readResponse(raw)).body.toString()).toBe(path);
    expect(srv.requests.map((r) => r.url)).toEqual(['/1', '/2', '/3']);
  }, 10_000);

  it('does not hand the next pipelined request to the handler before the current response is done', async () => {
    const pending: Array<{ req: H1IncomingRequest; res: H1ServerResponse }> = [];
    const { srv, raw } = await serve((req, res) => pending.push({ req, res }));
    await raw.write(three);
    await waitFor(() => pending.length === 1, { timeoutMs: 3000 });
    await sleep(100);
    expect(srv.requests).toHaveLength(1);
    pending[0]!.res.end('first');
    await waitFor(() => pending.length === 2, { timeoutMs: 3000 });
    expect((await readResponse(raw)).body.toString()).toBe('first');
    pending[1]!.res.end('second');
    await waitFor(() => pending.length === 3, { timeoutMs: 3000 });
    pending[2]!.res.end('third');
    expect((await readResponse(raw)).body.toString()).toBe('second');
    expect((await readResponse(raw)).body.toString()).toBe('third');
  }, 10_000);

  // The first is answered late, the others at once inside the handler call.
  it('answers pipelined requests in order when the first is answered late and the others at once', async () => {
    const { raw } = await serve((req, res) => {
      if (req.url === '/1') setTimeout(() => res.end('/1'), 100);
      else res.end(`${req.url}`);
    });
    await raw.write(three);
    for (const path of ['/1', '/2', '/3']) expect((await readResponse(raw, { timeoutMs: 3000 })).body.toString()).toBe(path);
  }, 15_000);

  it('answers pipelined requests a handler answers synchronously', async () => {
    const { raw } = await serve((req, res) => res.end(`${req.url}`));
    await raw.write(three);
    for (const path of ['/1', '/2', '/3']) expect((await readResponse(raw, { timeoutMs: 3000 })).body.toString()).toBe(path);
  }, 15_000);

  it('answers a long pipeline a handler answers synchronously, in order', async () => {
    const n = 2000;
    const { raw } = await serve((req, res) => res.writeHead(200, { 'Content-Length': req.url!.length }).end(req.url));
    let wire = '';
    for (let i = 0; i < n; i++) wire += `GET /${i} HTTP/1.1\r\n\r\n`;
    await raw.write(wire);
    for (let i = 0; i < n; i++) expect((await readResponse(raw, { timeoutMs: 3000 })).body.toString()).toBe(`/${i}`);
  }, 30_000);

  it('answers nothing pipelined after a request with Connection: close', async () => {
    const { srv, raw } = await serve((req, res) => setTimeout(() => res.end(`${req.url}`), 10));
    await raw.write(head('GET /last HTTP/1.1', 'Host: x', 'Connection: close') + get('/never'));
    const res = await readResponse(raw);
    expect(res.body.toString()).toBe('/last');
    expect(fieldValues(res, 'connection')).toEqual(['close']);
    expect(await raw.readToEnd(3000)).toHaveLength(0);
    expect(srv.requests.map((r) => r.url)).toEqual(['/last']);
  }, 10_000);

  it('keeps pipelined bodies apart, however the bytes are split', async () => {
    const { raw } = await serve(echo);
    const wire =
      head('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 3') +
      'abc' +
      head('POST /b HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') +
      '2\r\nde\r\n0\r\nX-T: 1\r\n\r\n' +
      get('/c') +
      head('POST /d HTTP/1.1', 'Host: x', 'Content-Length: 12') +
      'GET / HTTP/1';
    const expected = ['POST /a abc', 'POST /b de', 'GET /c ', 'POST /d GET / HTTP/1'];
    // Once whole, then in 7-byte pieces with a pause between them.
    await raw.write(wire);
    for (const body of expected) expect((await readResponse(raw)).body.toString()).toBe(body);
    const bytes = Buffer.from(wire, 'latin1');
    for (let i = 0; i < bytes.length; i += 7) {
      await raw.write(bytes.subarray(i, i + 7));
      await sleep(2);
    }
    for (const body of expected) expect((await readResponse(raw)).body.toString()).toBe(body);
  }, 15_000);
});

describe('unread request bodies', () => {
  it('drains a Content-Length body the handler never read, so the next request works', async () => {
    const { srv, raw } = await serve((req, res) => {
      if (req.method === 'POST') setTimeout(() => res.writeHead(200, { 'Content-Length': 7 }).end('ignored'), 10);
      else res.writeHead(200, { 'Content-Length': 4 }).end('next');
    });
    const body = Buffer.alloc(256 * 1024, 'b');
    await raw.write(head('POST /big HTTP/1.1', 'Host: x', `Content-Length: ${body.length}`));
    expect((await readResponse(raw)).body.toString()).toBe('ignored');
    // The body arrives after the response: it must still be read and dropped.
    await raw.write(body);
    await raw.write(get('/next'));
    expect((await readResponse(raw)).body.toString()).toBe('next');
    expect(srv.sockets).toHaveLength(1);
  }, 15_000);

  it('drains a chunked body (with trailers) the handler never read', async () => {
    const { raw } = await serve((req, res) => {
      if (req.method === 'POST') setTimeout(() => res.writeHead(200, { 'Content-Length': 7 }).end('ignored'), 10);
      else res.writeHead(200, { 'Content-Length': 4 }).end('next');
    });
    let chunks = '';
    for (let i = 0; i < 64; i++) chunks += `400\r\n${'c'.repeat(1024)}\r\n`;
    await raw.write(head('POST /big HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + chunks);
    expect((await readResponse(raw)).body.toString()).toBe('ignored');
    await raw.write(`0\r\nX-T: 1\r\n\r\n${get('/next')}`);
    expect((await readResponse(raw)).body.toString()).toBe('next');
  }, 15_000);

  it('drains the rest of a body the handler read only a part of', async () => {
    const { raw } = await serve((req, res) => {
      if (req.method !== 'POST') {
        res.end('next');
        return;
      }
      req.once('data', () => {
        req.pause();
        res.writeHead(200, { 'Content-Length': 4 }).end('part');
      });
    });
    const body = Buffer.alloc(512 * 1024, 'p');
    await raw.write(Buffer.concat([Buffer.from(head('POST / HTTP/1.1', 'Host: x', `Content-Length: ${body.length}`)), body]));
    expect((await readResponse(raw)).body.toString()).toBe('part');
    await raw.write(get('/next'));
    expect((await readResponse(raw)).body.toString()).toBe('next');
  }, 15_000);
});

describe('CONNECT and upgrade hand-over', () => {
  /** After the hand-over the server must neither answer nor time out what the client sends. */
  async function checkHandedOver(srv: Awaited<ReturnType<typeof startH1Server>>, raw: Awaited<ReturnType<typeof openRaw>>, socket: net.Socket) {
    await raw.write(get('/would-be-answered') + 'garbage\r\n\r\n');
    await sleep(600); // past idleTimeoutMs (300) and the headers sweep
    srv.h1.closeIdleConnections();
    expect(raw.buffered.length).toBe(0);
    expect(raw.ended).toBe(false);
    expect(srv.clientErrors).toEqual([]);
    expect(srv.requests).toHaveLength(0);
    // The new owner reads what came after the hand-over, all of it, in order.
    const got: Buffer[] = [];
    socket.on('data', (c: Buffer) => got.push(c));
    await waitFor(() => Buffer.concat(got).toString().endsWith('garbage\r\n\r\n'), { timeoutMs: 3000, message: 'bytes sent after the hand-over' });
    expect(Buffer.concat(got).toString()).toBe(get('/would-be-answered') + 'garbage\r\n\r\n');
    socket.write('HTTP/1.1 200 OK\r\n\r\nfrom the new owner');
    expect((await raw.readUntil('from the new owner')).toString()).toBe('HTTP/1.1 200 OK\r\n\r\nfrom the new owner');
  }

  it('hands CONNECT over with the bytes read past its head, and stops reading the socket', async () => {
    const { srv, raw } = await serve(echo, { idleTimeoutMs: 300, headersTimeoutMs: 200 });
    await raw.write(head('CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443', 'Proxy-Authorization: Basic eDp5') + '\x16\x03\x01EXTRA');
    await waitFor(() => srv.connects.length === 1, { timeoutMs: 3000 });
    const { req, socket, head: extra } = srv.connects[0]!;
    expect(req.method).toBe('CONNECT');
    expect(req.url).toBe('example.com:443');
    expect(req.headers['proxy-authorization']).toBe('Basic eDp5');
    expect(req.complete).toBe(true);
    expect(extra.toString('latin1')).toBe('\x16\x03\x01EXTRA');
    expect(socket).toBe(srv.sockets[0]);
    await checkHandedOver(srv, raw, socket);
  }, 15_000);

  it('hands an upgrade over with the bytes read past its head', async () => {
    const { srv, raw } = await serve(echo, { idleTimeoutMs: 300, headersTimeoutMs: 200 });
    await raw.write(Buffer.from(head('GET /chat HTTP/1.1', 'Host: x', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13') + '\x81\x05hello', 'latin1'));
    await waitFor(() => srv.upgrades.length === 1, { timeoutMs: 3000 });
    const { req, socket, head: extra } = srv.upgrades[0]!;
    expect(req.url).toBe('/chat');
    expect(req.headers['upgrade']).toBe('websocket');
    expect(extra.toString('latin1')).toBe('\x81\x05hello');
    await checkHandedOver(srv, raw, socket);
  }, 15_000);

  it('hands over with an empty head when nothing followed', async () => {
    const { srv, raw } = await serve(echo);
    await raw.write(head('CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443'));
    await waitFor(() => srv.connects.length === 1, { timeoutMs: 3000 });
    expect(srv.connects[0]!.head.length).toBe(0);
  }, 10_000);

  it('hands over a CONNECT pipelined after a request once that request is answered', async () => {
    const { srv, raw } = await serve((req, res) => setTimeout(() => res.end(`${req.url}`), 50));
    await raw.write(get('/first') + head('CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443') + 'TUNNEL');
    expect((await readResponse(raw)).body.toString()).toBe('/first');
    await waitFor(() => srv.connects.length === 1, { timeoutMs: 3000 });
    expect(srv.connects[0]!.head.toString()).toBe('TUNNEL');
  }, 10_000);
});

describe('idle connections', () => {
  it('closes a connection idle after a response once idleTimeoutMs passes', async () => {
    const { srv, raw } = await serve(echo, { idleTimeoutMs: 300 });
    await raw.write(get('/'));
    await readResponse(raw);
    await raw.closed(5000);
    expect(srv.sockets[0]!.destroyed).toBe(true);
  }, 10_000);

  it('closes a connection that never sends a request', async () => {
    const { raw } = await serve(echo, { idleTimeoutMs: 300 });
    await raw.closed(5000);
  }, 10_000);

  it('keeps a connection whose handler answers after idleTimeoutMs', async () => {
    const { raw } = await serve((_req, res) => setTimeout(() => res.end('late'), 700), { idleTimeoutMs: 300 });
    await raw.write(get('/slow'));
    expect((await readResponse(raw, { timeoutMs: 5000 })).body.toString()).toBe('late');
  }, 10_000);

  it('closeIdleConnections closes only connections waiting for a next request', async () => {
    let held: H1ServerResponse | undefined;
    const srv = await startH1Server((req, res) => {
      if (req.url === '/hold') held = res;
      else res.end(`${req.url}`);
    });
    const afterResponse = trackClient(await openRaw(srv.port));
    const inProgress = trackClient(await openRaw(srv.port));
    const partialHead = trackClient(await openRaw(srv.port));
    const silent = trackClient(await openRaw(srv.port));
    await afterResponse.write(get('/done'));
    expect((await readResponse(afterResponse)).body.toString()).toBe('/done');
    await inProgress.write(get('/hold'));
    await partialHead.write('GET /partial HTTP/1.1\r\nHo');
    // Every connection is in the state it is named for before the call.
    await waitFor(() => held !== undefined && srv.sockets.length === 4 && srv.h1.readingHead.size === 1, { timeoutMs: 3000 });
    srv.h1.closeIdleConnections();
    await afterResponse.closed(3000);
    await silent.closed(3000);
    await sleep(100);
    expect(inProgress.ended).toBe(false);
    expect(partialHead.ended).toBe(false);
    held!.end('held');
    expect((await readResponse(inProgress)).body.toString()).toBe('held');
    await partialHead.write('st: x\r\n\r\n');
    expect((await readResponse(partialHead)).body.toString()).toBe('/partial');
  }, 10_000);

  // RFC 9112 §9.6: the server closes after a `Connection: close` response. A client that never
  // closes its side (half-open) must not keep the connection forever: the idle timeout ends it.
  it('does not keep a Connection: close connection forever when the client stays half-open', async () => {
    const srv = await startH1Server((_req, res) => res.end('bye'), { idleTimeoutMs: 300 });
    const client = trackClient(net.connect({ port: srv.port, host: '127.0.0.1', allowHalfOpen: true }));
    client.on('error', () => {});
    let received = '';
    client.on('data', (c: Buffer) => (received += c.toString()));
    client.write(head('GET / HTTP/1.1', 'Host: x', 'Connection: close'));
    await once(client, 'end', 3000);
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n[^]*\r\n3\r\nbye\r\n0\r\n\r\n$/);
    const serverSocket = srv.sockets[0]!;
    if (!serverSocket.destroyed) await once(serverSocket, 'close', 5000);
  }, 10_000);

  it('does not keep a Connection: close connection forever while the client still sends a body nobody reads', async () => {
    const srv = await startH1Server((_req, res) => res.writeHead(413, { 'Content-Length': 0, Connection: 'close' }).end(), { idleTimeoutMs: 300 });
    const raw = trackClient(await openRaw(srv.port));
    const body = Buffer.alloc(16 * 1024 * 1024, 'u');
    void raw.write(Buffer.concat([Buffer.from(head('POST /upload HTTP/1.1', 'Host: x', `Content-Length: ${body.length}`)), body])).catch(() => {});
    const res = await readResponse(raw);
    expect(res.status).toBe(413);
    const serverSocket = srv.sockets[0]!;
    if (!serverSocket.destroyed) await once(serverSocket, 'close', 8000);
  }, 15_000);
});

describe('the request a handler sees', () => {
  it('has the IncomingMessage fields the proxy reads', async () => {
    const { srv, raw } = await serve(echo);
    await raw.write(head('POST /path?q=1 HTTP/1.1', 'Host: example.com', 'X-Dup: 1', 'x-dup: 2', 'Content-Length: 4', 'User-Agent: a', 'User-Agent: b', 'Set-Cookie: s=1', 'Set-Cookie: s=2') + 'body');
    expect((await readResponse(raw)).body.toString()).toBe('POST /path?q=1 body');
    const req = srv.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/path?q=1');
    expect([req.httpVersion, req.httpVersionMajor, req.httpVersionMinor]).toEqual(['1.1', 1, 1]);
    expect(req.rawHeaders).toEqual(['Host', 'example.com', 'X-Dup', '1', 'x-dup', '2', 'Content-Length', '4', 'User-Agent', 'a', 'User-Agent', 'b', 'Set-Cookie', 's=1', 'Set-Cookie', 's=2']);
    expect({ ...req.headers }).toEqual({ host: 'example.com', 'x-dup': '1, 2', 'content-length': '4', 'user-agent': 'a', 'set-cookie': ['s=1', 's=2'] });
    expect(req.complete).toBe(true);
    expect(req.socket).toBe(srv.sockets[0]);
  }, 10_000);

  it('gives HTTP/1.0 and the trailers of a chunked body', async () => {
    const { srv, raw } = await serve(echo);
    await raw.write(head('POST /t HTTP/1.0', 'Transfer-Encoding: chunked', 'Connection: keep-alive') + '3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n');
    expect((await readResponse(raw)).body.toString()).toBe('POST /t abc');
    const req = srv.requests[0]!;
    expect([req.httpVersion, req.httpVersionMinor]).toEqual(['1.0', 0]);
    expect(req.rawTrailers).toEqual(['X-Sum', '1', 'X-Other', '2']);
  }, 10_000);

  // Node joins repeated Cookie fields with "; " (RFC 6265 §5.4), not ", ": a proxy that reads
  // req.headers.cookie must see what Node's server gave it.
  it('joins repeated Cookie fields with "; " like Node', async () => {
    const { srv, raw } = await serve(echo);
    await raw.write(head('GET / HTTP/1.1', 'Host: x', 'Cookie: a=1', 'Cookie: b=2'));
    await readResponse(raw);
    expect(srv.requests[0]!.headers['cookie']).toBe('a=1; b=2');
  }, 10_000);

  it('streams a body with backpressure to a handler that reads slowly', async () => {
    const total = 4 * 1024 * 1024;
    const { raw } = await serve((req, res) => {
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        req.pause();
        setImmediate(() => req.resume());
      });
      req.on('end', () => res.end(String(size)));
    });
    await raw.write(Buffer.concat([Buffer.from(head('PUT / HTTP/1.1', 'Host: x', `Content-Length: ${total}`)), Buffer.alloc(total, 'z')]));
    expect((await readResponse(raw, { timeoutMs: 10_000 })).body.toString()).toBe(String(total));
  }, 20_000);
});
