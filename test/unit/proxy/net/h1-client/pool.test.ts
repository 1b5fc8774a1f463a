/**
 * The upstream HTTP/1.1 client's connections over real loopback sockets: keep-alive reuse per
 * origin (LIFO, bounded by maxIdlePerOrigin), when a connection must not be reused, the one retry
 * of a request whose reused connection turned out closed, the idle sweep, TLS session resumption,
 * adoption of the ALPN probe's socket, and dialling through a parent proxy.
 */
import http from 'node:http';
import net from 'node:net';
import { getDefaultHighWaterMark } from 'node:stream';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ParentProxy } from '../../../../../src/proxy/net/parent-proxy.js';
import { makeLookup } from '../../../../../src/proxy/net/upstream.js';
import { RawOrigin, closeAll, failure, httpOrigin, httpsOrigin, makeClient, onCleanup, response, send, spec, type RawConn } from '../../../../helpers/h1-client.js';
import { originCa } from '../../../../helpers/origin-certs.js';
import { waitFor, withTimeout } from '../../../../helpers/wait.js';

afterEach(closeAll);

const lookup = makeLookup(new Map([['*', '127.0.0.1']])) as unknown as net.LookupFunction;

describe('keep-alive reuse', () => {
  it('sends sequential requests to one origin over one connection (raw origin)', async () => {
    const origin = await RawOrigin.start((req, conn) => conn.reply(`#${req.index}`));
    const client = makeClient();
    const first = send(client, httpOrigin(origin.port), spec());
    expect((await response(first)).body).toBe('#1');
    const second = send(client, httpOrigin(origin.port), spec({ target: '/two' }));
    expect((await response(second)).body).toBe('#2');
    expect(origin.connections).toHaveLength(1);
    expect(second.sockets[0]).toBe(first.sockets[0]);
    // Dial marks belong to the request that made the connection only.
    expect(first.marks[0]?.connectAt).toEqual(expect.any(Number));
    expect(second.marks).toEqual([null]);
  });

  it('reuses one connection to Node’s own http server', async () => {
    let connections = 0;
    const server = http.createServer((req, res) => res.end(`hello ${req.url}`));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    onCleanup(() => server.closeAllConnections());
    const port = (server.address() as net.AddressInfo).port;
    const client = makeClient();
    for (const path of ['/a', '/b', '/c']) {
      expect(await response(send(client, httpOrigin(port), spec({ target: path, headers: [['Host', `127.0.0.1:${port}`]] })))).toMatchObject({ status: 200, body: `hello ${path}` });
    }
    expect(connections).toBe(1);
  });

  it('keeps origins apart', async () => {
    const a = await RawOrigin.start((_req, conn) => conn.reply('a'));
    const b = await RawOrigin.start((_req, conn) => conn.reply('b'));
    const client = makeClient();
    for (let i = 0; i < 2; i++) {
      expect((await response(send(client, httpOrigin(a.port), spec()))).body).toBe('a');
      expect((await response(send(client, httpOrigin(b.port), spec()))).body).toBe('b');
    }
    expect([a.connections.length, b.connections.length]).toEqual([1, 1]);
  });

  it.each([
    ['Connection: close', (conn: RawConn) => conn.reply('x', ['Connection: close'])],
    ['an HTTP/1.0 answer', (conn: RawConn) => conn.write('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx')],
    ['Transfer-Encoding with Content-Length', (conn: RawConn) => conn.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n')],
  ])('does not reuse a connection after %s, and closes it', async (_what, answer) => {
    const origin = await RawOrigin.start((_req, conn) => answer(conn));
    const client = makeClient();
    expect((await response(send(client, httpOrigin(origin.port), spec()))).body).toBe('x');
    await waitFor(() => origin.connections[0]?.closed, { message: 'the client to close the first connection' });
    await response(send(client, httpOrigin(origin.port), spec()));
    expect(origin.connections).toHaveLength(2);
  });

  it('reuses the connection after a HEAD and a 204', async () => {
    const origin = await RawOrigin.start((req, conn) => (req.method === 'HEAD' ? conn.write('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n') : conn.write('HTTP/1.1 204 No Content\r\n\r\n')));
    const client = makeClient();
    await response(send(client, httpOrigin(origin.port), spec({ method: 'HEAD' })));
    await response(send(client, httpOrigin(origin.port), spec({ method: 'DELETE' })));
    await response(send(client, httpOrigin(origin.port), spec({ method: 'HEAD' })));
    expect(origin.connections).toHaveLength(1);
    expect(origin.connections[0]!.requests.map((r) => r.method)).toEqual(['HEAD', 'DELETE', 'HEAD']);
  });

  it('returns a connection only once a streamed upload is written whole, even when the answer came first', async () => {
    const origin = await RawOrigin.start(() => {});
    // Answer as soon as the head is in (keep-alive), before the upload ends.
    origin.onHead = (req, conn) => conn.reply(`early ${req.index}`);
    const client = makeClient();
    const upload = send(client, httpOrigin(origin.port), spec({ method: 'POST', headers: [['Content-Length', '6']], body: 'stream', retryable: false }));
    upload.req.bodyWriter().write('abc');
    expect((await response(upload)).body).toBe('early 1');
    // Meanwhile another request must not get this connection: its upload is still going on.
    const other = send(client, httpOrigin(origin.port), spec());
    expect((await response(other)).body).toBe('early 1');
    expect(origin.connections).toHaveLength(2);
    upload.req.bodyWriter().end('def');
    await waitFor(() => origin.connections[0]!.requests.length === 1, { message: 'the upload to arrive whole' });
    expect(origin.connections[0]!.requests[0]!.body.toString()).toBe('abcdef');
    // Now both connections are idle; LIFO hands out the one returned last (the upload's).
    await new Promise((r) => setImmediate(r));
    const third = send(client, httpOrigin(origin.port), spec());
    expect((await response(third)).body).toBe('early 2');
    expect(third.sockets[0]).toBe(upload.sockets[0]);
  });

  it('hands out the most recently returned idle connection first (LIFO)', async () => {
    const held: RawConn[] = [];
    const origin = await RawOrigin.start((req, conn) => (req.index === 1 ? held.push(conn) : conn.reply('again')));
    const client = makeClient();
    const a = send(client, httpOrigin(origin.port), spec());
    const b = send(client, httpOrigin(origin.port), spec());
    await waitFor(() => held.length === 2, { message: 'both requests at the origin' });
    held[0]!.reply('first');
    await response(held[0]!.socket.remotePort === a.sockets[0]!.localPort ? a : b);
    held[1]!.reply('second');
    await Promise.all([response(a), response(b)]);
    const c = send(client, httpOrigin(origin.port), spec());
    await response(c);
    expect(c.sockets[0]!.localPort).toBe(held[1]!.socket.remotePort);
  });
});

describe('maxIdlePerOrigin', () => {
  it('keeps at most that many idle connections and closes the rest', async () => {
    const held: RawConn[] = [];
    const origin = await RawOrigin.start((req, conn) => (req.index === 1 ? held.push(conn) : conn.reply('reused')));
    const client = makeClient({ maxIdlePerOrigin: 1 });
    const sends = [0, 1, 2].map(() => send(client, httpOrigin(origin.port), spec()));
    await waitFor(() => held.length === 3, { message: 'three concurrent requests at the origin' });
    for (const conn of held) conn.reply('first');
    await Promise.all(sends.map((s) => response(s)));
    await waitFor(() => origin.open === 1, { message: 'two of three connections closed' });
    expect((await response(send(client, httpOrigin(origin.port), spec()))).body).toBe('reused');
    expect(origin.connections).toHaveLength(3);
  });

  it('keeps none with 0', async () => {
    const origin = await RawOrigin.start();
    const client = makeClient({ maxIdlePerOrigin: 0 });
    await response(send(client, httpOrigin(origin.port), spec()));
    await response(send(client, httpOrigin(origin.port), spec()));
    expect(origin.connections).toHaveLength(2);
    await waitFor(() => origin.open === 0, { message: 'every connection closed' });
  });
});

describe('a reused connection found closed', () => {
  /** Answers the first request on each connection; drops the connection when a second one comes. */
  const dropSecond = (req: { index: number }, conn: RawConn) => (req.index === 1 ? conn.reply('fresh') : conn.socket.destroy());

  it('sends an idempotent request again once, on a fresh connection', async () => {
    const origin = await RawOrigin.start((req, conn) => (req.index === 1 ? conn.reply(`served on #${origin.connections.indexOf(conn) + 1}`) : conn.socket.destroy()));
    const client = makeClient();
    await response(send(client, httpOrigin(origin.port), spec()));
    const again = send(client, httpOrigin(origin.port), spec({ target: '/again' }));
    expect((await response(again)).body).toBe('served on #2');
    expect(again.log).toEqual(['connected', 'connected', 'head 200', 'ended']);
    // The origin saw the request on the stale connection (and dropped it), then on the new one.
    expect(origin.connections.map((c) => c.requests.map((r) => r.target))).toEqual([['/', '/again'], ['/again']]);
  });

  it('sends a Buffer body again byte for byte when the request is retryable', async () => {
    const origin = await RawOrigin.start(dropSecond);
    const client = makeClient();
    await response(send(client, httpOrigin(origin.port), spec()));
    const body = Buffer.from('idempotent body');
    const put = send(client, httpOrigin(origin.port), spec({ method: 'PUT', headers: [['Content-Length', String(body.length)]], body }));
    await response(put);
    expect(origin.connections[1]!.requests[0]!.raw).toEqual(origin.connections[0]!.requests[1]!.raw);
    expect(origin.connections[1]!.requests[0]!.body.toString()).toBe('idempotent body');
  });

  it.each([
    ['a POST with a streamed body', spec({ method: 'POST', headers: [['Content-Length', '4']], body: 'stream', retryable: false })],
    ['a request marked not retryable', spec({ method: 'POST', headers: [['Content-Length', '2']], body: Buffer.from('hi'), retryable: false })],
  ])('does not send %s again: it fails in phase response', async (_what, s) => {
    const origin = await RawOrigin.start(dropSecond);
    const client = makeClient();
    await response(send(client, httpOrigin(origin.port), spec()));
    const sent = send(client, httpOrigin(origin.port), s);
    if (s.body === 'stream') sent.req.bodyWriter().end('data');
    const { err, phase } = await failure(sent);
    expect(phase).toBe('response');
    expect(['ECONNRESET', 'EPIPE']).toContain(err.code);
    expect(origin.connections).toHaveLength(1);
  });

  it('retries only once: a fresh connection that fails too ends the request', async () => {
    let served = 0;
    const origin = await RawOrigin.start((_req, conn) => (served++ === 0 ? conn.reply() : conn.socket.destroy()));
    const client = makeClient();
    await response(send(client, httpOrigin(origin.port), spec()));
    const { phase } = await failure(send(client, httpOrigin(origin.port), spec()));
    expect(phase).toBe('response');
    expect(origin.connections).toHaveLength(2);
  });

  it('gets the next GET through when the origin closes right after answering', async () => {
    const origin = await RawOrigin.start((_req, conn) => {
      conn.reply(`#${origin.connections.indexOf(conn) + 1}`);
      // Keep-alive was not refused, yet the origin hangs up (as idle-timeout-happy servers do).
      conn.socket.end();
    });
    const client = makeClient();
    expect((await response(send(client, httpOrigin(origin.port), spec()))).body).toBe('#1');
    expect((await response(send(client, httpOrigin(origin.port), spec()))).body).toBe('#2');
    expect((await response(send(client, httpOrigin(origin.port), spec()))).body).toBe('#3');
  });
});

describe('idle connections', () => {
  it('are closed by the sweep after idleTimeoutMs', async () => {
    const origin = await RawOrigin.start();
    const client = makeClient({ idleTimeoutMs: 200 });
    await response(send(client, httpOrigin(origin.port), spec()));
    await waitFor(() => origin.connections[0]!.closed, { timeoutMs: 5000, message: 'the idle connection to be swept' });
    await response(send(client, httpOrigin(origin.port), spec()));
    expect(origin.connections).toHaveLength(2);
  });

  it('stay reusable when a sweep ran while they were busy', async () => {
    // Another origin's idle connection keeps the sweeper running while the slow answer is pending.
    const other = await RawOrigin.start();
    const slowAnswers: RawConn[] = [];
    const origin = await RawOrigin.start((req, conn) => (req.target === '/slow' ? slowAnswers.push(conn) : conn.reply('fast')));
    const client = makeClient({ idleTimeoutMs: 2000 });
    await response(send(client, httpOrigin(other.port), spec()));
    const slow = send(client, httpOrigin(origin.port), spec({ target: '/slow' }));
    await waitFor(() => slowAnswers.length === 1, { message: 'the slow request at the origin' });
    // More than one sweep interval (idleTimeoutMs / 4 = 500 ms) passes while the connection is busy.
    await new Promise((r) => setTimeout(r, 1200));
    slowAnswers[0]!.reply('slow');
    await response(slow);
    expect((await response(send(client, httpOrigin(origin.port), spec()))).body).toBe('fast');
    expect(origin.connections).toHaveLength(1);
    // And destroying the client closes it.
    client.destroy();
    await waitFor(() => origin.open === 0, { message: 'the client to close every connection on destroy()' });
  }, 15_000);

  it('are closed by destroy()', async () => {
    const origin = await RawOrigin.start();
    const client = makeClient();
    await Promise.all([0, 1].map(() => response(send(client, httpOrigin(origin.port), spec()))));
    expect(origin.connections).toHaveLength(2);
    client.destroy();
    await waitFor(() => origin.open === 0, { message: 'every idle connection closed' });
  });

  it('are closed by the client when the origin sends bytes nobody asked for', async () => {
    const origin = await RawOrigin.start();
    const client = makeClient();
    await response(send(client, httpOrigin(origin.port), spec()));
    origin.connections[0]!.write('HTTP/1.1 200 OK\r\n\r\n');
    await waitFor(() => origin.connections[0]!.closed, { message: 'the unsolicited connection to be closed' });
    await response(send(client, httpOrigin(origin.port), spec()));
    expect(origin.connections).toHaveLength(2);
  });

  it('go back to the pool flowing after a body that was read late', async () => {
    // Just over what the body stream buffers before it pauses the socket, sent in one write: the
    // last bytes of the response are what pauses it.
    const big = 'z'.repeat(getDefaultHighWaterMark(false) + 1000);
    const origin = await RawOrigin.start((req, conn) => conn.reply(req.target === '/big' ? big : 'small'));
    const client = makeClient();
    const first = send(client, httpOrigin(origin.port), spec({ target: '/big' }), { read: 'manual' });
    const { body } = await withTimeout(first.head, 5000, 'the head');
    // The whole response arrives before anyone reads it (the socket is paused on the way).
    await withTimeout(first.ended, 5000, 'the end of the response');
    let got = 0;
    body.on('data', (c: Buffer) => (got += c.length));
    await waitFor(() => body.readableEnded, { message: 'the body read to its end' });
    expect(got).toBe(big.length);
    const second = send(client, httpOrigin(origin.port), spec());
    expect((await response(second, 3000)).body).toBe('small');
    expect(origin.connections).toHaveLength(1);
  });
});

describe('TLS', () => {
  it('resumes the TLS session on the next connection to the same origin', async () => {
    const origin = await RawOrigin.start(undefined, { tls: true });
    const client = makeClient({ maxIdlePerOrigin: 0 });
    const first = send(client, httpsOrigin(origin.port), spec());
    await response(first);
    const second = send(client, httpsOrigin(origin.port), spec());
    await response(second);
    expect([...first.tlsResumed, ...second.tlsResumed]).toEqual([false, true]);
    expect(origin.connections.map((c) => c.sessionReused)).toEqual([false, true]);
  });

  it('reuses a kept-alive TLS connection', async () => {
    const origin = await RawOrigin.start(undefined, { tls: true });
    const client = makeClient();
    await response(send(client, httpsOrigin(origin.port), spec()));
    await response(send(client, httpsOrigin(origin.port), spec()));
    expect(origin.connections).toHaveLength(1);
  });

  it('sends no SNI for an IP literal and checks the IP address SAN instead', async () => {
    const origin = await RawOrigin.start(undefined, { tls: true });
    const client = makeClient();
    await response(send(client, httpsOrigin(origin.port, '127.0.0.1'), spec()));
    expect((origin.connections[0]!.socket as tls.TLSSocket).servername).toBeFalsy();
  });
});

describe('adopt()', () => {
  const probe = async (port: number): Promise<tls.TLSSocket> => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: [originCa.cert], ALPNProtocols: ['http/1.1'] });
    onCleanup(() => socket.destroy());
    await withTimeout(new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject)), 5000, 'the probe handshake');
    return socket;
  };

  it('serves the next request to that origin on the adopted socket, then pools it', async () => {
    const origin = await RawOrigin.start(undefined, { tls: true });
    const client = makeClient();
    const socket = await probe(origin.port);
    client.adopt('127.0.0.1', origin.port, socket);
    const first = send(client, httpsOrigin(origin.port), spec());
    await response(first);
    expect(first.sockets[0]).toBe(socket);
    expect(first.marks).toEqual([null]);
    await response(send(client, httpsOrigin(origin.port), spec()));
    expect(origin.connections).toHaveLength(1);
  });

  it('leaves the socket’s other listeners in place (Node’s TLS cleanup among them)', async () => {
    const origin = await RawOrigin.start(undefined, { tls: true });
    const client = makeClient();
    const socket = await probe(origin.port);
    const before = { close: socket.listeners('close'), error: socket.listeners('error') };
    client.adopt('127.0.0.1', origin.port, socket);
    await response(send(client, httpsOrigin(origin.port), spec()));
    for (const fn of before.close) expect(socket.listeners('close')).toContain(fn);
    for (const fn of before.error) expect(socket.listeners('error')).toContain(fn);
  });

  it('dials anew when the adopted socket was closed by the origin meanwhile', async () => {
    const origin = await RawOrigin.start(undefined, { tls: true });
    const client = makeClient();
    const socket = await probe(origin.port);
    client.adopt('127.0.0.1', origin.port, socket);
    await waitFor(() => origin.connections.length === 1, { message: 'the origin to accept the probe' });
    origin.connections[0]!.socket.destroy();
    await waitFor(() => socket.destroyed, { message: 'the adopted socket to see the close' });
    const sent = send(client, httpsOrigin(origin.port), spec());
    await response(sent);
    expect(sent.sockets[0]).not.toBe(socket);
    expect(origin.connections).toHaveLength(2);
  });

  it('replaces an earlier adopted socket for the same origin, and destroy() closes a parked one', async () => {
    const origin = await RawOrigin.start(undefined, { tls: true });
    const client = makeClient();
    const one = await probe(origin.port);
    const two = await probe(origin.port);
    client.adopt('127.0.0.1', origin.port, one);
    client.adopt('127.0.0.1', origin.port, two);
    expect(one.destroyed).toBe(true);
    expect(two.destroyed).toBe(false);
    client.destroy();
    expect(two.destroyed).toBe(true);
  });
});

describe('through a parent proxy', () => {
  it('sends plain HTTP for every origin to the parent, over its own pooled connection', async () => {
    const parentOrigin = await RawOrigin.start((req, conn) => conn.reply(`parent saw ${req.target}`));
    const parent = new ParentProxy(new URL(`http://127.0.0.1:${parentOrigin.port}`), { connectTimeoutMs: 5000, lookup });
    const client = makeClient({ parent });
    const a = send(client, { scheme: 'http', host: 'a.test', port: 80, servername: 'a.test' }, spec({ target: 'http://a.test/x', headers: [['Host', 'a.test']] }));
    expect((await response(a)).body).toBe('parent saw http://a.test/x');
    const b = send(client, { scheme: 'http', host: 'b.test', port: 8080, servername: 'b.test' }, spec({ target: 'http://b.test:8080/y', headers: [['Host', 'b.test:8080']] }));
    expect((await response(b)).body).toBe('parent saw http://b.test:8080/y');
    expect(parentOrigin.connections).toHaveLength(1);
  });

  it('tunnels https through CONNECT and verifies the origin inside, with tunnel and TLS marks', async () => {
    const origin = await RawOrigin.start((_req, conn) => conn.reply('through the tunnel'), { tls: true });
    const connects: string[] = [];
    const tunnels = new Set<net.Socket>();
    const parentServer = net.createServer((down) => {
      tunnels.add(down);
      down.on('error', () => down.destroy());
      down.once('data', (head: Buffer) => {
        const line = head.toString('latin1').split('\r\n')[0]!;
        connects.push(line);
        // Loopback only: whatever the CONNECT names, the tunnel goes to the test origin.
        const up = net.connect({ host: '127.0.0.1', port: origin.port }, () => {
          down.write('HTTP/1.1 200 Connection established\r\n\r\n');
          up.pipe(down);
          down.pipe(up);
        });
        tunnels.add(up);
        up.on('error', () => down.destroy());
        up.on('close', () => down.destroy());
        down.on('close', () => up.destroy());
      });
    });
    await new Promise<void>((resolve) => parentServer.listen(0, '127.0.0.1', () => resolve()));
    onCleanup(() => new Promise<void>((resolve) => parentServer.close(() => resolve())));
    onCleanup(() => tunnels.forEach((s) => s.destroy()));
    const parentPort = (parentServer.address() as net.AddressInfo).port;
    const parent = new ParentProxy(new URL(`http://127.0.0.1:${parentPort}`), { connectTimeoutMs: 5000, lookup });
    const client = makeClient({ parent });
    const sent = send(client, { scheme: 'https', host: 'origin.test', port: 443, servername: 'localhost' }, spec());
    expect((await response(sent)).body).toBe('through the tunnel');
    expect(connects).toEqual(['CONNECT origin.test:443 HTTP/1.1']);
    expect(sent.marks[0]?.connectAt).toEqual(expect.any(Number));
    expect(sent.marks[0]?.secureAt).toEqual(expect.any(Number));
    // The tunnelled TLS connection is pooled like any other.
    await response(send(client, { scheme: 'https', host: 'origin.test', port: 443, servername: 'localhost' }, spec()));
    expect(connects).toHaveLength(1);
  });
});
