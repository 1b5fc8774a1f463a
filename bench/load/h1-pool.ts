/**
 * A set of keep-alive HTTP/1.1 connections driven by the benchmark: closed loop (each connection
 * sends its next request as soon as the previous response ended) for a duration or a request count,
 * or open loop (a fixed request rate, see open-loop.ts). Connections are opened before a window
 * starts, so handshakes stay outside the measured CPU time.
 */
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Dial } from './dial.js';
import { H1ResponseParser } from './h1-parser.js';
import { ClosedLoop, type ClosedLoopOptions, type LoadRun } from './closed-loop.js';

export interface H1Target {
  /** Opens one connection (TCP, TLS, or a TLS tunnel through the proxy). */
  dial: Dial;
  /** The request bytes, sent as they are for every request (GET, no body). */
  request: Buffer;
}

export type { ClosedLoopOptions, LoadRun } from './closed-loop.js';

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
    const quiet = (c: H1Connection) => {
      // Out of the run: a later response or close is not this run's.
      c.onResponse = () => {};
      c.onClose = () => {};
    };
    const loop = new ClosedLoop(opts, () => this.connections.forEach(quiet));
    const next = (c: H1Connection, now: number) => {
      if (!c.closed && loop.maySend(now)) {
        c.send(target.request, now);
        return;
      }
      quiet(c);
      loop.leave();
    };
    for (const c of this.connections) {
      if (c.closed) continue;
      loop.join();
      c.onResponse = (status, bytes) => {
        const now = performance.now();
        loop.record(now, now - c.sentAt, bytes, status === 200);
        next(c, now);
      };
      c.onClose = () => {
        // Lost with a request in flight (or between requests): this connection is out of the run.
        loop.result.errors++;
        loop.leave();
      };
    }
    loop.settleIfEmpty();
    const now = performance.now();
    if (!loop.isOver) for (const c of this.connections) if (!c.closed) next(c, now);
    return loop.done;
  }

  close(): void {
    for (const c of this.connections) c.socket.destroy();
  }
}
