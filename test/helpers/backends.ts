/**
 * Backend servers for reverse-mode tests: real HTTP/1.1 servers on 127.0.0.1 that count what they
 * receive. Every request is recorded (method, path, headers, body); `/healthz` answers the health
 * checks (counted apart, status settable); `/hold` sends a first line (`holding`) and keeps its
 * response open until `releaseHolds()`; anything else answers 200 with a JSON echo naming the
 * backend. A backend can be stopped and started again on the same port (health tests), and a free
 * port with nothing listening can be had for connection failures.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface BackendHit {
  method: string;
  /** Request target as received. */
  path: string;
  /** Lowercased header names, as Node's `req.headers`. */
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The proxy side's address of the connection. */
  remoteAddress: string;
}

/** What `/*` answers with (JSON). */
export interface BackendEcho {
  backend: string;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface TestBackend {
  readonly name: string;
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Requests other than health checks, in arrival order. */
  readonly hits: BackendHit[];
  /** Health checks (`GET /healthz`) received. */
  healthChecks: number;
  /** Status `/healthz` answers. @default 200 */
  healthStatus: number;
  /** Requests held open by `/hold` right now. */
  readonly holding: number;
  /** Answer every held `/hold` request. */
  releaseHolds(): void;
  /** Stop listening and cut every connection (the port is then refused). Idempotent. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  restart(): Promise<void>;
  /** Final cleanup (stop). */
  close(): Promise<void>;
}

export async function startBackend(name: string): Promise<TestBackend> {
  const hits: BackendHit[] = [];
  const held = new Set<http.ServerResponse>();
  const sockets = new Set<net.Socket>();
  let server: http.Server | null = null;
  let port = 0;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {
      // The client went away mid-body; nothing to answer.
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      if (path === '/healthz') {
        backend.healthChecks++;
        res.writeHead(backend.healthStatus, { 'content-type': 'text/plain' });
        res.end(backend.healthStatus < 400 ? 'ok' : 'unhealthy');
        return;
      }
      hits.push({ method: req.method ?? '', path, headers: req.headers, body, remoteAddress: req.socket.remoteAddress ?? '' });
      if (path.startsWith('/hold')) {
        held.add(res);
        res.on('close', () => held.delete(res));
        res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
        // A first chunk, so the head (and this line) reach the client through the proxy at once.
        res.write('holding\n');
        return;
      }
      const echo: BackendEcho = { backend: name, method: req.method ?? '', path, headers: req.headers, body };
      const bytes = Buffer.from(JSON.stringify(echo));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length, 'x-backend': name });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    });
  };

  const listen = async (onPort: number) => {
    const s = http.createServer(handler);
    s.keepAliveTimeout = 60_000;
    s.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        // Resets from the proxy when a test stops things are expected.
      });
    });
    s.listen(onPort, '127.0.0.1');
    await once(s, 'listening');
    server = s;
    port = (s.address() as AddressInfo).port;
  };

  const stop = async () => {
    const s = server;
    if (!s) return;
    server = null;
    for (const res of held) res.destroy();
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  await listen(0);
  const backend: TestBackend = {
    name,
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    hits,
    healthChecks: 0,
    healthStatus: 200,
    get holding() {
      return held.size;
    },
    releaseHolds() {
      for (const res of held) res.end(`released by ${name}`);
    },
    stop,
    restart: () => listen(port),
    close: stop,
  };
  return backend;
}

/** A port on 127.0.0.1 with nothing listening on it (bound, then closed). */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface ClientAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface ClientRequestOptions {
  method?: string;
  /** The Host header (the virtual host). @default 127.0.0.1:PROXYPORT */
  host?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Source address, e.g. `127.0.0.2` (loopback: Linux routes all of 127.0.0.0/8 to lo). */
  localAddress?: string;
  /** @default 5000 */
  timeoutMs?: number;
}

/**
 * One request to a reverse proxy listening on `port` (origin-form, a fresh connection each time),
 * bounded in time; resolves with status, headers and body.
 */
export function request(port: number, path: string, opts: ClientRequestOptions = {}): Promise<ClientAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: opts.host ?? `127.0.0.1:${port}`, ...opts.headers };
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, agent: false, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    const timer = setTimeout(() => req.destroy(new Error(`no answer to ${opts.method ?? 'GET'} ${path} within ${opts.timeoutMs ?? 5000} ms`)), opts.timeoutMs ?? 5000);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    req.end(opts.body);
  });
}

/**
 * Start a request that the backend holds open (`/hold`): resolves once the response head arrived,
 * with the backend's name and a way to cut the connection.
 */
export function holdOpen(port: number, opts: ClientRequestOptions = {}): Promise<{ backend: string; abort(): void; done: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/hold', method: 'GET', headers: { host: opts.host ?? `127.0.0.1:${port}` }, agent: false });
    const timer = setTimeout(() => req.destroy(new Error('no response head for /hold within 5000 ms')), opts.timeoutMs ?? 5000);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      const done = new Promise<string>((ok, fail) => {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('aborted')));
      });
      done.catch(() => {
        // Tests that abort do not wait for it.
      });
      resolve({ backend: String(res.headers['x-backend'] ?? ''), abort: () => req.destroy(), done });
    });
    req.end();
  });
}
