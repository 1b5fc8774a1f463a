import http from 'node:http';
import type net from 'node:net';
import { captureWhole } from '../core/capture.js';
import { emptyBody, type ClientInfo, type HeaderPairs } from '../core/flow.js';
import type { ConnectDecision } from '../core/pipeline.js';
import { newHttpFlow, type ExchangeEnv } from './exchange.js';
import type { TunnelTarget } from './socket-facts.js';

/** How the refusal goes on the wire: an HTTP answer, or a SOCKS5 "not allowed" reply. */
export type RefusalWriter = (status: number, headers: HeaderPairs, body: Buffer, statusText: string) => void;

/**
 * A connect rule refused a tunnel (a block, or proxy auth): record it as a CONNECT flow, so a 407
 * or a block shows in the list, and answer with `write` (a `drop` decision closes the socket).
 * `headers` are the CONNECT's own, without credentials.
 */
export function recordRefusedConnect(
  env: ExchangeEnv,
  socket: net.Socket,
  client: ClientInfo,
  target: TunnelTarget,
  headers: HeaderPairs,
  decision: Exclude<ConnectDecision, { action: 'continue' }>,
  write: RefusalWriter,
): void {
  const flow = newHttpFlow(env, client, { method: 'CONNECT', scheme: 'https', host: target.host, port: target.port, path: '', httpVersion: '1.1', headers, trailers: null, body: emptyBody() });
  if (decision.tag) flow.tags.push(decision.tag);
  env.emitter.start(flow);
  if (decision.action === 'drop') {
    socket.destroy();
    env.emitter.end(flow);
    return;
  }
  const local = decision.response;
  const bytes = typeof local.body === 'string' ? Buffer.from(local.body) : local.body;
  const statusText = local.statusText ?? http.STATUS_CODES[local.status] ?? '';
  write(local.status, local.headers, bytes, statusText);
  flow.response = { status: local.status, statusText, httpVersion: '1.1', headers: local.headers, trailers: null, body: captureWhole(emptyBody(), bytes, env.opts.maxBodyBytes) };
  env.emitter.end(flow);
}
