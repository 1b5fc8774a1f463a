/** Is anything accepting connections at a proxy URL's host and port? A hint only, never a gate. */
import { connect } from 'node:net';

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'socks4:': 1080, 'socks5:': 1080 };

/** Resolves true when a TCP connection opens within `timeoutMs`, false otherwise (never rejects). */
export function isListening(proxyUrl: string, timeoutMs = 1000): Promise<boolean> {
  const u = new URL(proxyUrl);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : (DEFAULT_PORTS[u.protocol] ?? 80);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    // ECONNREFUSED, EHOSTUNREACH …: the answer is "no"; the caller words the hint.
    socket.once('error', () => done(false));
  });
}
