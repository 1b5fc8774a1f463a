/**
 * Raw socket clients for wire-level tests: exact bytes out, exact bytes in, nothing normalised.
 * `rawRequest` is one shot; `openRaw` is step by step (write, read until a marker, upgrade to TLS
 * inside a CONNECT tunnel, read more). Every read is bounded by a timeout.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface RawTlsOptions {
  /** Trust anchor(s) in PEM. */
  ca?: string | string[];
  /** SNI and name checked against the certificate (must not be an IP: RFC 6066 §3). */
  servername?: string;
  /** ALPN offer, e.g. `['h2', 'http/1.1']`. */
  ALPNProtocols?: string[];
  /** Skip certificate verification. @default false */
  insecure?: boolean;
}

export interface RawRequestOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** Give up (and resolve with what arrived) after this long. @default 5000 */
  timeoutMs?: number;
  tls?: RawTlsOptions;
  /** Half-close our side after writing (for servers that read to EOF). @default false */
  endAfterWrite?: boolean;
}

/**
 * Write `bytes` on a fresh connection and collect everything received until the peer closes or
 * `timeoutMs` passes (then the socket is destroyed and what arrived is returned). Rejects only when
 * the connection cannot be made.
 */
export function rawRequest(port: number, bytes: string | Buffer, opts: RawRequestOptions = {}): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let connected = false;
    let settled = false;
    const socket = connect(port, opts.host ?? '127.0.0.1', opts.tls, () => {
      connected = true;
      if (opts.endAfterWrite) socket.end(bytes);
      else socket.write(bytes);
    });
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err && !connected) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(() => finish(), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    // A reset after the answer is still an answer: keep what arrived.
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish());
  });
}

function connect(port: number, host: string, tlsOpts: RawTlsOptions | undefined, onConnect: () => void): net.Socket {
  if (!tlsOpts) return net.connect({ port, host }, onConnect);
  return tls.connect(
    {
      port,
      host,
      ...(tlsOpts.ca !== undefined ? { ca: tlsOpts.ca } : {}),
      ...(tlsOpts.servername !== undefined ? { servername: tlsOpts.servername } : {}),
      ...(tlsOpts.ALPNProtocols ? { ALPNProtocols: tlsOpts.ALPNProtocols } : {}),
      rejectUnauthorized: !tlsOpts.insecure,
    },
    onConnect,
  );
}

export type ReadPredicate = string | RegExp | ((buffered: Buffer) => number | false);

/** A connection driven step by step. Reads consume from an internal buffer. */
export interface RawSocket {
  socket: net.Socket | tls.TLSSocket;
  /** Write and wait until it is flushed to the kernel. */
  write(data: string | Buffer): Promise<void>;
  /**
   * Wait until the buffered bytes contain `marker` (string: latin1 match; RegExp: tested on the latin1
   * text) and return everything up to and including it, leaving the rest buffered. A function
   * predicate returns the number of bytes to take, or false to keep waiting.
   */
  readUntil(marker: ReadPredicate, timeoutMs?: number): Promise<Buffer>;
  /** Exactly `n` bytes. */
  readBytes(n: number, timeoutMs?: number): Promise<Buffer>;
  /** An HTTP/1 head (through the empty line), as text. */
  readHead(timeoutMs?: number): Promise<string>;
  /** Everything until the peer closes. */
  readToEnd(timeoutMs?: number): Promise<Buffer>;
  /** Wait for the close of the connection (resolves with `hadError`). */
  closed(timeoutMs?: number): Promise<boolean>;
  /** True once the peer ended or the socket closed. */
  readonly ended: boolean;
  /** Bytes buffered but not read yet. */
  readonly buffered: Buffer;
  /**
   * Start TLS over this connection (e.g. after a CONNECT's 200) and return a RawSocket for the TLS
   * layer. Unread buffered bytes are an error (they would be TLS records read as plain text).
   */
  startTls(opts: RawTlsOptions, timeoutMs?: number): Promise<RawSocket & { socket: tls.TLSSocket }>;
  /** Half-close (send FIN). */
  end(): void;
  /** Destroy the socket. */
  close(): void;
}

/** Open a connection to 127.0.0.1:`port` (or `opts.host`), optionally with TLS. */
export function openRaw(port: number, opts: { host?: string; tls?: RawTlsOptions; timeoutMs?: number } = {}): Promise<RawSocket> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = connect(port, opts.host ?? '127.0.0.1', opts.tls, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(wrap(socket));
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => onError(new Error(`connect to port ${port} timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', onError);
  });
}

function wrap<S extends net.Socket>(socket: S): RawSocket & { socket: S } {
  let buf: Buffer = Buffer.alloc(0);
  let ended = false;
  let hadError = false;
  let lastError: Error | null = null;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  socket.on('data', (c: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, c]) : c;
    wake();
  });
  socket.on('end', () => {
    ended = true;
    wake();
  });
  socket.on('error', (err) => {
    hadError = true;
    lastError = err;
    // Reported through reads (they fail with the error) and closed().
  });
  let isClosed = false;
  socket.on('close', () => {
    ended = true;
    isClosed = true;
    wake();
  });

  /** Wait until `take()` returns a byte count, or fail when the stream ends or time runs out. */
  const read = (what: string, take: () => number | false, timeoutMs: number, allowEnd = false): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const n = take();
        if (n !== false) {
          done();
          const out = buf.subarray(0, n);
          buf = buf.subarray(n);
          resolve(out);
        } else if (ended && !allowEnd) {
          done();
          reject(new Error(`connection ended while waiting for ${what}${lastError ? ` (${lastError.message})` : ''}; buffered: ${preview(buf)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; buffered: ${preview(buf)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const api: RawSocket & { socket: S } = {
    socket,
    write(data) {
      return new Promise((resolve, reject) => {
        socket.write(data, (err) => (err ? reject(err) : resolve()));
      });
    },
    readUntil(marker, timeoutMs = 5000) {
      let take: () => number | false;
      if (typeof marker === 'string') {
        take = () => {
          const i = buf.indexOf(marker, 0, 'latin1');
          return i < 0 ? false : i + Buffer.byteLength(marker, 'latin1');
        };
      } else if (marker instanceof RegExp) {
        const re = new RegExp(marker.source, marker.flags.replace('g', ''));
        take = () => {
          const m = re.exec(buf.toString('latin1'));
          return m ? m.index + m[0].length : false;
        };
      } else take = () => marker(buf);
      return read(String(marker), take, timeoutMs);
    },
    readBytes(n, timeoutMs = 5000) {
      return read(`${n} bytes`, () => (buf.length >= n ? n : false), timeoutMs);
    },
    async readHead(timeoutMs = 5000) {
      return (await api.readUntil('\r\n\r\n', timeoutMs)).toString('latin1');
    },
    readToEnd(timeoutMs = 5000) {
      return read('the end of the connection', () => (ended ? buf.length : false), timeoutMs, true);
    },
    closed(timeoutMs = 5000) {
      if (isClosed) return Promise.resolve(hadError);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
        socket.once('close', (err: boolean) => {
          clearTimeout(timer);
          resolve(err);
        });
      });
    },
    get ended() {
      return ended;
    },
    get buffered() {
      return buf;
    },
    startTls(opts, timeoutMs = 5000) {
      if (buf.length) return Promise.reject(new Error(`startTls with ${buf.length} unread bytes: ${preview(buf)}`));
      return new Promise((resolve, reject) => {
        const t = tls.connect({
          socket,
          ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
          ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
          ...(opts.ALPNProtocols ? { ALPNProtocols: opts.ALPNProtocols } : {}),
          rejectUnauthorized: !opts.insecure,
        });
        const timer = setTimeout(() => {
          t.destroy();
          reject(new Error(`TLS handshake timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        t.once('secureConnect', () => {
          clearTimeout(timer);
          t.off('error', onError);
          resolve(wrap(t));
        });
        const onError = (err: Error) => {
          clearTimeout(timer);
          t.destroy();
          reject(err);
        };
        t.once('error', onError);
      });
    },
    end() {
      socket.end();
    },
    close() {
      socket.destroy();
    },
  };
  return api;
}

function preview(b: Buffer): string {
  const s = JSON.stringify(b.subarray(0, 200).toString('latin1'));
  return b.length > 200 ? `${s}… (${b.length} bytes)` : s;
}
