import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { emptyBody, type ClientInfo, type Flow } from '../core/flow.js';
import { classifyUpstreamError, type ProxyError } from '../core/errors.js';
import type { ExchangeEnv } from './exchange.js';
import type { TunnelTarget } from './socket-facts.js';
import { makeLookup } from './upstream.js';

/**
 * How the client is told that its tunnel is open or why it is not: an HTTP answer to CONNECT, or
 * a SOCKS5 reply.
 */
export interface TunnelReplies {
  /** The origin is connected; `upstream` is the socket towards it. */
  established(client: net.Socket, upstream: net.Socket): void;
  /** The origin could not be reached; the connection is closed afterwards. */
  failed(client: net.Socket, err: ProxyError): void;
}

/** Answers to an HTTP CONNECT. */
export const connectReplies: TunnelReplies = {
  established: (client) => client.write('HTTP/1.1 200 Connection Established\r\n\r\n'),
  failed: (client, e) => {
    if (client.writable) client.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${e.code}: ${e.message}\n`);
  },
};

/**
 * A raw TCP tunnel for hosts the user chose not to intercept (`--ignore-hosts`): the client talks
 * to the origin directly (it sees the origin's own certificate) and the flow records only bytes.
 * The origin is dialled (through the parent proxy in upstream mode) before the client is told the
 * tunnel is open, so a failure is a proper 502 (or SOCKS error).
 */
export function openTunnel(env: ExchangeEnv, client: net.Socket, target: TunnelTarget, info: ClientInfo, head: Buffer, httpVersion: string, replies: TunnelReplies = connectReplies): void {
  const t0 = performance.now();
  const flow: Flow = {
    id: env.newId(),
    kind: 'tunnel',
    phase: 'waiting',
    client: info,
    server: { host: target.host, port: target.port, address: null, tlsVersion: null, alpn: null, certificate: null },
    request: { method: 'CONNECT', scheme: 'https', host: target.host, port: target.port, path: `${target.host}:${target.port}`, httpVersion: httpVersion === '1.0' ? '1.0' : '1.1', headers: [], trailers: null, body: emptyBody() },
    response: null,
    timings: { start: Date.now(), requestHeaders: 0, requestEnd: 0, upstreamConnect: null, upstreamTls: null, upstreamSent: null, firstByte: null, responseEnd: null },
    error: null,
    tags: ['ignored-host'],
    marked: false,
    websocket: null,
  };
  env.emitter.start(flow);
  let upstream: net.Socket | null = null;
  let up = 0;
  let down = 0;
  let done = false;
  const finish = (err?: ProxyError) => {
    if (done) return;
    done = true;
    flow.request.body.size = up;
    if (flow.response) flow.response.body.size = down;
    flow.timings.responseEnd = performance.now() - t0;
    if (err) {
      replies.failed(client, err);
      env.emitter.end(flow, err.toFlowError());
    } else env.emitter.end(flow);
    upstream?.destroy();
    if (!err || client.destroyed) {
      client.destroy();
      return;
    }
    // The refusal was written with end(): give it a moment to reach the client.
    const timer = setTimeout(() => client.destroy(), 1000);
    client.once('close', () => clearTimeout(timer));
  };
  client.on('error', () => finish());
  client.on('close', () => finish());
  const parent = env.pool.parent;
  const dialed = parent ? parent.tunnel(target.host, target.port) : dial(target, env);
  dialed.then(
    (socket) => {
      if (done) {
        socket.destroy(); // the client left while we dialled
        return;
      }
      upstream = socket;
      flow.timings.upstreamConnect = performance.now() - t0;
      // In upstream mode this is the parent's address: the peer this proxy actually talks to.
      flow.server.address = socket.remoteAddress ?? null;
      flow.phase = 'responding';
      flow.response = { status: 200, statusText: 'Connection Established', httpVersion: flow.request.httpVersion, headers: [], trailers: null, body: emptyBody() };
      env.emitter.update(flow);
      socket.on('error', () => finish());
      socket.on('close', () => finish());
      replies.established(client, socket);
      if (head.length) socket.write(head);
      client.on('data', (c: Buffer) => (up += c.length));
      socket.on('data', (c: Buffer) => (down += c.length));
      client.pipe(socket);
      socket.pipe(client);
    },
    (err: unknown) => finish(classifyUpstreamError(err)),
  );
}

/** A direct TCP connection to the origin, within the connect timeout. */
function dial(target: TunnelTarget, env: ExchangeEnv): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, lookup: makeLookup(env.opts.resolve) as unknown as net.LookupFunction });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), env.opts.connectTimeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
