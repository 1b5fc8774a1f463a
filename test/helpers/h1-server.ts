/**
 * Test harness for the proxy's own HTTP/1.x server engine (src/proxy/net/h1-server): a loopback
 * net.Server whose connections go to `H1Server.accept`, handlers that record what they were given,
 * and a strict reader of raw responses (status line, fields in wire order, body by its framing,
 * trailers) for wire-level assertions. Everything started here is closed by `stopAllH1Servers()`
 * (call it in afterEach).
 */
import net from 'node:net';
import type { HeaderPairs } from '../../src/proxy/core/flow.js';
import type { H1IncomingRequest } from '../../src/proxy/net/h1-server/incoming.js';
import type { H1ServerResponse } from '../../src/proxy/net/h1-server/outgoing.js';
import { H1Server, type ClientError, type H1ServerHandlers, type H1ServerOptions } from '../../src/proxy/net/h1-server/server.js';
import { openRaw, type RawSocket } from './raw-client.js';

/** A CONNECT or upgrade the server handed over. */
export interface Handover {
  req: H1IncomingRequest;
  socket: net.Socket;
  head: Buffer;
}

export interface H1TestServer {
  port: number;
  h1: H1Server;
  /** Server-side sockets in accept order. */
  sockets: net.Socket[];
  /** Every request the request handler was given, in order. */
  requests: H1IncomingRequest[];
  clientErrors: ClientError[];
  connects: Handover[];
  upgrades: Handover[];
}

export type RequestHandler = (req: H1IncomingRequest, res: H1ServerResponse) => void;

/** Options of the servers started here unless a test overrides them. */
export const DEFAULT_OPTIONS: H1ServerOptions = { maxHeaderBytes: 16 * 1024, headersTimeoutMs: 10_000, idleTimeoutMs: 5000 };

const running: Array<{ server: net.Server; h1: H1Server; sockets: net.Socket[]; extra: net.Socket[] }> = [];
const clients: Array<{ destroy(): unknown }> = [];

/**
 * Start an engine on 127.0.0.1:0. Unset handlers: `connect`/`upgrade` keep the socket (the test
 * drives it), `clientError` answers 400 (431/408 for overflow/timeout) and closes, like the proxy.
 */
export async function startH1Server(request: RequestHandler, opts: Partial<H1ServerOptions> = {}, handlers: Partial<Omit<H1ServerHandlers, 'request'>> = {}): Promise<H1TestServer> {
  const sockets: net.Socket[] = [];
  const extra: net.Socket[] = [];
  const t = { sockets, requests: [], clientErrors: [], connects: [], upgrades: [] } as Pick<H1TestServer, 'sockets' | 'requests' | 'clientErrors' | 'connects' | 'upgrades'>;
  const h1 = new H1Server(
    { ...DEFAULT_OPTIONS, ...opts },
    {
      request(req, res) {
        t.requests.push(req);
        request(req, res);
      },
      connect(req, socket, head) {
        t.connects.push({ req, socket, head });
        extra.push(socket);
        handlers.connect?.(req, socket, head);
      },
      upgrade(req, socket, head) {
        t.upgrades.push({ req, socket, head });
        extra.push(socket);
        handlers.upgrade?.(req, socket, head);
      },
      clientError(err, socket) {
        t.clientErrors.push(err);
        if (handlers.clientError) {
          handlers.clientError(err, socket);
          return;
        }
        const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
        if (!socket.destroyed) socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      },
    },
  );
  const server = net.createServer((socket) => {
    sockets.push(socket);
    // Resets by clients are part of several tests; what the test checks is the outcome.
    socket.on('error', () => {});
    h1.accept(socket);
  });
  running.push({ server, h1, sockets, extra });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { ...t, h1, port: (server.address() as net.AddressInfo).port };
}

/** An engine with `request` and one raw client connected to it (both closed by stopAllH1Servers). */
export async function serveWithClient(request: RequestHandler, opts: Partial<H1ServerOptions> = {}, handlers: Partial<Omit<H1ServerHandlers, 'request'>> = {}): Promise<{ srv: H1TestServer; raw: RawSocket }> {
  const srv = await startH1Server(request, opts, handlers);
  const raw = trackClient(await openRaw(srv.port));
  return { srv, raw };
}

/** Send `request` and read one response (`method` for the response to a HEAD). */
export async function exchange(raw: RawSocket, request: string | Buffer, method?: string): Promise<RawResponse> {
  await raw.write(request);
  return readResponse(raw, method ? { method } : {});
}

/** Track a client socket (or RawSocket) so that `stopAllH1Servers` destroys it. */
export function trackClient<T extends { destroy(): unknown } | RawSocket>(client: T): T {
  clients.push('close' in client && 'readHead' in client ? { destroy: () => client.close() } : (client as { destroy(): unknown }));
  return client;
}

/** Destroy every client, server socket, handed-over socket and listener started by this module. */
export async function stopAllH1Servers(): Promise<void> {
  for (const c of clients.splice(0)) c.destroy();
  for (const r of running.splice(0)) {
    r.h1.close();
    for (const s of [...r.sockets, ...r.extra]) s.destroy();
    await new Promise<void>((resolve) => r.server.close(() => resolve()));
  }
}

/** A response as read off the wire. */
export interface RawResponse {
  /** The head through its empty line, exactly as received. */
  head: string;
  statusLine: string;
  status: number;
  /** Fields in wire order and case. */
  headers: HeaderPairs;
  /** How the body was delimited. */
  framing: 'none' | 'length' | 'chunked' | 'close';
  /** The decoded body. */
  body: Buffer;
  /** The body bytes exactly as framed on the wire (chunk lines included). */
  rawBody: Buffer;
  trailers: HeaderPairs;
}

/** Every value of field `name` (case-insensitive), in order. */
export function fieldValues(res: { headers: HeaderPairs }, name: string): string[] {
  const lower = name.toLowerCase();
  return res.headers.filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
}

/**
 * Read one response (a 1xx included: it comes back as its own response with framing 'none').
 * The body follows RFC 9112 §6.3: none for HEAD/1xx/204/304, chunked, Content-Length, else
 * until the close. Chunked framing is checked strictly (hex size, CRLF after the data).
 */
export async function readResponse(raw: RawSocket, opts: { method?: string; timeoutMs?: number } = {}): Promise<RawResponse> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const head = await raw.readHead(timeoutMs);
  const lines = head.slice(0, -4).split('\r\n');
  const statusLine = lines[0]!;
  const m = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
  if (!m) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
  const status = Number(m[1]);
  const headers: HeaderPairs = lines.slice(1).map((l) => {
    const i = l.indexOf(': ');
    if (i <= 0) throw new Error(`not a field line: ${JSON.stringify(l)}`);
    return [l.slice(0, i), l.slice(i + 2)];
  });
  const res: RawResponse = { head, statusLine, status, headers, framing: 'none', body: Buffer.alloc(0), rawBody: Buffer.alloc(0), trailers: [] };
  if (opts.method === 'HEAD' || status < 200 || status === 204 || status === 304) return res;
  const te = fieldValues(res, 'transfer-encoding');
  const cl = fieldValues(res, 'content-length');
  if (te.length) {
    res.framing = 'chunked';
    const raws: Buffer[] = [];
    const parts: Buffer[] = [];
    for (;;) {
      const sizeLine = await raw.readUntil('\r\n', timeoutMs);
      raws.push(sizeLine);
      const size = sizeLine.toString('latin1', 0, sizeLine.length - 2);
      if (!/^[0-9a-f]+$/i.test(size)) throw new Error(`bad chunk size line: ${JSON.stringify(size)}`);
      const n = parseInt(size, 16);
      if (n === 0) break;
      const data = await raw.readBytes(n + 2, timeoutMs);
      if (data.toString('latin1', n) !== '\r\n') throw new Error('chunk data not followed by CRLF');
      raws.push(data);
      parts.push(data.subarray(0, n));
    }
    for (;;) {
      const line = await raw.readUntil('\r\n', timeoutMs);
      raws.push(line);
      if (line.length === 2) break;
      const text = line.toString('latin1', 0, line.length - 2);
      const i = text.indexOf(': ');
      res.trailers.push([text.slice(0, i), text.slice(i + 2)]);
    }
    res.body = Buffer.concat(parts);
    res.rawBody = Buffer.concat(raws);
  } else if (cl.length) {
    res.framing = 'length';
    res.body = res.rawBody = await raw.readBytes(Number(cl[0]), timeoutMs);
  } else {
    res.framing = 'close';
    res.body = res.rawBody = await raw.readToEnd(timeoutMs);
  }
  return res;
}

/** Collect a readable request body as a string (latin1). */
export function readBody(req: H1IncomingRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(Buffer.from(c)));
    req.on('end', () => resolve(Buffer.concat(parts).toString('latin1')));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('request closed before its end'));
    });
  });
}

/** A request head in wire form: `lines` are the request line and fields, without CRLFs. */
export function head(...lines: string[]): string {
  return `${lines.join('\r\n')}\r\n\r\n`;
}
