import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import type { ProxyOptions } from './options.js';
import { parentProxyOf, type ParentProxy } from './parent-proxy.js';
import { H1Client } from './h1-client/pool.js';

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
 * The upstream HTTP/1.1 side: our own keep-alive client (src/proxy/net/h1-client), one pool per
 * origin, and in upstream mode the parent proxy plain HTTP goes to (absolute form) and https
 * tunnels through.
 */
export class UpstreamPool {
  readonly h1: H1Client;
  /**
   * The parent proxy in upstream mode, else null. Plain HTTP then goes to it in absolute form
   * over pooled connections to it; https tunnels through it.
   */
  readonly parent: ParentProxy | null;

  constructor(opts: ProxyOptions) {
    const lookup = makeLookup(opts.resolve) as unknown as net.LookupFunction;
    this.parent = parentProxyOf(opts, lookup);
    this.h1 = new H1Client({
      lookup,
      connectTimeoutMs: opts.connectTimeoutMs,
      maxHeaderBytes: opts.maxHeaderBytes,
      maxIdlePerOrigin: opts.maxIdleUpstreamPerOrigin,
      // Idle pooled connections are closed after this; requests in flight use their own timers.
      idleTimeoutMs: 30_000,
      rejectUnauthorized: !opts.insecure,
      ca: opts.upstreamCa,
      parent: this.parent,
    });
  }

  /** Keep the ALPN probe's connection to an HTTP/1.1-only origin for its first request. */
  adopt(host: string, port: number, socket: tls.TLSSocket): void {
    this.h1.adopt(host, port, socket);
  }

  destroy(): void {
    this.h1.destroy();
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
