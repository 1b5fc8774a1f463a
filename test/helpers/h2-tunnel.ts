import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { withTimeout } from './wait.js';

/**
 * CONNECT to `localhost:originPort` through the proxy, TLS with ALPN h2 (trusting `ca`, the proxy's
 * CA), and an HTTP/2 session on top. Rejects when the proxy refuses the tunnel or does not
 * negotiate h2. `raw` is handed to `track` first so the caller can close it after the test.
 */
export async function openH2Tunnel(proxyPort: number, originPort: number, ca: string, track: (raw: net.Socket) => void): Promise<http2.ClientHttp2Session> {
  const raw = net.connect({ host: '127.0.0.1', port: proxyPort });
  track(raw);
  raw.on('error', () => {
    // Reported through the TLS socket or the session the test waits on.
  });
  await withTimeout(new Promise<void>((resolve, reject) => raw.once('connect', resolve).once('error', reject)), 5000, 'TCP connect to the proxy');
  raw.write(`CONNECT localhost:${originPort} HTTP/1.1\r\nHost: localhost:${originPort}\r\n\r\n`);
  const head = await withTimeout(
    new Promise<string>((resolve, reject) => {
      let buf = '';
      const onData = (c: Buffer) => {
        buf += c.toString('latin1');
        if (buf.includes('\r\n\r\n')) {
          raw.off('data', onData);
          raw.pause();
          resolve(buf);
        }
      };
      raw.on('data', onData);
      raw.once('close', () => reject(new Error(`tunnel closed; got ${JSON.stringify(buf)}`)));
    }),
    5000,
    'the answer to CONNECT',
  );
  if (!/^HTTP\/1\.1 200 /.test(head)) throw new Error(`the proxy refused the tunnel: ${JSON.stringify(head)}`);
  const socket = tls.connect({ socket: raw, servername: 'localhost', ca, ALPNProtocols: ['h2'] });
  socket.on('error', () => {
    // The session reports it.
  });
  await withTimeout(new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject)), 5000, 'TLS handshake with the proxy');
  if (socket.alpnProtocol !== 'h2') throw new Error(`the proxy negotiated ${String(socket.alpnProtocol)}, not h2`);
  const session = http2.connect(`https://localhost:${originPort}`, { createConnection: () => socket });
  session.on('error', () => {
    // Streams report their own failures; tests check the session's health directly.
  });
  return session;
}

/** Read one HTTP/2 response whole: its `:status` and body, bounded by `timeoutMs`. */
export function readH2Response(stream: http2.ClientHttp2Stream, timeoutMs: number, what: string): Promise<{ status: number; body: Buffer }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
      stream.on('error', reject);
    }),
    timeoutMs,
    what,
  );
}
