import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { ProxyError, classifyUpstreamError } from '../core/errors.js';
import type { ProxyOptions } from './options.js';

/** Largest answer head accepted from the parent for a CONNECT. */
const MAX_CONNECT_HEAD_BYTES = 16 * 1024;

/** When a connection made through the parent became usable (`performance.now()` stamps). */
export interface DialMarks {
  /** The parent answered 2xx to CONNECT: the tunnel is open. */
  tunnelAt: number;
  /** The TLS handshake with the origin finished (null for a plain tunnel). */
  secureAt: number | null;
}

export interface ParentProxySettings {
  /** Budget for reaching the parent, its CONNECT answer and (for `tunnelTls`) the origin's TLS. */
  connectTimeoutMs: number;
  /** Resolves the parent's host name (honours `--resolve`). */
  lookup: net.LookupFunction;
}

/**
 * The parent proxy of `--mode upstream:URL`: every origin connection goes through it. Plain HTTP
 * requests are sent to it in absolute form (the caller does that with `host`, `port` and
 * `authorization`); everything else gets a CONNECT tunnel (RFC 9110 §9.3.6) opened here, with TLS
 * to the origin inside it when asked, so the origin's certificate is verified exactly as without
 * a parent. Failures are ProxyErrors that name the parent, because the user has to know which hop
 * refused.
 */
export class ParentProxy {
  readonly host: string;
  readonly port: number;
  /** `host:port`, as messages name the parent. */
  readonly label: string;
  /** `Basic …` for `Proxy-Authorization` (RFC 7617), null when the URL has no credentials. */
  readonly authorization: string | null;
  /** Dial times of sockets this made, read once by whoever records the flow's timings. */
  private readonly marks = new WeakMap<net.Socket, DialMarks>();

  constructor(
    url: URL,
    private readonly settings: ParentProxySettings,
  ) {
    // URL keeps the brackets of an IPv6 literal in `hostname`.
    this.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port === '' ? 80 : Number(url.port);
    this.label = `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    this.authorization = user === '' && password === '' ? null : `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  }

  /**
   * Open a tunnel to `host:port` through the parent. Resolves with the socket once the parent
   * answered 2xx; bytes that followed the answer are put back on the socket.
   */
  tunnel(host: string, port: number): Promise<net.Socket> {
    return this.openTunnel(host, port, this.settings.connectTimeoutMs);
  }

  /**
   * TLS to the origin inside a tunnel through the parent. `options` are those of `tls.connect`
   * (servername, ALPN, trust, verification); `host` is what the certificate must name. Resolves
   * once the handshake finished, so certificate errors reject here with Node's codes.
   */
  async tunnelTls(host: string, port: number, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
    const started = performance.now();
    const raw = await this.openTunnel(host, port, this.settings.connectTimeoutMs);
    const tunnelAt = performance.now();
    const left = Math.max(1, this.settings.connectTimeoutMs - (tunnelAt - started));
    return new Promise((resolve, reject) => {
      // `host` without `port`: with `socket` given, tls.connect uses `host` only to check the certificate.
      const socket = tls.connect({ ...options, host, socket: raw });
      // The tunnel socket's own errors end the TLS socket (whose listeners report them).
      raw.on('error', (err) => socket.destroy(err));
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ProxyError('UPSTREAM_TIMEOUT', `TLS handshake with ${authorityOf(host, port)} through upstream proxy ${this.label} not finished within ${this.settings.connectTimeoutMs} ms`));
      }, left);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        this.marks.set(socket, { tunnelAt, secureAt: performance.now() });
        resolve(socket);
      });
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        raw.destroy();
        reject(err);
      };
      socket.once('error', onError);
    });
  }

  /** The dial times of a socket made here, once (a pooled socket reused later has none). */
  takeMarks(socket: net.Socket): DialMarks | null {
    const m = this.marks.get(socket);
    if (m) this.marks.delete(socket);
    return m ?? null;
  }

  /** The parent itself could not be reached (refused, unknown name, timeout …). */
  unreachable(err: unknown): ProxyError {
    const e = classifyUpstreamError(err);
    return new ProxyError(e.code, `upstream proxy ${this.label} cannot be reached: ${e.message}`, { cause: err });
  }

  /** The parent answered a request with a refusal of its own (407 to plain HTTP). */
  refused(status: number, statusText: string, what: string): ProxyError {
    const reason = statusText || http.STATUS_CODES[status] || '';
    return new ProxyError('TUNNEL_FAILED', `upstream proxy ${this.label} answered ${status}${reason ? ` ${reason}` : ''} to ${what}`);
  }

  private openTunnel(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
    const authority = authorityOf(host, port);
    const what = `CONNECT ${authority}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port, lookup: this.settings.lookup });
      socket.setNoDelay(true);
      let connected = false;
      let settled = false;
      let head = Buffer.alloc(0);
      const cleanup = () => {
        clearTimeout(timer);
        socket.off('readable', onReadable);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const fail = (err: ProxyError) => {
        if (settled) return;
        settled = true;
        cleanup();
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => {
        fail(
          connected
            ? new ProxyError('UPSTREAM_TIMEOUT', `upstream proxy ${this.label} did not answer ${what} within ${timeoutMs} ms`)
            : this.unreachable(Object.assign(new Error(`could not connect within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
        );
      }, timeoutMs);
      const onError = (err: Error) => {
        fail(connected ? new ProxyError('UPSTREAM_RESET', `upstream proxy ${this.label} failed during ${what}: ${err.message}`, { cause: err }) : this.unreachable(err));
      };
      const onClose = () => fail(new ProxyError('UPSTREAM_RESET', `upstream proxy ${this.label} closed the connection before answering ${what}`));
      // 'readable' + read() rather than 'data': the socket must not be left flowing, so that whoever
      // takes it over (TLS, a pipe) gets every byte after the answer.
      const onReadable = () => {
        let chunk: Buffer | null;
        while (!settled && (chunk = socket.read() as Buffer | null) !== null) {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > MAX_CONNECT_HEAD_BYTES) fail(new ProxyError('UPSTREAM_PROTOCOL', `upstream proxy ${this.label} sent an answer head over ${MAX_CONNECT_HEAD_BYTES} bytes to ${what}`));
            continue;
          }
          const status = parseStatusLine(head.subarray(0, end).toString('latin1'));
          if (status === null) {
            fail(new ProxyError('UPSTREAM_PROTOCOL', `upstream proxy ${this.label} sent an invalid answer to ${what}`));
            return;
          }
          // RFC 9110 §9.3.6: any 2xx means the tunnel is open.
          if (status.code < 200 || status.code > 299) {
            fail(this.refused(status.code, status.text, what));
            return;
          }
          settled = true;
          cleanup();
          const rest = head.subarray(end + 4);
          if (rest.length) socket.unshift(rest);
          this.marks.set(socket, { tunnelAt: performance.now(), secureAt: null });
          resolve(socket);
        }
      };
      socket.once('connect', () => {
        connected = true;
        const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
        if (this.authorization) lines.push(`Proxy-Authorization: ${this.authorization}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
      });
      socket.on('readable', onReadable);
      socket.on('error', onError);
      socket.on('close', onClose);
    });
  }
}

/** The parent proxy of the options' mode, or null when the mode has none. */
export function parentProxyOf(opts: ProxyOptions, lookup: net.LookupFunction): ParentProxy | null {
  return opts.mode.kind === 'upstream' ? new ParentProxy(opts.mode.proxy, { connectTimeoutMs: opts.connectTimeoutMs, lookup }) : null;
}

/** `host:port` as a CONNECT target (RFC 9112 §3.2.3), IPv6 in brackets. */
export function authorityOf(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** `HTTP/1.1 407 Proxy Authentication Required` → code and reason; null when it is not one. */
export function parseStatusLine(head: string): { code: number; text: string } | null {
  const line = head.split('\r\n', 1)[0] ?? '';
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(line);
  if (!m) return null;
  return { code: Number(m[1]), text: (m[2] ?? '').trim() };
}
