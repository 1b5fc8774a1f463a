/**
 * How the proxy's own HTTP/1.x server meets clients that misbehave, over real loopback sockets:
 * malformed heads and bodies reported through clientError (llhttp's codes, the raw bytes), header
 * overflow, the headers timeout against a client that trickles its head, a client that goes away
 * mid-body, and a client that does not read (backpressure must stop the producer, not buffer).
 */
import net from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { H1IncomingRequest } from '../../../../../src/proxy/net/h1-server/incoming.js';
import type { H1ServerResponse } from '../../../../../src/proxy/net/h1-server/outgoing.js';
import { head, readResponse, serveWithClient, startH1Server, stopAllH1Servers, trackClient, type RequestHandler } from '../../../../helpers/h1-server.js';
import { once, waitFor } from '../../../../helpers/wait.js';

afterEach(stopAllH1Servers);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ok: RequestHandler = (req, res) => res.writeHead(200, { 'Content-Length': req.url!.length }).end(req.url);

const serve = serveWithClient;

describe('malformed requests', () => {
  it.each([
    ['an unsupported version', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 'HPE_INVALID_VERSION'],
    ['a TLS ClientHello on the plain port', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n', 'HPE_INVALID_METHOD'],
    ['a space in the target', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', 'HPE_INVALID_URL'],
    ['whitespace before a colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['conflicting Content-Length fields', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 'HPE_INVALID_CONTENT_LENGTH'],
    ['a Transfer-Encoding not ending in chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING'],
  ])('reports %s to clientError with its code and the raw bytes, and reads nothing more', async (_what, wire, code) => {
    const { srv, raw } = await serve(ok);
    const bytes = Buffer.from(wire, 'latin1');
    // A valid request after the bad one must not be answered: the stream cannot be trusted.
    await raw.write(Buffer.concat([bytes, Buffer.from(head('GET /after HTTP/1.1', 'Host: x'))]));
    const res = await readResponse(raw);
    expect(res.status).toBe(400);
    await raw.closed(3000);
    expect(srv.clientErrors).toHaveLength(1);
    const err = srv.clientErrors[0]!;
    expect(err.code).toBe(code);
    expect(err.rawPacket?.subarray(0, bytes.length).equals(bytes)).toBe(true);
    expect(srv.requests).toHaveLength(0);
  }, 10_000);

  it('reports a malformed request after a good one on the same connection, with only its own bytes', async () => {
    const { srv, raw } = await serve(ok);
    await raw.write(head('GET /good HTTP/1.1', 'Host: x'));
    expect((await readResponse(raw)).body.toString()).toBe('/good');
    await raw.write('BAD REQUEST LINE\r\n\r\n');
    expect((await readResponse(raw)).status).toBe(400);
    expect(srv.clientErrors.map((e) => [e.code, e.rawPacket?.toString()])).toEqual([['HPE_INVALID_VERSION', 'BAD REQUEST LINE\r\n\r\n']]);
  }, 10_000);

  it('reports a malformed chunked body to clientError; the request closes without an end', async () => {
    let request: H1IncomingRequest | undefined;
    const events: string[] = [];
    const { srv, raw } = await serve((req) => {
      request = req;
      req.on('data', () => events.push('data'));
      req.on('end', () => events.push('end'));
      req.on('close', () => events.push('close'));
    });
    await raw.write(head('POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '3\r\nabc\r\n');
    await waitFor(() => events.includes('data'), { timeoutMs: 3000 });
    await raw.write('zz\r\n');
    expect((await readResponse(raw)).status).toBe(400);
    expect(srv.clientErrors.map((e) => e.code)).toEqual(['HPE_INVALID_CHUNK_SIZE']);
    expect(srv.clientErrors[0]!.rawPacket?.toString()).toContain('zz');
    await waitFor(() => events.includes('close'), { timeoutMs: 3000 });
    expect(events).not.toContain('end');
    expect(request!.complete).toBe(false);
  }, 10_000);

  it('closes the connection when a body turns out malformed after the response head went out', async () => {
    const { srv, raw } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('started');
    });
    await raw.write(head('POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '3\r\nabc\r\n');
    await raw.readUntil('started');
    await raw.write('3\r\nabcX\r\n');
    await raw.closed(3000);
    expect(srv.clientErrors).toEqual([]);
  }, 10_000);
});

describe('header overflow', () => {
  const MAX = 1024;
  /** A complete head of exactly `size` bytes before its final CRLF CRLF. */
  const headOfSize = (size: number) => {
    const start = 'GET / HTTP/1.1\r\nX-Fill: ';
    return `${start}${'f'.repeat(size - start.length)}\r\n\r\n`;
  };

  it('takes a head of exactly maxHeaderBytes', async () => {
    const { srv, raw } = await serve(ok, { maxHeaderBytes: MAX });
    await raw.write(headOfSize(MAX));
    expect((await readResponse(raw)).status).toBe(200);
    expect(srv.clientErrors).toEqual([]);
  }, 10_000);

  it('reports a complete head one byte over the limit as HPE_HEADER_OVERFLOW', async () => {
    const { srv, raw } = await serve(ok, { maxHeaderBytes: MAX });
    const wire = headOfSize(MAX + 1);
    await raw.write(wire);
    expect((await readResponse(raw)).status).toBe(431);
    expect(srv.clientErrors.map((e) => e.code)).toEqual(['HPE_HEADER_OVERFLOW']);
    expect(srv.clientErrors[0]!.rawPacket?.toString()).toBe(wire);
    expect(srv.requests).toHaveLength(0);
  }, 10_000);

  it('reports a head that keeps growing past the limit without waiting for its end', async () => {
    const { srv, raw } = await serve(ok, { maxHeaderBytes: MAX });
    await raw.write('GET / HTTP/1.1\r\n');
    for (let i = 0; i < 40 && srv.clientErrors.length === 0; i++) {
      await raw.write(`X-Field-${i}: ${'v'.repeat(40)}\r\n`);
      await sleep(2);
    }
    expect((await readResponse(raw)).status).toBe(431);
    expect(srv.clientErrors.map((e) => e.code)).toEqual(['HPE_HEADER_OVERFLOW']);
    const raw431 = srv.clientErrors[0]!.rawPacket!;
    expect(raw431.length).toBeGreaterThan(MAX);
    expect(raw431.toString().startsWith('GET / HTTP/1.1\r\nX-Field-0: ')).toBe(true);
  }, 10_000);

  it('counts the limit per request on a keep-alive connection', async () => {
    const { srv, raw } = await serve(ok, { maxHeaderBytes: MAX });
    for (let i = 0; i < 3; i++) {
      await raw.write(headOfSize(MAX - 10));
      expect((await readResponse(raw)).status).toBe(200);
    }
    expect(srv.clientErrors).toEqual([]);
  }, 10_000);
});

describe('headers timeout', () => {
  it('reports ERR_HTTP_REQUEST_TIMEOUT for a client that trickles its head past headersTimeoutMs', async () => {
    const { srv, raw } = await serve(ok, { headersTimeoutMs: 400, idleTimeoutMs: 5000 });
    await raw.write('GET /slow HTTP/1.1\r\n');
    // Bytes keep coming (so the idle timeout never fires), but the head never ends in time.
    for (let i = 0; i < 100 && srv.clientErrors.length === 0; i++) {
      await raw.write(`X-${i}: v\r\n`);
      await sleep(50);
    }
    expect(srv.clientErrors.map((e) => e.code)).toEqual(['ERR_HTTP_REQUEST_TIMEOUT']);
    expect(srv.clientErrors[0]!.rawPacket?.toString()).toMatch(/^GET \/slow HTTP\/1\.1\r\nX-0: v\r\n/);
    expect((await readResponse(raw)).status).toBe(408);
    expect(srv.requests).toHaveLength(0);
  }, 15_000);

  it('serves a head that arrives in pieces within headersTimeoutMs, and the timer restarts per request', async () => {
    const { srv, raw } = await serve(ok, { headersTimeoutMs: 2000 });
    // Each head takes about 800 ms: three of them would be past the timeout if it did not restart.
    for (const path of ['/a', '/b', '/c']) {
      await raw.write(`GET ${path} HTTP/1.1\r\n`);
      await sleep(400);
      await raw.write('Host: x\r\n');
      await sleep(400);
      await raw.write('\r\n');
      expect((await readResponse(raw)).body.toString()).toBe(path);
    }
    expect(srv.clientErrors).toEqual([]);
  }, 15_000);

  it('does not apply to a slow body', async () => {
    const { srv, raw } = await serve((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
    }, { headersTimeoutMs: 200 });
    await raw.write(head('PUT / HTTP/1.1', 'Host: x', 'Content-Length: 10'));
    for (let i = 0; i < 10; i++) {
      await raw.write('x');
      await sleep(60);
    }
    expect((await readResponse(raw)).body.toString()).toBe('10');
    expect(srv.clientErrors).toEqual([]);
  }, 15_000);
});

describe('a client that goes away', () => {
  it('closes the request without an end, and the response, when the client closes mid-body', async () => {
    let req: H1IncomingRequest | undefined;
    let res: H1ServerResponse | undefined;
    const events: string[] = [];
    const { raw } = await serve((rq, rs) => {
      req = rq;
      res = rs;
      rq.on('data', () => events.push('req data'));
      rq.on('end', () => events.push('req end'));
      rq.on('close', () => events.push('req close'));
      rq.on('error', () => events.push('req error'));
      rs.on('finish', () => events.push('res finish'));
      rs.on('close', () => events.push('res close'));
    });
    await raw.write(head('POST / HTTP/1.1', 'Host: x', 'Content-Length: 1000') + 'only ten b');
    await waitFor(() => events.includes('req data'), { timeoutMs: 3000 });
    raw.close();
    await waitFor(() => events.includes('req close') && events.includes('res close'), { timeoutMs: 3000, message: `req and res close (events: ${events.join(', ')})` });
    expect(events).not.toContain('req end');
    expect(events).not.toContain('res finish');
    expect(req!.complete).toBe(false);
    expect(res!.writableFinished).toBe(false);
  }, 10_000);

  it('closes a pending response when the client closes before it is answered', async () => {
    let res: H1ServerResponse | undefined;
    const { raw } = await serve((_rq, rs) => (res = rs));
    await raw.write(head('GET / HTTP/1.1', 'Host: x'));
    await waitFor(() => res, { timeoutMs: 3000 });
    raw.close();
    await once(res!, 'close', 3000);
    // Writing to it afterwards is harmless (nothing thrown, nothing sent).
    expect(() => res!.end('late')).not.toThrow();
  }, 10_000);
});

describe('backpressure', () => {
  it('pauses a large stream piped to a client that does not read, and delivers all of it once it does', async () => {
    const total = 96 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let produced = 0;
    let source: Readable | undefined;
    let response: H1ServerResponse | undefined;
    const srv = await startH1Server((_req, res) => {
      response = res;
      source = new Readable({
        read() {
          if (produced >= total) this.push(null);
          else {
            produced += chunk.length;
            this.push(chunk);
          }
        },
      });
      res.writeHead(200, { 'Content-Length': total });
      source.pipe(res);
    });
    // A raw socket that does not read: no 'data' listener, so Node stops reading from the kernel.
    const client = trackClient(net.connect(srv.port, '127.0.0.1'));
    client.on('error', () => {});
    await once(client, 'connect', 3000);
    client.write(head('GET /big HTTP/1.1', 'Host: x'));
    // Wait until the producer stops (the same count for 500 ms).
    let last = -1;
    await waitFor(
      async () => {
        const now = produced;
        if (now === last && now > 0) return true;
        last = now;
        await sleep(500);
        return false;
      },
      { timeoutMs: 15_000, message: 'the producer to stop' },
    );
    expect(produced).toBeGreaterThan(0);
    expect(produced).toBeLessThan(total);
    // The bytes in flight are in the kernel's socket buffers, not in ours.
    expect(source!.isPaused()).toBe(true);
    expect(response!.writableLength).toBeLessThanOrEqual(chunk.length);
    expect(srv.sockets[0]!.writableLength).toBeLessThanOrEqual(2 * chunk.length);
    expect(produced).toBeLessThan(64 * 1024 * 1024);
    // Now read: everything arrives, exactly.
    let received = 0;
    let headSeen = false;
    client.on('data', (c: Buffer) => {
      if (!headSeen) {
        const end = c.indexOf('\r\n\r\n');
        expect(end).toBeGreaterThan(0);
        headSeen = true;
        received += c.length - end - 4;
      } else received += c.length;
    });
    await waitFor(() => received >= total, { timeoutMs: 20_000, message: 'the whole body' });
    expect(received).toBe(total);
    await waitFor(() => response!.writableFinished, { timeoutMs: 3000 });
  }, 45_000);
});
