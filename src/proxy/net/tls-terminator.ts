import tls from 'node:tls';
import type net from 'node:net';
import { kClientAddr, kClientTls, kTarget, type TunnelTarget } from './socket-facts.js';

export interface TerminatorDeps {
  secureContextFor(host: string): tls.SecureContext;
  handshakeTimeoutMs: number;
  /** Protocols offered by ALPN, in preference order. */
  alpn: string[];
  onSecure(socket: tls.TLSSocket): void;
  onFailure(host: string | null, err: Error): void;
  /**
   * The name whose certificate a client gets when it sends no SNI and came without a CONNECT
   * (TLS straight to the listener, e.g. `https://127.0.0.1:8443/` in reverse mode).
   */
  defaultHost?: string;
}

/**
 * Terminate the client's TLS with a certificate for the name it asked for (SNI), falling back to
 * the CONNECT host when the client sends no SNI (IP addresses, old clients).
 */
export function terminateTls(raw: net.Socket, target: TunnelTarget | undefined, deps: TerminatorDeps): void {
  let requested: string | null = null;
  let defaultContext: tls.SecureContext | undefined;
  try {
    const fallback = target?.host ?? deps.defaultHost;
    if (fallback !== undefined) defaultContext = deps.secureContextFor(fallback);
  } catch (err) {
    deps.onFailure(target?.host ?? deps.defaultHost ?? null, err as Error);
    raw.destroy();
    return;
  }
  const socket = new tls.TLSSocket(raw, {
    isServer: true,
    ...(defaultContext ? { secureContext: defaultContext } : {}),
    ALPNProtocols: deps.alpn,
    SNICallback: (servername, cb) => {
      requested = servername;
      try {
        cb(null, deps.secureContextFor(servername));
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  // A socket from http.Server's 'connect' allows half-open; a TLS socket on it would inherit
  // that and never close on client FIN (CLOSE_WAIT leaks, DESIGN.md §11).
  socket.allowHalfOpen = false;
  socket[kClientAddr] = raw[kClientAddr];
  // Hand-made TLS sockets have no handshake timeout of their own.
  const timer = setTimeout(() => {
    deps.onFailure(requested ?? target?.host ?? null, new Error(`TLS handshake not finished within ${deps.handshakeTimeoutMs} ms`));
    socket.destroy();
  }, deps.handshakeTimeoutMs);
  let secure = false;
  socket.once('secure', () => {
    secure = true;
    clearTimeout(timer);
    // A server-side TLSSocket made by hand keeps `secureConnecting` true, and an Http2Session on it
    // would wait forever for 'secureConnect' (DESIGN.md §11).
    (socket as unknown as { secureConnecting: boolean }).secureConnecting = false;
    const sni = (socket as unknown as { servername?: string | false }).servername || null;
    socket[kTarget] = target ?? { host: sni ?? 'unknown', port: 443 };
    socket[kClientTls] = { version: socket.getProtocol() ?? null, sni, alpn: socket.alpnProtocol || null };
    deps.onSecure(socket);
  });
  socket.on('error', (err) => {
    clearTimeout(timer);
    if (!secure) deps.onFailure(requested ?? target?.host ?? null, err);
    socket.destroy();
  });
  socket.once('close', () => clearTimeout(timer));
}
