import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { isIpLiteral } from '../../core/authority.js';
import { ProxyError } from '../../core/errors.js';
import type { ParentProxy } from '../parent-proxy.js';
import { UpstreamConnection, type DialMarks } from './connection.js';
import { originTrust } from '../origin-trust.js';
import { UpstreamH1Request, type ConnectionSource, type H1RequestHandlers, type H1RequestSpec } from './request.js';

/** Where a request goes: the origin, and the name its certificate must carry (https). */
export interface H1Origin {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** SNI and certificate name for https (not sent for an IP literal). */
  servername: string;
}

export interface H1ClientOptions {
  lookup: net.LookupFunction;
  connectTimeoutMs: number;
  maxHeaderBytes: number;
  maxIdlePerOrigin: number;
  /** Idle connections are closed after this long. */
  idleTimeoutMs: number;
  rejectUnauthorized: boolean;
  ca: string[] | null;
  /** Upstream mode: plain HTTP goes to it in absolute form, https through a tunnel. */
  parent: ParentProxy | null;
}

/** An adopted connection waits this long for its request before it is closed. */
const PARKED_MS = 5000;
/** TLS sessions remembered for resumption (by origin). */
const TLS_SESSIONS = 256;

/**
 * The proxy's own HTTP/1.1 client: keep-alive connections per origin (LIFO, so a few stay warm
 * and the rest time out), each carrying one request at a time, parsed by our own response parser.
 * Node's `http.request` with an Agent costs several times more CPU per request on the proxy's
 * hot path (bench/README: profiles of the plain scenario); this does only what a forward proxy
 * needs. TLS sessions are resumed across connections to the same origin.
 */
export class H1Client {
  private readonly origins = new Map<string, OriginPool>();
  private readonly parked = new Map<string, { socket: tls.TLSSocket; timer: NodeJS.Timeout; onError: () => void; onClose: () => void }>();
  private readonly sessions = new Map<string, Buffer>();
  private sweeper: NodeJS.Timeout | null = null;
  private idleCount = 0;
  private destroyed = false;
  constructor(readonly opts: H1ClientOptions) {}

  /** Send a request (throws ERR_INVALID_CHAR on a field that could split the message). */
  request(origin: H1Origin, spec: H1RequestSpec, handlers: H1RequestHandlers): UpstreamH1Request {
    const key = this.keyOf(origin);
    let pool = this.origins.get(key);
    if (!pool) {
      pool = new OriginPool(this, key, origin);
      this.origins.set(key, pool);
    }
    const req = new UpstreamH1Request(key, spec, handlers, pool);
    req.start();
    return req;
  }

  /**
   * Keep a TLS connection made elsewhere (the ALPN probe found an origin that speaks only
   * HTTP/1.1): the next request to that origin uses it instead of dialling again.
   */
  adopt(host: string, port: number, socket: tls.TLSSocket): void {
    const key = `${host}:${port}`;
    this.takeParked(key)?.destroy();
    const timer = setTimeout(() => this.takeParked(key)?.destroy(), PARKED_MS);
    timer.unref();
    // Nobody else listens while it waits here; an origin reset must not become an uncaught error.
    const onError = () => socket.destroy();
    const onClose = () => {
      if (this.parked.get(key)?.socket === socket) this.takeParked(key);
    };
    socket.on('error', onError);
    socket.on('close', onClose);
    this.parked.set(key, { socket, timer, onError, onClose });
  }

  takeParked(hostPort: string): tls.TLSSocket | null {
    const p = this.parked.get(hostPort);
    if (!p) return null;
    this.parked.delete(hostPort);
    clearTimeout(p.timer);
    p.socket.off('error', p.onError);
    p.socket.off('close', p.onClose);
    return p.socket;
  }

  destroy(): void {
    this.destroyed = true;
    for (const pool of this.origins.values()) pool.destroy();
    this.origins.clear();
    for (const key of [...this.parked.keys()]) this.takeParked(key)?.destroy();
    this.stopSweeper();
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }


  tlsSession(key: string): Buffer | undefined {
    return this.sessions.get(key);
  }

  rememberTlsSession(key: string, session: Buffer): void {
    this.sessions.delete(key);
    this.sessions.set(key, session);
    if (this.sessions.size > TLS_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
  }

  idleChanged(delta: number): void {
    this.idleCount += delta;
    if (this.idleCount > 0 && !this.sweeper) {
      const every = Math.max(100, Math.min(5000, Math.floor(this.opts.idleTimeoutMs / 4)));
      this.sweeper = setInterval(() => this.sweep(), every);
      this.sweeper.unref();
    } else if (this.idleCount === 0) this.stopSweeper();
  }

  private sweep(): void {
    const before = performance.now() - this.opts.idleTimeoutMs;
    for (const [key, pool] of this.origins) {
      pool.closeIdleSince(before);
      if (pool.empty) this.origins.delete(key);
    }
  }

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private keyOf(o: H1Origin): string {
    if (o.scheme === 'http') return this.opts.parent ? `parent ${this.opts.parent.label}` : `http ${o.host}:${o.port}`;
    return `https ${o.host}:${o.port} ${o.servername}`;
  }
}

/** The connections to one origin: the idle ones, and how to make a new one. */
class OriginPool implements ConnectionSource {
  private readonly idle: UpstreamConnection[] = [];
  private dialling = 0;
  /** Connections made by this pool and not gone yet (idle or busy). */
  private live = 0;

  constructor(
    private readonly client: H1Client,
    private readonly key: string,
    private readonly origin: H1Origin,
  ) {}

  get empty(): boolean {
    return this.live === 0 && this.dialling === 0;
  }

  acquire(request: UpstreamH1Request, fresh: boolean): void {
    if (!fresh) {
      while (this.idle.length) {
        const conn = this.idle.pop()!;
        this.client.idleChanged(-1);
        if (!conn.closed && !conn.socket.destroyed) {
          request.attach(conn);
          return;
        }
      }
    }
    if (this.origin.scheme === 'https') {
      const parked = this.client.takeParked(`${this.origin.host}:${this.origin.port}`);
      if (parked && !parked.destroyed) {
        request.attach(this.wrap(parked, null));
        return;
      }
    }
    this.dialling++;
    this.dial().then(
      ({ socket, marks }) => {
        this.dialling--;
        if (this.client.isDestroyed) {
          socket.destroy();
          request.connectFailed(new ProxyError('UPSTREAM_RESET', 'the proxy is shutting down'));
          return;
        }
        request.attach(this.wrap(socket, marks));
      },
      (err: Error) => {
        this.dialling--;
        request.connectFailed(err);
      },
    );
  }

  closeIdleSince(before: number): void {
    for (const conn of [...this.idle]) if (conn.idleSince < before) conn.destroy();
  }

  destroy(): void {
    for (const conn of [...this.idle]) conn.destroy();
  }

  private wrap(socket: net.Socket, marks: DialMarks | null): UpstreamConnection {
    const opts = this.client.opts;
    this.live++;
    return new UpstreamConnection(
      socket,
      this.key,
      opts.maxHeaderBytes,
      marks,
      (conn) => {
        if (this.idle.length >= opts.maxIdlePerOrigin || this.client.isDestroyed) {
          conn.destroy();
          return;
        }
        this.idle.push(conn);
        this.client.idleChanged(1);
      },
      (conn) => {
        this.live--;
        const i = this.idle.indexOf(conn);
        if (i >= 0) {
          this.idle.splice(i, 1);
          this.client.idleChanged(-1);
        }
      },
    );
  }

  /** A new connection: plain or TLS, directly or through the parent proxy. */
  private dial(): Promise<{ socket: net.Socket; marks: DialMarks }> {
    const opts = this.client.opts;
    const o = this.origin;
    const parent = opts.parent;
    if (o.scheme === 'https') {
      const tlsOptions: tls.ConnectionOptions = {
        ...(isIpLiteral(o.servername) ? {} : { servername: o.servername }),
        ALPNProtocols: ['http/1.1'],
        rejectUnauthorized: opts.rejectUnauthorized,
        secureContext: originTrust(opts.ca),
      };
      const session = this.client.tlsSession(this.key);
      if (session) tlsOptions.session = session;
      if (parent) {
        return parent.tunnelTls(o.host, o.port, tlsOptions).then((socket) => {
          socket.setNoDelay(true);
          this.remember(socket);
          const m = parent.takeMarks(socket);
          return { socket, marks: { connectAt: m?.tunnelAt ?? null, secureAt: m?.secureAt ?? null } };
        });
      }
      return this.connect(() => tls.connect({ host: o.host, port: o.port, ...tlsOptions, lookup: opts.lookup }), 'secureConnect');
    }
    const host = parent ? parent.host : o.host;
    const port = parent ? parent.port : o.port;
    return this.connect(() => net.connect({ host, port, lookup: opts.lookup }), 'connect');
  }

  private connect(make: () => net.Socket, readyEvent: 'connect' | 'secureConnect'): Promise<{ socket: net.Socket; marks: DialMarks }> {
    const opts = this.client.opts;
    return new Promise((resolve, reject) => {
      const marks: DialMarks = { connectAt: null, secureAt: null };
      const socket = make();
      socket.setNoDelay(true);
      if (readyEvent === 'secureConnect') this.remember(socket as tls.TLSSocket);
      const timer = setTimeout(() => socket.destroy(new ProxyError('UPSTREAM_TIMEOUT', `could not connect within ${opts.connectTimeoutMs} ms`)), opts.connectTimeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => (marks.connectAt = performance.now()));
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        if (readyEvent === 'secureConnect') marks.secureAt = performance.now();
        socket.off('error', onError);
        resolve({ socket, marks });
      });
    });
  }

  /** Keep the origin's TLS session for the next connection's resumption. */
  private remember(socket: tls.TLSSocket): void {
    socket.on('session', (session: Buffer) => this.client.rememberTlsSession(this.key, session));
  }
}
