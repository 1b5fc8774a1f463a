import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { emptyBody, type ClientInfo, type Flow } from '../core/flow.js';
import { classifyUpstreamError } from '../core/errors.js';
import type { ExchangeEnv } from './exchange.js';
import type { TunnelTarget } from './socket-facts.js';
import { makeLookup } from './upstream.js';

/**
 * A raw TCP tunnel for hosts the user chose not to intercept (`--ignore-hosts`): the client talks
 * to the origin directly (it sees the origin's own certificate) and the flow records only bytes.
 * The origin is dialled before the client gets `200`, so a failure is a proper 502.
 */
export function openTunnel(env: ExchangeEnv, client: net.Socket, target: TunnelTarget, info: ClientInfo, head: Buffer, httpVersion: string): void {
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
  const upstream = net.connect({ host: target.host, port: target.port, lookup: makeLookup(env.opts.resolve) as unknown as net.LookupFunction });
  const connectTimer = setTimeout(() => upstream.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), env.opts.connectTimeoutMs);
  let up = 0;
  let down = 0;
  let connected = false;
  const finish = (err?: unknown) => {
    clearTimeout(connectTimer);
    flow.request.body.size = up;
    if (flow.response) flow.response.body.size = down;
    flow.timings.responseEnd = performance.now() - t0;
    if (err && !connected) {
      const e = classifyUpstreamError(err);
      if (client.writable) client.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${e.code}: ${e.message}\n`);
      env.emitter.end(flow, e.toFlowError());
    } else env.emitter.end(flow);
    upstream.destroy();
    client.destroy();
  };
  upstream.on('connect', () => {
    connected = true;
    clearTimeout(connectTimer);
    flow.timings.upstreamConnect = performance.now() - t0;
    flow.server.address = upstream.remoteAddress ?? null;
    flow.phase = 'responding';
    flow.response = { status: 200, statusText: 'Connection Established', httpVersion: flow.request.httpVersion, headers: [], trailers: null, body: emptyBody() };
    env.emitter.update(flow);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    client.on('data', (c: Buffer) => (up += c.length));
    upstream.on('data', (c: Buffer) => (down += c.length));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  upstream.on('error', (err) => finish(err));
  client.on('error', () => finish());
  upstream.on('close', () => finish());
  client.on('close', () => finish());
}
