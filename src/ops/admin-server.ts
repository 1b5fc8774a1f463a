import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { EventBus } from '../proxy/bus.js';
import { AdminListenError } from './admin-listen-error.js';
import { ProxyMetrics, type HealthSnapshot, type MetricsSources } from './metrics.js';

export interface AdminServerOptions {
  /** Listen address: the proxy's own (loopback unless the user chose otherwise). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  metrics: ProxyMetrics;
  /**
   * The proxy's access lists (`access.allow` / `deny`): null admits, else why not. The admin
   * endpoint listens on the proxy's host, so a proxy opened to a LAN must not open its metrics to
   * more clients than it serves.
   */
  admit?: (address: string) => string | null;
}

/**
 * Count from now on and serve the counts: the metrics subscribe to the bus first (so they miss no
 * flow), then the port is bound. On failure nothing is left subscribed or listening.
 */
export async function startAdmin(opts: Omit<AdminServerOptions, 'metrics'> & { bus: EventBus; sources: MetricsSources }): Promise<AdminServer> {
  const metrics = new ProxyMetrics(opts.bus, opts.sources);
  try {
    return await AdminServer.listen({ host: opts.host, port: opts.port, metrics, ...(opts.admit ? { admit: opts.admit } : {}) });
  } catch (err) {
    metrics.detach();
    throw err;
  }
}

/** The health answer's body: `status` is what probes and people read first. */
export interface HealthBody extends HealthSnapshot {
  status: 'ok' | 'shutting-down';
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/**
 * `--admin-port` (DESIGN.md §7): `GET /healthz` (200 with a small JSON report, 503 once shutdown
 * began so a load balancer stops sending) and `GET /metrics` (Prometheus text). HEAD is answered
 * like GET without a body (RFC 9110 §9.3.2); other methods get 405 and other paths 404.
 */
export class AdminServer {
  private shuttingDown = false;
  private closing: Promise<void> | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: http.Server,
    private readonly address: AddressInfo,
    /** The counts it serves; owned: detached on close. */
    readonly metrics: ProxyMetrics,
  ) {}

  /** Bind and serve; rejects with AdminListenError when the port cannot be had. */
  static listen(opts: AdminServerOptions): Promise<AdminServer> {
    const server = http.createServer();
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(new AdminListenError(opts.host, opts.port, err.code ?? err.message));
      server.once('error', onError);
      server.listen(opts.port, opts.host, () => {
        server.off('error', onError);
        const admin = new AdminServer(server, server.address() as AddressInfo, opts.metrics);
        admin.attach(opts.admit);
        resolve(admin);
      });
    });
  }

  private attach(admit: AdminServerOptions['admit']): void {
    this.server.on('connection', (socket: Socket) => {
      if (admit && admit(socket.remoteAddress ?? '') !== null) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('request', (req, res) => this.handle(req, res));
    // After listening, a server error (EMFILE on accept) must not take the proxy down.
    this.server.on('error', () => {
      /* the listener keeps trying; the proxy's own health is what /healthz reports */
    });
  }

  /** `http://HOST:PORT` actually bound. */
  get url(): string {
    const a = this.address.address;
    return `http://${a.includes(':') ? `[${a}]` : a}:${this.address.port}`;
  }

  get port(): number {
    return this.address.port;
  }

  /** From now on /healthz answers 503: the proxy is draining and should get no new traffic. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  /** Stop counting, stop listening and close every admin connection (scrapers keep theirs alive). Idempotent. */
  close(): Promise<void> {
    this.beginShutdown();
    this.metrics.detach();
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    return this.closing;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const q = (req.url ?? '/').indexOf('?');
    const path = q < 0 ? (req.url ?? '/') : req.url!.slice(0, q);
    const head = req.method === 'HEAD';
    if (path !== '/healthz' && path !== '/metrics') {
      send(res, 404, TEXT_TYPE, 'proxyctl admin: not found; try /healthz or /metrics\n', head);
      return;
    }
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, TEXT_TYPE, `proxyctl admin: ${path} answers GET and HEAD only\n`, false);
      return;
    }
    if (path === '/healthz') {
      const body: HealthBody = { status: this.shuttingDown ? 'shutting-down' : 'ok', ...this.metrics.health() };
      send(res, this.shuttingDown ? 503 : 200, JSON_TYPE, `${JSON.stringify(body)}\n`, head);
      return;
    }
    this.metrics.render().then(
      (text) => send(res, 200, this.metrics.contentType, text, head),
      (err: unknown) => send(res, 500, TEXT_TYPE, `proxyctl admin: metrics failed: ${err instanceof Error ? err.message : String(err)}\n`, head),
    );
  }
}

function send(res: http.ServerResponse, status: number, type: string, body: string, head: boolean): void {
  if (res.destroyed) return;
  const bytes = Buffer.from(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': bytes.length, 'Cache-Control': 'no-store' });
  res.end(head ? undefined : bytes);
}

export { AdminListenError };
