import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type tls from 'node:tls';
import { pairsFromRaw, rawFromPairs } from '../proxy/core/headers.js';
import type { Flow, HeaderPairs } from '../proxy/core/flow.js';
import { kTarget, type TunnelTarget } from '../proxy/net/socket-facts.js';
import { terminateTls } from '../proxy/net/tls-terminator.js';
import { describeMiss, type ReplayIndex, type ReplayRequest } from './serve-match.js';

/**
 * The IO of `proxyctl serve`: an HTTP proxy on loopback that never goes upstream. It takes
 * absolute-form requests (`GET http://host/path`) and CONNECT tunnels, terminating TLS inside a
 * tunnel with proxyctl's CA (the same terminator the proxy uses), and answers every request from
 * the recording through `ReplayIndex` (serve-match.ts holds every decision).
 *
 * This is socket code outside src/proxy/net/ (DESIGN.md §1.2) on purpose: it is a separate small
 * server with its own lifecycle, and it reuses the net layer's TLS terminator instead of copying it.
 */
export interface ReplayServerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  index: ReplayIndex;
  /** Issues leaf certificates for intercepted hosts. */
  certificates: { secureContextFor(host: string): tls.SecureContext };
  /** One line per request answered (hit or miss) and per problem. */
  onLog?: (line: string) => void;
  /** Request bodies beyond this are refused with 413. @default 64 MiB */
  maxBodyBytes?: number;
  /** @default 10000 */
  handshakeTimeoutMs?: number;
}

const TLS_HANDSHAKE = 0x16;

/** Response fields that describe framing or the connection: the server frames the body anew. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'upgrade', 'trailer']);

export class ReplayServer {
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly log: (line: string) => void;
  private readonly maxBody: number;

  constructor(private readonly opts: ReplayServerOptions) {
    this.log = opts.onLog ?? (() => {});
    this.maxBody = opts.maxBodyBytes ?? 64 * 1024 * 1024;
    this.server = http.createServer((req, res) => void this.answer(req, res));
    this.server.on('connection', (socket: net.Socket) => this.track(socket));
    this.server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.tunnel(req, socket, head));
    this.server.on('clientError', (err, socket) => {
      this.log(`client error: ${err.message}`);
      socket.destroy();
    });
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stop listening and destroy every connection. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Called for accepted sockets and again for those re-entered through 'connection'; once each. */
  private track(socket: net.Socket): void {
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.log(`connection error: ${err.message}`));
  }

  private tunnel(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const target = parseAuthority(req.url ?? '');
    if (!target) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    // A socket from 'connect' allows half-open; TLS on top would then never close (DESIGN.md §11).
    socket.allowHalfOpen = false;
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const route = (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        terminateTls(socket, target, {
          secureContextFor: (host) => this.opts.certificates.secureContextFor(host),
          handshakeTimeoutMs: this.opts.handshakeTimeoutMs ?? 10_000,
          alpn: ['http/1.1'],
          // Re-enter http.Server with the decrypted socket ('connection' tracks it).
          onSecure: (tlsSocket) => this.server.emit('connection', tlsSocket),
          onFailure: (host, err) => this.log(`TLS handshake failed for ${host ?? 'an unnamed host'}: ${err.message} (does the client trust the proxyctl CA?)`),
        });
      } else {
        socket[kTarget] = target;
        this.server.emit('connection', socket);
        // Unshifted bytes reach http.Server only through a 'data' event (DESIGN.md §11).
        socket.resume();
      }
    };
    if (head.length) route(head);
    else socket.once('data', route);
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.on('error', (err) => this.log(`response error: ${err.message}`));
    const url = absoluteUrl(req);
    if (!url) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('proxyctl serve is a proxy: send absolute-form requests (curl --proxy) or CONNECT\n');
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.maxBody);
    } catch (err) {
      res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
    const request: ReplayRequest = { method: req.method ?? 'GET', url, headers: pairsFromRaw(req.rawHeaders), body };
    const result = this.opts.index.match(request);
    if (result.kind === 'miss') {
      this.log(`miss ${request.method} ${url} → 404`);
      const text = describeMiss(request, result.closest, this.opts.index.hosts());
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-proxyctl-replay': 'miss' });
      res.end(text);
      return;
    }
    this.log(`hit ${request.method} ${url} → ${result.flow.response!.status} (recorded ${result.answer} of ${result.of})`);
    try {
      this.writeRecorded(req, res, result.flow);
    } catch (err) {
      // A recorded header Node refuses to send (invalid characters): say so instead of crashing.
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`proxyctl serve: cannot send the recorded response: ${err instanceof Error ? err.message : String(err)}\n`);
      } else res.destroy();
    }
  }

  /** The recorded response, headers in recorded order and case, body bytes as captured. */
  private writeRecorded(req: http.IncomingMessage, res: http.ServerResponse, flow: Flow): void {
    const recorded = flow.response!;
    const body = recorded.body.bytes ?? Buffer.alloc(0);
    const noBody = req.method === 'HEAD' || recorded.status === 204 || recorded.status === 304;
    // Content-Length stays where it was recorded (order and case as on the wire), describing the
    // bytes we send; a chunked recording gets one at the end (Transfer-Encoding is not replayed).
    const headers: HeaderPairs = [];
    let length = false;
    for (const [k, v] of recorded.headers) {
      const lower = k.toLowerCase();
      if (lower === 'content-length') {
        if (length) continue;
        length = true;
        headers.push([k, noBody ? v : String(body.length)]);
      } else if (!k.startsWith(':') && !FRAMING.has(lower)) headers.push([k, v]);
    }
    if (!length && !noBody) headers.push(['Content-Length', String(body.length)]);
    res.writeHead(recorded.status, recorded.statusText || http.STATUS_CODES[recorded.status] || '', rawFromPairs(headers));
    res.end(noBody ? undefined : body);
  }
}

function absoluteUrl(req: http.IncomingMessage): string | null {
  const target = req.url ?? '';
  if (/^https?:\/\//i.test(target)) return target;
  if (!target.startsWith('/')) return null;
  const socket = req.socket as net.Socket & { encrypted?: boolean };
  const tunnel = socket[kTarget];
  if (!tunnel) return null;
  const scheme = socket.encrypted ? 'https' : 'http';
  const host = req.headers.host ?? authority(tunnel, scheme);
  return `${scheme}://${host}${target}`;
}

function authority(t: TunnelTarget, scheme: string): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return t.port === (scheme === 'https' ? 443 : 80) ? host : `${host}:${t.port}`;
}

function parseAuthority(value: string): TunnelTarget | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
  if (!m) return null;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { host: m[1]!, port } : null;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error(`request body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
