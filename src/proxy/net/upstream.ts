import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { ProxyOptions } from './options.js';
import { parentProxyOf, type ParentProxy } from './parent-proxy.js';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for sockets that honours host overrides (`--resolve HOST=ADDR`, `*=ADDR` for every
 * other name) and otherwise asks
 * the system resolver. Node 20 calls it with `{ all: true }` when autoSelectFamily is on.
 */
export function makeLookup(overrides: ReadonlyMap<string, string>) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    // `*` answers every name not listed (keeps a test browser's background traffic on loopback).
    const addr = overrides.get(hostname.toLowerCase()) ?? overrides.get('*');
    if (addr === undefined) {
      dns.lookup(hostname, options, callback as never);
      return;
    }
    const family = net.isIPv6(addr) ? 6 : 4;
    if (options.all) callback(null, [{ address: addr, family }]);
    else callback(null, addr, family);
  };
}

/**
 * An HTTPS agent that can adopt a connection made elsewhere: the ALPN probe that found an origin
 * speaks only HTTP/1.1 parks its socket here, and the next request to that origin uses it
 * instead of dialling again.
 */
class AdoptingHttpsAgent extends https.Agent {
  private readonly parked = new Map<string, tls.TLSSocket>();

  /** `parent`: in upstream mode, new connections are TLS inside a CONNECT tunnel through it. */
  constructor(
    options: https.AgentOptions,
    private readonly parent: ParentProxy | null,
  ) {
    super(options);
  }

  park(host: string, port: number, socket: tls.TLSSocket): void {
    const key = `${host}:${port}`;
    this.parked.get(key)?.destroy();
    this.parked.set(key, socket);
    // Not adopted within a few seconds (the request went away): close it.
    const timer = setTimeout(() => {
      if (this.parked.get(key) === socket) {
        this.parked.delete(key);
        socket.destroy();
      }
    }, 5000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    // Nobody else listens while it waits here; an origin reset must not become an uncaught error.
    socket.on('error', () => socket.destroy());
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const key = `${options.host}:${options.port}`;
    const socket = this.parked.get(key);
    if (socket && !socket.destroyed) {
      this.parked.delete(key);
      return socket;
    }
    if (this.parent && callback) {
      // Asynchronous creation: Node's Agent waits for the callback when nothing is returned.
      // `options` carry the agent's TLS settings and the servername it derived from Host.
      this.parent.tunnelTls(options.host ?? 'localhost', Number(options.port ?? 443), options as tls.ConnectionOptions).then(
        (s) => callback(null, s),
        // Node's own agents call back with the error alone on failure.
        (err: Error) => (callback as (e: Error) => void)(err),
      );
      return undefined;
    }
    const create = (https.Agent.prototype as unknown as { createConnection: (o: unknown, cb?: unknown) => net.Socket }).createConnection;
    return create.call(this, options, callback);
  }
}

/**
 * Keep-alive connection pools towards origins (HTTP/1.1). One agent per scheme; Node keys idle
 * sockets by host, port and TLS server name, so each origin has its own pool.
 */
export class UpstreamPool {
  readonly http: http.Agent;
  readonly https: AdoptingHttpsAgent;
  /**
   * The parent proxy in upstream mode, else null. Plain HTTP then goes to it in absolute form
   * (so `http` pools connections to the parent); `https` tunnels through it.
   */
  readonly parent: ParentProxy | null;

  constructor(opts: ProxyOptions) {
    const lookup = makeLookup(opts.resolve) as unknown as net.LookupFunction;
    this.parent = parentProxyOf(opts, lookup);
    const common = {
      keepAlive: true,
      maxFreeSockets: opts.maxIdleUpstreamPerOrigin,
      // LIFO reuse keeps a few sockets warm and lets the rest time out.
      scheduling: 'lifo' as const,
      // Idle pooled sockets are closed after this; requests in flight use their own timers.
      timeout: 30_000,
      lookup,
    };
    this.http = new http.Agent(common);
    this.https = new AdoptingHttpsAgent({
      ...common,
      rejectUnauthorized: !opts.insecure,
      ALPNProtocols: ['http/1.1'],
      ...(opts.upstreamCa ? { ca: [...tls.rootCertificates, ...opts.upstreamCa] } : {}),
    }, this.parent);
  }

  agentFor(scheme: 'http' | 'https'): http.Agent {
    return scheme === 'https' ? this.https : this.http;
  }

  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** One line naming an upstream certificate, for the flow's server info. */
export function summarizePeerCertificate(socket: tls.TLSSocket): string | null {
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject) return null;
  const cn = (x: unknown) => {
    const v = (x as { CN?: string | string[] } | undefined)?.CN;
    return Array.isArray(v) ? v.join(',') : (v ?? '?');
  };
  return `CN=${cn(cert.subject)}, issuer CN=${cn(cert.issuer)}, valid until ${cert.valid_to}`;
}
