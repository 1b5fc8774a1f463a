/**
 * Open-loop load: requests at a fixed rate whatever the responses do (the way real independent
 * clients arrive), over a pool of keep-alive HTTP/1.1 connections. A request waits for an idle
 * connection only when all are busy; its latency then counts from when it was due, so a stall is
 * not hidden by the generator slowing down (coordinated omission).
 */
import { performance } from 'node:perf_hooks';
import type { H1Connection, H1Pool, H1Target } from './h1-pool.js';

export interface OpenLoopRun {
  /** Due time of each completed request, ms since the run started. */
  at: number[];
  /** Latency of each completed request, ms. */
  latency: number[];
  errors: number;
  /** Requests due but never answered by the end of the drain period. */
  unanswered: number;
  elapsedMs: number;
}

export interface OpenLoopOptions {
  /** Requests per second. */
  rate: number;
  durationMs: number;
  /** Called once at `atMs` into the run (to start a disturbance such as a burst of new hosts). */
  event?: { atMs: number; run: (elapsedMs: number) => void };
}

export function runOpenLoop(pool: H1Pool, target: H1Target, opts: OpenLoopOptions): Promise<OpenLoopRun> {
  const result: OpenLoopRun = { at: [], latency: [], errors: 0, unanswered: 0, elapsedMs: 0 };
  const interval = 1000 / opts.rate;
  const total = Math.floor((opts.durationMs / 1000) * opts.rate);
  const idle: H1Connection[] = pool.connections.filter((c) => !c.closed);
  const waiting: number[] = [];
  const start = performance.now();
  let issued = 0;
  let inFlight = 0;
  let eventFired = opts.event === undefined;

  return new Promise<OpenLoopRun>((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(drainGuard);
      result.unanswered = inFlight + waiting.length;
      result.elapsedMs = performance.now() - start;
      for (const c of pool.connections) {
        c.onResponse = () => {};
        c.onClose = () => {};
      }
      resolve(result);
    };
    // Everything due must be answered within 10 s of the end; the rest counts as unanswered.
    const drainGuard = setTimeout(finish, opts.durationMs + 10_000);

    /** `queued`: it waited for a connection, so its latency counts from when it was due. */
    const dispatch = (c: H1Connection, due: number, now: number, queued: boolean) => {
      const from = queued ? due : now;
      inFlight++;
      c.onResponse = (status) => {
        const end = performance.now();
        inFlight--;
        result.at.push(due - start);
        result.latency.push(end - from);
        if (status !== 200) result.errors++;
        const next = waiting.shift();
        if (next !== undefined) dispatch(c, next, end, true);
        else idle.push(c);
        if (issued === total && inFlight === 0 && waiting.length === 0) finish();
      };
      c.onClose = () => {
        inFlight--;
        result.errors++;
        if (issued === total && inFlight === 0 && waiting.length === 0) finish();
      };
      c.send(target.request, now);
    };

    const tick = () => {
      const now = performance.now();
      if (!eventFired && now - start >= opts.event!.atMs) {
        eventFired = true;
        opts.event!.run(now - start);
      }
      while (issued < total && start + issued * interval <= now) {
        const due = start + issued * interval;
        issued++;
        let c = idle.pop();
        while (c?.closed) c = idle.pop();
        if (c) dispatch(c, due, now, false);
        else waiting.push(due);
      }
      if (issued < total) timer = setTimeout(tick, Math.max(0, start + issued * interval - performance.now()));
      else if (inFlight === 0 && waiting.length === 0) finish();
    };
    tick();
  });
}
