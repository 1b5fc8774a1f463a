/**
 * A set of keep-alive HTTP/1.1 connections driven by the benchmark: closed loop (each connection
 * sends its next request as soon as the previous response ended) for a duration or a request count,
 * or open loop (a fixed request rate, see open-loop.ts). Connections are opened before a window
 * starts, so handshakes stay outside the measured CPU time.
 */
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Samples } from '../stats.js';
import type { Dial } from './dial.js';
import { H1ResponseParser } from './h1-parser.js';

export interface H1Target {
  /** Opens one connection (TCP, TLS, or a TLS tunnel through the proxy). */
  dial: Dial;
  /** The request bytes, sent as they are for every request (GET, no body). */
  request: Buffer;
}

/** What one run of the pool measured. */
export interface LoadRun {
  /** Responses received (any status). */
  requests: number;
  /** Responses with a status other than 200, connections lost, parse errors. */
  errors: number;
  /** From the first request to the last response. */
  elapsedMs: number;
  /** Body bytes received. */
  bytes: number;
  /** Latency of each request in milliseconds. */
  latencies: Samples;
}

export interface ClosedLoopOptions {
  /** Stop sending after this long (in-flight requests still finish). */
  durationMs?: number;
  /** Stop sending after this many requests over all connections. */
  maxRequests?: number;
  /** Bound for the whole run including the in-flight tail. @default durationMs + 30 s */
  hardLimitMs?: number;
}

export class H1Connection {
  readonly parser: H1ResponseParser;
  sentAt = 0;
  closed = false;
  onResponse: (status: number, bytes: number) => void = () => {};
  onClose: () => void = () => {};

  constructor(readonly socket: net.Socket) {
    this.parser = new H1ResponseParser((status, bytes) => this.onResponse(status, bytes));
    socket.on('data', (chunk: Buffer) => {
      this.parser.feed(chunk);
      if (this.parser.error !== null) socket.destroy();
    });
    socket.on('error', () => {
      // Counted through 'close' (a lost connection is an error if a request was in flight).
    });
    socket.on('close', () => {
      this.parser.end();
      this.closed = true;
      this.onClose();
    });
    socket.resume();
  }

  send(request: Buffer, now: number): void {
    this.sentAt = now;
    this.socket.write(request);
  }
}

export class H1Pool {
  private constructor(
    private readonly target: H1Target,
    readonly connections: H1Connection[],
  ) {}

  /**
   * Open `count` connections, `parallel` at a time, and send one warm-up request on each batch
   * before opening the next (so at most `parallel` requests are ever in flight while opening).
   */
  static async open(target: H1Target, count: number, parallel = 50): Promise<H1Pool> {
    const conns: H1Connection[] = [];
    const pool = new H1Pool(target, conns);
    try {
      for (let i = 0; i < count; i += parallel) {
        const sockets = await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, () => target.dial()));
        const batch = sockets.map((s) => new H1Connection(s));
        conns.push(...batch);
        const warm = await new H1Pool(target, batch).run({ maxRequests: batch.length, hardLimitMs: 30_000 });
        if (warm.errors > 0) throw new Error(`${warm.errors} of ${batch.length} warm-up requests failed`);
      }
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  /** Connections still open. */
  get open(): number {
    return this.connections.filter((c) => !c.closed).length;
  }

  /** Closed loop over every open connection. */
  run(opts: ClosedLoopOptions): Promise<LoadRun> {
    const { target } = this;
    const latencies = new Samples();
    const result: LoadRun = { requests: 0, errors: 0, elapsedMs: 0, bytes: 0, latencies };
    const start = performance.now();
    const deadline = opts.durationMs === undefined ? Number.POSITIVE_INFINITY : start + opts.durationMs;
    const max = opts.maxRequests ?? Number.POSITIVE_INFINITY;
    const hardLimit = opts.hardLimitMs ?? (opts.durationMs ?? 0) + 30_000;
    let sent = 0;
    let active = 0;
    let last = start;
    return new Promise<LoadRun>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(guard);
        for (const c of this.connections) {
          c.onResponse = () => {};
          c.onClose = () => {};
        }
        result.elapsedMs = last - start;
        resolve(result);
      };
      const guard = setTimeout(() => {
        result.errors += active;
        finish();
      }, hardLimit);
      const next = (c: H1Connection, now: number) => {
        if (sent < max && now < deadline && !c.closed) {
          sent++;
          c.send(target.request, now);
          return;
        }
        // This connection is out of the run: a later close is not an error of this run.
        c.onResponse = () => {};
        c.onClose = () => {};
        if (--active === 0) finish();
      };
      for (const c of this.connections) {
        if (c.closed) continue;
        active++;
        c.onResponse = (status, bytes) => {
          const now = performance.now();
          latencies.push(now - c.sentAt);
          last = now;
          result.requests++;
          result.bytes += bytes;
          if (status !== 200) result.errors++;
          next(c, now);
        };
        c.onClose = () => {
          // Lost with a request in flight (or between requests): this connection is out of the run.
          result.errors++;
          if (--active === 0) finish();
        };
      }
      if (active === 0) {
        finish();
        return;
      }
      const now = performance.now();
      for (const c of this.connections) if (!c.closed) next(c, now);
    });
  }

  close(): void {
    for (const c of this.connections) c.socket.destroy();
  }
}
