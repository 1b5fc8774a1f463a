import http2 from 'node:http2';
import tls from 'node:tls';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { isIpLiteral, hostHeader } from '../core/authority.js';
import type { ProxyOptions } from './options.js';
import { makeLookup } from './upstream.js';
import { parentProxyOf, type ParentProxy } from './parent-proxy.js';
import { originTrust } from './origin-trust.js';

/** Larger flow-control windows: the 64 KiB defaults make bulk transfers CPU-bound (DESIGN.md §11). */
export const H2_WINDOW = 16 * 1024 * 1024;
export const H2_SETTINGS: http2.Settings = { initialWindowSize: H2_WINDOW, maxConcurrentStreams: 1000, enablePush: false };

export type UpstreamRoute =
  | { protocol: 'h1'; socket?: tls.TLSSocket }
  | { protocol: 'h2'; session: http2.ClientHttp2Session };

/** When a new origin connection was up, as `performance.now()` values (null: not measured). */
export interface ConnectionMarks {
  connectAt: number | null;
  secureAt: number | null;
}

interface Probe {
  route: UpstreamRoute;
  marks: ConnectionMarks;
}

/**
 * Chooses the upstream protocol per HTTPS origin by ALPN (offering h2 and http/1.1) and keeps one
 * HTTP/2 session per origin for as long as it lives. Concurrent first requests share one probe.
 * An origin that picked http/1.1 is remembered, and the probing connection is handed to the
 * HTTP/1.1 pool so no connection is wasted.
 */
export class H2Sessions {
  private readonly protocol = new Map<string, 'h1'>();
  private readonly sessions = new Map<string, http2.ClientHttp2Session>();
  private readonly probes = new Map<string, Promise<Probe>>();
  private readonly lookup: net.LookupFunction;
  /** In upstream mode every origin connection is a tunnel through this parent proxy. */
  private readonly parent: ParentProxy | null;

  constructor(private readonly opts: ProxyOptions) {
    this.lookup = makeLookup(opts.resolve) as unknown as net.LookupFunction;
    this.parent = parentProxyOf(opts, this.lookup);
  }

  /**
   * The route for an origin: synchronous when known, otherwise a probe, made by this call or joined.
   * `onMarks` gets the new connection's marks when this call had to wait for one.
   */
  route(host: string, port: number, onMarks?: (m: ConnectionMarks) => void): UpstreamRoute | Promise<UpstreamRoute> {
    const key = `${host}:${port}`;
    if (this.protocol.get(key) === 'h1') return { protocol: 'h1' };
    const session = this.sessions.get(key);
    if (session && !session.closed && !session.destroyed) return { protocol: 'h2', session };
    let probe = this.probes.get(key);
    let joined = true;
    if (!probe) {
      joined = false;
      probe = this.probe(key, host, port).finally(() => this.probes.delete(key));
      this.probes.set(key, probe);
    }
    return probe.then((p) => {
      onMarks?.(p.marks);
      // Joined another call's probe: if it found HTTP/1.1, its socket is that call's; use the pool.
      return joined && p.route.protocol === 'h1' ? { protocol: 'h1' } : p.route;
    });
  }

  /**
   * Open the connection to an HTTPS origin ahead of its first request (a client is starting TLS in
   * a tunnel to it), so the request need not wait for TCP, TLS and HTTP/2 set-up after the
   * client's own handshake. Nothing happens when the origin's route is known or being found. A
   * probe that finds HTTP/1.1 hands its socket to `adopt` (the pool); failures are left to the
   * request, which probes again and reports what went wrong. True when a connection was started.
   */
  warm(host: string, port: number, adopt: (socket: tls.TLSSocket) => void): boolean {
    const key = `${host}:${port}`;
    if (this.protocol.has(key) || this.probes.has(key)) return false;
    const route = this.route(host, port);
    if (!(route instanceof Promise)) return false;
    route.then(
      (r) => {
        if (r.protocol === 'h1' && r.socket) adopt(r.socket);
      },
      () => {},
    );
    return true;
  }

  private async probe(key: string, host: string, port: number): Promise<Probe> {
    const { socket, marks } = await this.connect(host, port);
    if (socket.alpnProtocol !== 'h2') {
      this.protocol.set(key, 'h1');
      return { route: { protocol: 'h1', socket }, marks };
    }
    const session = http2.connect(`https://${hostHeader('https', host, port)}`, {
      createConnection: () => socket,
      settings: H2_SETTINGS,
      maxSessionMemory: 64,
    });
    session.on('error', () => {
      /* stream errors reach their exchanges; the session is dropped on 'close' */
    });
    const forget = () => {
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    };
    session.once('close', forget);
    session.once('goaway', forget);
    session.setLocalWindowSize(H2_WINDOW);
    // An idle session should not keep the process alive.
    session.unref();
    this.sessions.set(key, session);
    return { route: { protocol: 'h2', session }, marks };
  }

  /**
   * A TLS connection to the origin offering h2 and http/1.1, directly or (upstream mode) inside a
   * tunnel through the parent proxy. Either way the origin's certificate is verified here.
   */
  private connect(host: string, port: number): Promise<{ socket: tls.TLSSocket; marks: ConnectionMarks }> {
    const tlsOptions: tls.ConnectionOptions = {
      ...(isIpLiteral(host) ? {} : { servername: host }),
      ALPNProtocols: ['h2', 'http/1.1'],
      rejectUnauthorized: !this.opts.insecure,
      secureContext: originTrust(this.opts.upstreamCa),
    };
    if (this.parent) {
      const parent = this.parent;
      return parent.tunnelTls(host, port, tlsOptions).then((socket) => {
        socket.setNoDelay(true);
        const m = parent.takeMarks(socket);
        return { socket, marks: m ? { connectAt: m.tunnelAt, secureAt: m.secureAt ?? m.tunnelAt } : { connectAt: null, secureAt: null } };
      });
    }
    return new Promise((resolve, reject) => {
      let connectAt: number | null = null;
      const socket = tls.connect({ host, port, ...tlsOptions, lookup: this.lookup });
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`could not connect within ${this.opts.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })), this.opts.connectTimeoutMs);
      socket.once('connect', () => (connectAt = performance.now()));
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve({ socket, marks: { connectAt, secureAt: performance.now() } });
      });
    });
  }

  destroy(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}
