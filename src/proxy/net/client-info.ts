import type net from 'node:net';
import type { ClientInfo } from '../core/flow.js';
import { intern } from '../core/intern.js';
import { kClientAddr, kClientTls } from './socket-facts.js';

/** Who is talking to us on this socket (the original TCP peer, even inside a TLS tunnel). */
export function clientInfoOf(socket: net.Socket): ClientInfo {
  const addr = socket[kClientAddr];
  const tls = socket[kClientTls];
  const info: ClientInfo = {
    address: addr?.address ?? normalizeAddress(socket.remoteAddress),
    port: addr?.port ?? socket.remotePort ?? 0,
    tlsVersion: tls?.version ?? null,
    sni: tls?.sni ?? null,
    alpn: tls?.alpn ?? null,
  };
  if (addr?.user !== undefined) info.user = addr.user;
  return info;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`: users think in the address they typed. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return intern(address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address);
}
