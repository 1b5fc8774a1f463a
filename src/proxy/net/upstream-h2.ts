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

export interface ProbeTimes {
  connectMs: number | null;
  tlsMs: number | null;
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
  private readonly probes = new Map<string, Promise<UpstreamRoute>>();
  private readonly lookup: net.LookupFunction;
  /** In upstream mode every origin connection is a tunnel through this parent proxy. */
  private readonly parent: ParentProxy | null;

  constructor(private readonly opts: ProxyOptions) {
    this.lookup = makeLookup(opts.resolve) as unknown as net.LookupFunction;
    this.parent = parentProxyOf(opts, this.lookup);
  }

  /**
   * The route for an origin: synchronous when known, otherwise a probe. `onTimes` reports the
   * connect and TLS durations when this call made the connection.
   */
  route(host: string, port: number, onTimes?: (t: ProbeTimes) => void): UpstreamRoute | Promise<UpstreamRoute> {
    const key = `${host}:${port}`;
    if (this.protocol.get(key) === 'h1') return { protocol: 'h1' };
    const session = this.sessions.get(key);
    if (session && !session.closed && !session.destroyed) return { protocol: 'h2', session };
    let probe = this.probes.get(key);
    if (!probe) {
      probe = this.probe(key, host, port, onTimes).finally(() => this.probes.delete(key));
      this.probes.set(key, probe);
    } else {
      // Joined another request's probe: if it found HTTP/1.1, its socket is taken; use the pool.
      probe = probe.then((r) => (r.protocol === 'h1' ? { protocol: 'h1' } : r));
    }
    return probe;
  }

  private async probe(key: string, host: string, port: number, onTimes?: (t: ProbeTimes) => void): Promise<UpstreamRoute> {
    const { socket, times } = await this.connect(host, port);
    onTimes?.(times);
    if (socket.alpnProtocol !== 'h2') {
      this.protocol.set(key, 'h1');
      return { protocol: 'h1', socket };
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
    return { protocol: 'h2', session };
  }

  /**
   * A TLS connection to the origin offering h2 and http/1.1, directly or (upstream mode) inside a
   * tunnel through the parent proxy. Either way the origin's certificate is verified here.
   */
  private connect(host: string, port: number): Promise<{ socket: tls.TLSSocket; times: ProbeTimes }> {
    const tlsOptions: tls.ConnectionOptions = {
      ...(isIpLiteral(host) ? {} : { servername: host }),
      ALPNProtocols: ['h2', 'http/1.1'],
      rejectUnauthorized: !this.opts.insecure,
      secureContext: originTrust(this.opts.upstreamCa),
    };
    const started = performance.now();
    if (this.parent) {
      const parent = this.parent;
      return parent.tunnelTls(host, port, tlsOptions).then((socket) => {
        socket.setNoDelay(true);
        const marks = parent.takeMarks(socket);
        const times = marks ? { connectMs: marks.tunnelAt - started, tlsMs: (marks.secureAt ?? marks.tunnelAt) - started } : { connectMs: null, tlsMs: null };
        return { socket, times };
      });
    }
    return new Promise((resolve, reject) => {
      let connectMs: number | null = null;
      const socket = tls.connect({ host, port, ...tlsOptions, lookup: this.lookup });
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`could not connect within ${this.opts.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })), this.opts.connectTimeoutMs);
      socket.once('connect', () => (connectMs = performance.now() - started));
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve({ socket, times: { connectMs, tlsMs: performance.now() - started } });
      });
    });
  }

  destroy(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}
