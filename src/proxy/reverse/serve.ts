import type { H1IncomingRequest } from '../net/h1-server/incoming.js';
import type net from 'node:net';
import { hostHeader, parseAbsoluteTarget, parseAuthority } from '../core/authority.js';
import { ProxyError } from '../core/errors.js';
import type { ClientInfo } from '../core/flow.js';
import type { ClientRequest, ClientResponse } from '../net/client-side.js';
import { Exchange, type ExchangeEnv, type RequestTarget } from '../net/exchange.js';
import { clientInfoOf } from '../net/client-info.js';
import { closingResponse } from '../net/raw-response.js';
import { handleUpgrade } from '../net/websocket.js';
import type { ReversePool } from './pool.js';
import { ReverseExchange } from './reverse-exchange.js';

/** What the adapters know about a request when they hand it to reverse mode. */
export interface ReverseRequestFacts {
  client: ClientInfo;
  /** The client spoke TLS to the listener (X-Forwarded-Proto). */
  tls: boolean;
  /** The client's Host / :authority (or an absolute-form target's authority). */
  host: string | undefined;
  /** Path and query as the client sent them. */
  path: string;
  /** The listener's port (the flow's port when the proxy answers itself). */
  listenerPort: number;
}

/**
 * One request in reverse mode: routed and sent to a backend through an ordinary exchange (rules,
 * breakpoints, recording as for any flow; the flow's server is the backend, its Host the
 * client's), or answered here when no backend can take it.
 */
export function serveReverse(env: ExchangeEnv, pool: ReversePool, req: ClientRequest, res: ClientResponse, facts: ReverseRequestFacts): void {
  const decision = pool.decide(facts.host, facts.path, facts.client.address);
  if (decision.kind === 'answer') {
    const ex = new Exchange(env, req, res, clientTarget(facts), facts.client);
    ex.flow.tags.push(decision.tag);
    env.emitter.start(ex.flow);
    ex.respondLocally(decision.response);
    return;
  }
  const ex = new ReverseExchange(env, req, res, decision.lease, facts.client, { clientAddress: facts.client.address, tls: facts.tls, clientHost: facts.host ?? null });
  ex.run().catch((err: unknown) => ex.fail(err instanceof ProxyError ? err : new ProxyError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err })));
}

/**
 * An HTTP/1.1 Upgrade (WebSocket) in reverse mode: relayed to the chosen backend with the same
 * header policy; the backend counts it in flight until the connection closes. No retry: the relay
 * owns the connection attempt.
 */
export function upgradeReverse(env: ExchangeEnv, pool: ReversePool, req: H1IncomingRequest, socket: net.Socket, head: Buffer, facts: ReverseRequestFacts): void {
  const decision = pool.decide(facts.host, facts.path, facts.client.address);
  if (decision.kind === 'answer') {
    const r = decision.response;
    socket.end(closingResponse(r.status, r.headers, r.body));
    return;
  }
  const lease = decision.lease;
  socket.once('close', () => lease.release());
  // The relay reads the request's fields: give it the ones the backend should get.
  req.headerPairs = lease.requestHeaders(req.headerPairs, { clientAddress: facts.client.address, tls: facts.tls, clientHost: facts.host ?? null });
  handleUpgrade(env, req, socket, head, lease.target(), facts.client);
}

/** The facts of an HTTP/1.x request (an absolute-form target's authority counts as its Host). */
export function h1ReverseFacts(req: H1IncomingRequest, listenerPort: number): ReverseRequestFacts {
  const url = req.url ?? '/';
  const abs = parseAbsoluteTarget(url);
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
  return {
    client: clientInfoOf(req.socket),
    tls,
    host: abs ? hostHeader(abs.scheme, abs.host, abs.port) : req.headers.host,
    path: abs ? abs.path : url,
    listenerPort,
  };
}

/** The flow target of a request the proxy answers itself: what the client asked for. */
function clientTarget(facts: ReverseRequestFacts): RequestTarget {
  const scheme = facts.tls ? 'https' : 'http';
  const auth = facts.host ? parseAuthority(facts.host, scheme === 'https' ? 443 : 80) : null;
  return { scheme, host: auth?.host ?? 'proxyctl', port: auth?.port ?? facts.listenerPort, path: facts.path.startsWith('/') ? facts.path : `/${facts.path}` };
}
