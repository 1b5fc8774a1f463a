/**
 * How the load generators reach a server: straight to the origin (plain or TLS), or through the proxy
 * (plain HTTP with absolute-form targets, or CONNECT then TLS with the proxy's CA). Every dial is
 * bounded in time.
 */
import net from 'node:net';
import tls from 'node:tls';

export type Dial = () => Promise<net.Socket>;

const DIAL_TIMEOUT_MS = 10_000;

function bounded<T>(p: Promise<T>, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what}: no answer within ${DIAL_TIMEOUT_MS} ms`));
    }, DIAL_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A TCP connection to 127.0.0.1:port. */
export function dialTcp(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  const ready = new Promise<net.Socket>((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
  return bounded(ready, `connect to 127.0.0.1:${port}`, () => socket.destroy());
}

export interface TlsOptions {
  /** SNI and the name checked against the certificate. */
  servername: string;
  /** Trusted roots (PEM). */
  ca: string;
  /** ALPN offer, e.g. ['http/1.1'] or ['h2']. */
  alpn: string[];
}

/** TLS over an existing socket (a tunnel) or a new connection to 127.0.0.1:port. */
export function dialTls(over: net.Socket | number, opts: TlsOptions): Promise<tls.TLSSocket> {
  const socket = tls.connect({
    ...(typeof over === 'number' ? { host: '127.0.0.1', port: over } : { socket: over }),
    servername: opts.servername,
    ca: opts.ca,
    ALPNProtocols: opts.alpn,
    // Every connection pays a full handshake, as a new client would.
    session: undefined,
  });
  socket.setNoDelay(true);
  const ready = new Promise<tls.TLSSocket>((resolve, reject) => {
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
  return bounded(ready, `TLS to ${opts.servername}`, () => socket.destroy());
}

/** `CONNECT host:port` through the proxy; resolves with the raw tunnel once the proxy said 200. */
export function dialConnect(proxyPort: number, host: string, port: number): Promise<net.Socket> {
  const run = async (): Promise<net.Socket> => {
    const socket = await dialTcp(proxyPort);
    socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: proxyctl-bench\r\n\r\n`);
    return new Promise<net.Socket>((resolve, reject) => {
      let head = '';
      const onData = (chunk: Buffer) => {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        socket.off('error', reject);
        socket.pause();
        if (!/^HTTP\/1\.[01] 200/.test(head)) {
          socket.destroy();
          reject(new Error(`CONNECT ${host}:${port} answered ${head.slice(0, head.indexOf('\r\n'))}`));
          return;
        }
        // The proxy speaks only after the client's TLS hello, so nothing follows the head.
        if (end + 4 < head.length) socket.unshift(Buffer.from(head.slice(end + 4), 'latin1'));
        resolve(socket);
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
  };
  return run();
}

/** CONNECT, then TLS inside the tunnel. */
export async function dialTunnel(proxyPort: number, host: string, port: number, tlsOpts: TlsOptions): Promise<tls.TLSSocket> {
  const raw = await dialConnect(proxyPort, host, port);
  try {
    return await dialTls(raw, tlsOpts);
  } catch (err) {
    raw.destroy();
    throw err;
  }
}
