/**
 * The benchmark's origin servers, run as a child process of the bench (so their CPU does not land on
 * the load generator's event loop). Started by origins.ts with an IPC channel.
 *
 * - HTTP/1.1 on 127.0.0.1 (plain), and HTTPS on 127.0.0.1 offering h2 and http/1.1 by ALPN, with
 *   the origin test certificate from fixtures/origin (SAN localhost, origin.test, *.origin.test).
 * - `/small`: 1 KiB, `/large`: 1 MiB (both pre-built buffers with a content-length), `/huge`: 512 MiB
 *   written with backpressure (for the slow-client scenario); anything else is 404.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { HUGE_BYTES, LARGE_BYTES, SMALL_BYTES, type OriginMessage, type OriginRequest } from './origin-protocol.js';

const small = Buffer.alloc(SMALL_BYTES, 's');
const large = Buffer.alloc(LARGE_BYTES, 'l');
const hugeChunk = Buffer.alloc(64 * 1024, 'h');
let hugeBytesWritten = 0;
let hugeResponsesClosed = 0;

type Res = http.ServerResponse | http2.Http2ServerResponse;

function sendFixed(res: Res, body: Buffer): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
  res.end(body);
}

/** 512 MiB in 64 KiB writes, each waiting for 'drain' when the socket (or stream) is full. */
function sendHuge(res: Res): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(HUGE_BYTES) });
  let left = HUGE_BYTES;
  let closed = false;
  res.once('close', () => {
    closed = true;
    hugeResponsesClosed++;
  });
  const pump = (): void => {
    while (left > 0 && !closed) {
      const n = Math.min(left, hugeChunk.length);
      left -= n;
      hugeBytesWritten += n;
      // Both response types accept a Buffer; the union's overloads do not line up for TypeScript.
      const more = (res as http.ServerResponse).write(n === hugeChunk.length ? hugeChunk : hugeChunk.subarray(0, n));
      if (!more) {
        res.once('drain', pump);
        return;
      }
    }
    if (!closed) res.end();
  };
  pump();
}

function handle(req: http.IncomingMessage | http2.Http2ServerRequest, res: Res): void {
  const url = req.url ?? '/';
  if (url.startsWith('/small')) sendFixed(res, small);
  else if (url.startsWith('/large')) sendFixed(res, large);
  else if (url.startsWith('/huge')) sendHuge(res);
  else {
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': '10' });
    res.end('not found\n');
  }
}

function listen(server: http.Server | http2.Http2SecureServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

async function main(): Promise<void> {
  const dir = fileURLToPath(new URL('../fixtures/origin/', import.meta.url));
  const plain = http.createServer({ keepAliveTimeout: 300_000, headersTimeout: 60_000, requestTimeout: 0 }, handle);
  // Idle keep-alive connections must outlive a scenario's pauses (Node's default is 5 s).
  plain.keepAliveTimeout = 300_000;
  plain.maxRequestsPerSocket = 0;
  const secure = http2.createSecureServer(
    {
      key: readFileSync(`${dir}valid.key`),
      cert: readFileSync(`${dir}valid.pem`),
      allowHTTP1: true,
      ALPNProtocols: ['h2', 'http/1.1'],
      // Many concurrent streams per session: the proxy multiplexes its upstream h2 sessions.
      settings: { maxConcurrentStreams: 1000, initialWindowSize: 4 * 1024 * 1024 },
    },
    handle,
  );
  (secure as unknown as { keepAliveTimeout: number }).keepAliveTimeout = 300_000;
  secure.on('session', (session) => {
    session.on('error', () => {
      // A client went away mid-stream; nothing to record in a benchmark origin.
    });
  });
  const errorless = (s: { on(e: 'error', f: () => void): unknown }) =>
    s.on('error', () => {
      // Reset or aborted client sockets are normal when a window ends.
    });
  plain.on('connection', errorless);
  secure.on('secureConnection', errorless);
  plain.on('clientError', (_e, socket) => socket.destroy());
  const [httpPort, httpsPort] = await Promise.all([listen(plain), listen(secure)]);
  const send = (m: OriginMessage) => process.send?.(m);
  process.on('message', (m: OriginRequest) => {
    if (m.type === 'stats') send({ type: 'stats', hugeBytesWritten, hugeResponsesClosed });
  });
  // The bench went away (killed, crashed): do not linger.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', httpPort, httpsPort });
}

await main();
