/**
 * One request on the upstream HTTP/1.1 client over real loopback sockets: the exact bytes an
 * origin receives (fields, Buffer bodies, streamed bodies with a length or chunked with trailers),
 * what the handlers report for interim, complete, cut and malformed responses, connect failures,
 * response backpressure, and destroy() in the middle.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ResponseParseError } from '../../../../../src/proxy/net/h1-client/response-parser.js';
import { RawOrigin, closeAll, closedPort, failure, httpOrigin, httpsOrigin, makeClient, onCleanup, response, send, spec } from '../../../../helpers/h1-client.js';
import { waitFor, withTimeout } from '../../../../helpers/wait.js';

afterEach(closeAll);

describe('what the origin receives', () => {
  it('gets the request line and fields exactly as given, in order and case', async () => {
    const origin = await RawOrigin.start();
    const client = makeClient();
    const headers: Array<[string, string]> = [
      ['Host', 'origin.test:8080'],
      ['X-Case', 'MiXeD value'],
      ['x-dup', '1'],
      ['x-dup', '2'],
      ['X-Empty', ''],
    ];
    const sent = send(client, httpOrigin(origin.port), spec({ method: 'OPTIONS', target: '/p/a?q=1&r=%20', headers }));
    expect(await response(sent)).toMatchObject({ status: 200, body: 'ok' });
    expect(origin.requests[0]!.raw.toString('latin1')).toBe('OPTIONS /p/a?q=1&r=%20 HTTP/1.1\r\nHost: origin.test:8080\r\nX-Case: MiXeD value\r\nx-dup: 1\r\nx-dup: 2\r\nX-Empty: \r\n\r\n');
    expect(sent.log).toEqual(['connected', 'head 200', 'ended']);
  });

  it('sends a Buffer body right after the head', async () => {
    const origin = await RawOrigin.start((req, conn) => conn.reply(`got ${req.body.length}`));
    const client = makeClient();
    const body = Buffer.from([0, 1, 2, 255, 13, 10, 13, 10, 65]);
    const sent = send(client, httpOrigin(origin.port), spec({ method: 'POST', headers: [['Host', 'o.test'], ['Content-Length', String(body.length)]], body, retryable: false }));
    expect(await response(sent)).toMatchObject({ status: 200, body: 'got 9' });
    expect(origin.requests[0]!.raw).toEqual(Buffer.concat([Buffer.from('POST / HTTP/1.1\r\nHost: o.test\r\nContent-Length: 9\r\n\r\n'), body]));
  });

  it('streams a body with a Content-Length through bodyWriter(), holding writes made before the connection exists', async () => {
    const origin = await RawOrigin.start((req, conn) => conn.reply(req.body.toString()));
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec({ method: 'POST', headers: [['Host', 'o.test'], ['Content-Length', '11']], body: 'stream', retryable: false }));
    const writer = sent.req.bodyWriter();
    expect(sent.req.bodyWriter()).toBe(writer);
    // Not connected yet: this write is held until a connection is attached.
    expect(sent.sockets).toEqual([]);
    writer.write('hello ');
    await new Promise<void>((resolve) => sent.req.whenConnected(resolve));
    writer.end('world');
    expect(await response(sent)).toMatchObject({ status: 200, body: 'hello world' });
    expect(origin.requests[0]!.raw.toString('latin1')).toBe('POST / HTTP/1.1\r\nHost: o.test\r\nContent-Length: 11\r\n\r\nhello world');
  });

  it('frames a streamed body as chunks and sends valid trailers after the last one', async () => {
    const origin = await RawOrigin.start((req, conn) => conn.reply(req.body.toString()));
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec({ method: 'PUT', headers: [['Host', 'o.test'], ['Transfer-Encoding', 'chunked'], ['Trailer', 'X-Sum']], body: 'stream', chunked: true, retryable: false }));
    const writer = sent.req.bodyWriter();
    writer.write('abc');
    writer.write(Buffer.alloc(0));
    writer.write(Buffer.from('0123456789abcdefg'));
    writer.addTrailers([
      ['X-Sum', '42'],
      ['Bad Name', 'dropped'],
      ['X-Split', 'a\r\nInjected: 1'],
    ]);
    writer.end();
    expect(await response(sent)).toMatchObject({ status: 200, body: 'abc0123456789abcdefg' });
    expect(origin.requests[0]!.raw.toString('latin1')).toBe(
      'PUT / HTTP/1.1\r\nHost: o.test\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n11\r\n0123456789abcdefg\r\n0\r\nX-Sum: 42\r\n\r\n',
    );
  });

  it('ends a chunked body without trailers with the last chunk alone', async () => {
    const origin = await RawOrigin.start();
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec({ method: 'POST', headers: [['Transfer-Encoding', 'chunked']], body: 'stream', chunked: true, retryable: false }));
    sent.req.bodyWriter().end('xyz');
    await response(sent);
    expect(origin.requests[0]!.raw.toString('latin1')).toBe('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n');
  });

  it('delivers a chunked upload with trailers that Node’s own server decodes', async () => {
    let seen: { body: string; trailers: NodeJS.Dict<string> } | null = null;
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen = { body, trailers: req.trailers };
        res.end('thanks');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    onCleanup(() => server.closeAllConnections());
    const client = makeClient();
    const port = (server.address() as net.AddressInfo).port;
    const sent = send(client, httpOrigin(port), spec({ method: 'POST', target: '/upload', headers: [['Host', `127.0.0.1:${port}`], ['Transfer-Encoding', 'chunked']], body: 'stream', chunked: true, retryable: false }));
    const writer = sent.req.bodyWriter();
    writer.write('part one, ');
    writer.addTrailers([['X-Digest', 'sha-256=abc']]);
    writer.end('part two');
    expect(await response(sent)).toMatchObject({ status: 200, body: 'thanks' });
    expect(seen).toEqual({ body: 'part one, part two', trailers: { 'x-digest': 'sha-256=abc' } });
  });

  it.each([
    ['a CR LF in a value', ['X-Evil', 'a\r\nInjected: 1']],
    ['a bare LF in a value', ['X-Evil', 'a\nInjected: 1']],
    ['a NUL in a value', ['X-Evil', 'a\0b']],
    ['a space in a name', ['Bad Name', 'x']],
    ['a colon in a name', ['X:Y', 'x']],
    ['an empty name', ['', 'x']],
  ] as Array<[string, [string, string]]>)('throws ERR_INVALID_CHAR at request() for %s, and sends nothing', async (_what, field) => {
    const origin = await RawOrigin.start();
    const client = makeClient();
    expect(() => send(client, httpOrigin(origin.port), spec({ headers: [['Host', 'o.test'], field] }))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CHAR' }));
    // The client is still usable, and the refused request never reached the origin.
    await response(send(client, httpOrigin(origin.port), spec()));
    expect(origin.requests.map((r) => r.raw.toString('latin1'))).toEqual(['GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n']);
  });

  it.each([
    ['a request-target with CR LF', { target: '/a HTTP/1.1\r\nInjected: 1\r\nX:' }],
    ['a request-target with a space', { target: '/a b' }],
    ['a method that is not a token', { method: 'GET /x HTTP/1.1\r\nInjected: 1\r\n\r\nGET' }],
  ])('refuses %s at request() (Node’s http.request did), and sends nothing', async (_what, bad) => {
    const origin = await RawOrigin.start();
    const client = makeClient();
    expect(() => send(client, httpOrigin(origin.port), spec(bad))).toThrow();
    await response(send(client, httpOrigin(origin.port), spec()));
    expect(origin.requests.map((r) => r.raw.toString('latin1'))).toEqual(['GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n']);
  });
});

describe('what the handlers report', () => {
  it('reports 100 Continue and 103 Early Hints (with Link) before the final head', async () => {
    const origin = await RawOrigin.start((_req, conn) => {
      conn.write('HTTP/1.1 100 Continue\r\n\r\n');
      conn.write('HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload; as=style\r\n\r\n');
      conn.reply('final');
    });
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec());
    expect(await response(sent)).toMatchObject({ status: 200, body: 'final' });
    expect(sent.log).toEqual(['connected', 'info 100', 'info 103', 'head 200', 'ended']);
    expect(sent.informational[1]!.headers).toEqual([['Link', '</s.css>; rel=preload; as=style']]);
  });

  it('hands on the trailers of a chunked response when it ends', async () => {
    const origin = await RawOrigin.start((_req, conn) => conn.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nX-Checksum: 99\r\n\r\n'));
    const client = makeClient();
    expect(await response(send(client, httpOrigin(origin.port), spec()))).toEqual({
      status: 200,
      headers: [['Transfer-Encoding', 'chunked']],
      body: 'body',
      trailers: [['X-Checksum', '99']],
    });
  });

  it('ends a HEAD response at its head even with a Content-Length', async () => {
    const origin = await RawOrigin.start((_req, conn) => conn.write('HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n'));
    const client = makeClient();
    expect(await response(send(client, httpOrigin(origin.port), spec({ method: 'HEAD' })))).toMatchObject({ status: 200, body: '' });
  });

  it('reads a body delimited by the close to its end, without a failure', async () => {
    const origin = await RawOrigin.start((_req, conn) => {
      conn.write('HTTP/1.1 200 OK\r\n\r\nuntil ');
      setTimeout(() => conn.socket.end('the close'), 20);
    });
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec());
    expect(await response(sent)).toMatchObject({ status: 200, body: 'until the close' });
    expect(sent.log).toEqual(['connected', 'head 200', 'ended']);
  });

  it('fails in phase body when the origin closes in the middle of a Content-Length body', async () => {
    const origin = await RawOrigin.start((_req, conn) => {
      conn.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b');
      setTimeout(() => conn.socket.destroy(), 20);
    });
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec());
    const { err, phase } = await failure(sent);
    expect(phase).toBe('body');
    expect(err.code).toBe('ECONNRESET');
    expect(Buffer.concat(sent.chunks).toString()).toBe('only ten b');
    // The body stream reports the cut to its reader; the response never "ended".
    await waitFor(() => sent.log.includes('body error ECONNRESET'), { message: 'the body error' });
    expect(sent.log).not.toContain('ended');
  });

  it('fails in phase response when a fresh connection closes before any answer, without retrying', async () => {
    const origin = await RawOrigin.start((_req, conn) => conn.socket.destroy());
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec());
    const { err, phase } = await failure(sent);
    expect({ phase, code: err.code }).toEqual({ phase: 'response', code: 'ECONNRESET' });
    expect(origin.connections).toHaveLength(1);
  });

  it('fails in phase response with the parser’s code on a malformed status line, and drops the connection', async () => {
    const origin = await RawOrigin.start((_req, conn) => conn.write('HTTP/1.1 abc Nope\r\n\r\n'));
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec());
    const { err, phase } = await failure(sent);
    expect(phase).toBe('response');
    expect(err).toBeInstanceOf(ResponseParseError);
    expect(err.code).toBe('HPE_INVALID_STATUS');
    await waitFor(() => origin.connections[0]?.closed, { message: 'the origin to see the connection closed' });
  });

  it('fails in phase body on a malformed chunk after the head', async () => {
    const origin = await RawOrigin.start((_req, conn) => conn.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nxyz\r\n'));
    const client = makeClient();
    const { err, phase } = await failure(send(client, httpOrigin(origin.port), spec()));
    expect({ phase, code: err.code }).toEqual({ phase: 'body', code: 'HPE_INVALID_CHUNK_SIZE' });
  });

  it('reports the complete answer of an origin that replies early and closes, without a failure after it', async () => {
    // A 413 before the upload was read, then the close (RFC 9112 §9.6): the response is whole.
    const origin = await RawOrigin.start(() => {});
    origin.onHead = (_req, conn) => {
      conn.write('HTTP/1.1 413 Content Too Large\r\nContent-Length: 5\r\nConnection: close\r\n\r\nnope!');
      conn.socket.end();
    };
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec({ method: 'POST', headers: [['Content-Length', '1000000']], body: 'stream', retryable: false }));
    sent.req.bodyWriter().write(Buffer.alloc(1000, 'u'));
    expect(await response(sent)).toMatchObject({ status: 413, body: 'nope!' });
    await waitFor(() => sent.sockets[0]?.destroyed, { message: 'the client socket to close' });
    await new Promise((r) => setImmediate(r));
    expect(sent.log).toEqual(['connected', 'head 413', 'ended']);
  });
});

describe('connecting', () => {
  it('fails in phase connect when the port is closed (ECONNREFUSED)', async () => {
    const client = makeClient();
    const sent = send(client, httpOrigin(await closedPort()), spec());
    const { err, phase } = await failure(sent);
    expect({ phase, code: err.code }).toEqual({ phase: 'connect', code: 'ECONNREFUSED' });
    expect(sent.log).toEqual(['failed connect ECONNREFUSED']);
  });

  it('times out in phase connect when the TLS handshake never completes (UPSTREAM_TIMEOUT)', async () => {
    // Accepts TCP, never says a word: the connect budget covers the handshake.
    const silent = await RawOrigin.start(() => {});
    const client = makeClient({ connectTimeoutMs: 150 });
    const { err, phase } = await failure(send(client, httpsOrigin(silent.port), spec()));
    expect({ phase, code: err.code }).toEqual({ phase: 'connect', code: 'UPSTREAM_TIMEOUT' });
    await waitFor(() => silent.connections[0]?.closed, { message: 'the half-made connection to be closed' });
  });

  it('fails in phase connect when the origin certificate is not trusted', async () => {
    const origin = await RawOrigin.start(undefined, { tls: true });
    const client = makeClient({ ca: null });
    const { err, phase } = await failure(send(client, httpsOrigin(origin.port), spec()));
    expect(phase).toBe('connect');
    expect(err.code).toMatch(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
  });

  it('verifies the certificate against the servername, and records connect and TLS marks', async () => {
    const origin = await RawOrigin.start(undefined, { tls: true });
    const client = makeClient();
    const ok = send(client, httpsOrigin(origin.port, 'localhost'), spec());
    expect(await response(ok)).toMatchObject({ status: 200, body: 'ok' });
    expect(ok.marks[0]?.connectAt).toEqual(expect.any(Number));
    expect(ok.marks[0]?.secureAt).toBeGreaterThanOrEqual(ok.marks[0]!.connectAt!);
    expect((origin.connections[0]!.socket as import('node:tls').TLSSocket).servername).toBe('localhost');
    const wrong = send(client, httpsOrigin(origin.port, 'elsewhere.test'), spec());
    const { err, phase } = await failure(wrong);
    expect({ phase, code: err.code }).toEqual({ phase: 'connect', code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });
});

describe('response backpressure', () => {
  it('pauses the socket while the body is not read, so the response is not buffered whole', async () => {
    const total = 64 * 1024 * 1024;
    const piece = Buffer.alloc(64 * 1024, 'b');
    let written = 0;
    const origin = await RawOrigin.start((_req, conn) => {
      conn.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
      const pump = () => {
        while (written < total && !conn.socket.destroyed) {
          written += piece.length;
          if (!conn.socket.write(piece)) {
            conn.socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec(), { read: 'manual' });
    const { body, socket } = await withTimeout(sent.head, 5000, 'the head');
    await waitFor(() => socket.isPaused(), { message: 'the upstream socket to be paused' });
    // Wait until the origin cannot write more (its kernel buffers are full too).
    let last = -1;
    await waitFor(
      () => {
        const stalled = written === last;
        last = written;
        return stalled;
      },
      { intervalMs: 200, timeoutMs: 10_000, message: 'the origin to stall' },
    );
    expect(written).toBeLessThan(total);
    expect(body.readableLength + socket.readableLength).toBeLessThan(1024 * 1024);
    // Reading resumes the flow, and every byte arrives.
    let got = 0;
    body.on('data', (c: Buffer) => (got += c.length));
    await withTimeout(sent.ended, 20_000, 'the whole body');
    await waitFor(() => body.readableEnded, { message: 'the body end' });
    expect(got).toBe(total);
  }, 30_000);
});

describe('destroy()', () => {
  it('in the middle of a response closes the connection, cuts the body and reports nothing more', async () => {
    const origin = await RawOrigin.start((req, conn) => {
      if (req.target === '/slow') conn.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst bytes');
      else conn.reply();
    });
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec({ target: '/slow' }), { read: 'manual' });
    const { body } = await withTimeout(sent.head, 5000, 'the head');
    const closed = new Promise<void>((resolve) => body.once('close', () => resolve()));
    sent.req.destroy();
    await withTimeout(closed, 2000, 'the body to close');
    expect(body.destroyed).toBe(true);
    await waitFor(() => origin.connections[0]?.closed, { message: 'the origin to see the connection closed' });
    // The connection was not pooled: the next request dials anew.
    const next = send(client, httpOrigin(origin.port), spec());
    await response(next);
    expect(origin.connections).toHaveLength(2);
    expect(sent.log).toEqual(['connected', 'head 200']);
  });

  it('before a connection exists sends nothing and reports nothing', async () => {
    const origin = await RawOrigin.start();
    const client = makeClient();
    const sent = send(client, httpOrigin(origin.port), spec());
    sent.req.destroy();
    await waitFor(() => origin.connections[0]?.closed, { message: 'the dialled connection to be closed unused' });
    expect(origin.connections[0]!.received.length).toBe(0);
    expect(sent.log).toEqual([]);
  });
});
