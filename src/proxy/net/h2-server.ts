import http2 from 'node:http2';
import { Duplex } from 'node:stream';
import type net from 'node:net';
import type { ClientInfo } from '../core/flow.js';
import { parseAuthority } from '../core/authority.js';
import { ProxyError } from '../core/errors.js';
import { Exchange, type ExchangeEnv, type RequestTarget } from './exchange.js';
import { selfPage } from './self-page.js';
import type { TunnelTarget } from './socket-facts.js';
import { H2_SETTINGS, H2_WINDOW } from './upstream-h2.js';
import { serveReverse } from '../reverse/serve.js';

/** What the listener knew about a connection when it handed it to the HTTP/2 adapter. */
export interface SessionFacts {
  target: TunnelTarget | undefined;
  client: ClientInfo;
  tls: boolean;
}

export interface H2Adapter {
  /** Serve HTTP/2 on a connection (a TLS socket that negotiated h2, or a plain prior-knowledge one). */
  accept(socket: net.Socket | Duplex, facts: SessionFacts): void;
  close(): void;
}

/**
 * The HTTP/2 adapter: a non-listening `http2` server. Each stream becomes its own exchange, so a
 * slow or paused stream never holds up the others on the connection.
 */
export function createH2Adapter(env: ExchangeEnv, isSelf: (host: string, port: number) => boolean): H2Adapter {
  const facts = new WeakMap<http2.Http2Session, SessionFacts>();
  let pending: SessionFacts | null = null;
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer({ settings: H2_SETTINGS, maxSessionMemory: 64 });
  server.setTimeout(env.opts.clientIdleTimeoutMs);

  // 'session' fires synchronously inside emit('connection'), which is how the facts find it.
  server.on('session', (session) => {
    if (pending) facts.set(session, pending);
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.on('error', () => {
      /* the session closes; its streams' exchanges record what happened to them */
    });
    session.once('connect', () => session.setLocalWindowSize(H2_WINDOW));
  });
  server.on('sessionError', () => {
    /* reported on the session above; without a listener the server would throw */
  });

  server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    req.stream.on('error', () => {
      /* a reset stream ends its exchange through 'close' */
    });
    const f = facts.get(req.stream.session!);
    const path = req.headers[':path'] ?? '/';
    const reverse = env.deps.reverse;
    if (reverse) {
      // Reverse mode: every stream goes to a backend group, routed by its :authority.
      const client = f?.client ?? { address: '', port: 0, tlsVersion: null, sni: null, alpn: 'h2' };
      const host = req.headers[':authority'] ?? req.headers.host;
      serveReverse(env, reverse, req, res, { client, tls: f?.tls ?? false, host: host === undefined ? undefined : String(host), path, listenerPort: env.opts.port });
      return;
    }
    let target: RequestTarget | null = null;
    if (f?.target) {
      target = { scheme: f.tls ? 'https' : 'http', host: f.target.host, port: f.target.port, path };
    } else {
      // Prior-knowledge HTTP/2 sent to the proxy itself: the authority names the origin.
      const scheme = req.headers[':scheme'] === 'https' ? 'https' : 'http';
      const auth = parseAuthority(String(req.headers[':authority'] ?? ''), scheme === 'https' ? 443 : 80);
      if (auth && !isSelf(auth.host, auth.port)) target = { scheme, host: auth.host, port: auth.port, path };
    }
    const client = f?.client ?? { address: '', port: 0, tlsVersion: null, sni: null, alpn: 'h2' };
    if (!target) {
      const ex = new Exchange(env, req, res, { scheme: 'http', host: 'proxyctl', port: 0, path }, client);
      env.emitter.start(ex.flow);
      ex.respondLocally(selfPage(path, env.deps.certificates.certPem));
      return;
    }
    const ex = new Exchange(env, req, res, target, client);
    ex.run().catch((err: unknown) => ex.fail(err instanceof ProxyError ? err : new ProxyError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err })));
  });

  return {
    accept(socket, sessionFacts) {
      pending = sessionFacts;
      try {
        server.emit('connection', socket);
      } finally {
        pending = null;
      }
    },
    close() {
      for (const s of sessions) s.close();
    },
  };
}

/**
 * A duplex that replays bytes already read from a socket before the rest of it. Node's HTTP/2
 * session reads from the socket's native handle and would miss bytes put back with unshift()
 * (seen on Node 20), so a prior-knowledge connection, sniffed by reading its preface, goes
 * through this JS stream instead. It is the rare path; TLS connections never need it.
 */
export class PrependedStream extends Duplex {
  constructor(
    private readonly socket: net.Socket,
    head: Buffer,
  ) {
    super({ allowHalfOpen: false });
    this.push(head);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (err) => this.destroy(err));
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.socket.write(chunk, cb);
  }

  override _final(cb: () => void): void {
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
