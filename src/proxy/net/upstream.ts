import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import type { ProxyOptions } from './options.js';

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
  }

  override createConnection(options: { host?: string; port?: number }, callback?: unknown): net.Socket {
    const key = `${options.host}:${options.port}`;
    const socket = this.parked.get(key);
    if (socket && !socket.destroyed) {
      this.parked.delete(key);
      return socket;
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

  constructor(opts: ProxyOptions) {
    const lookup = makeLookup(opts.resolve) as unknown as net.LookupFunction;
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
    });
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
