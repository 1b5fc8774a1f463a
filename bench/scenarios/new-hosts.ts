/**
 * The first request to a host name the proxy has never seen: it issues a certificate for it (and
 * opens a new upstream connection). Twenty names one after another, each interleaved with a direct
 * first request (new TLS connection to the origin) and a first request on a new tunnel to a host the
 * proxy has seen; the extra cost of a never-seen host is the difference of the medians (≤ 2 ms).
 *
 * Then twenty new names at once while other traffic runs at 250 req/s: that traffic must not stall
 * (its worst latency during the burst ≤ its p99 before the burst + 10 ms). The twenty clients run in
 * a process of their own, so their handshakes do not delay the process timing the other traffic.
 *
 * All names are under *.origin.test (the origin certificate's wildcard) and resolve to 127.0.0.1
 * through the proxy's `--resolve '*=127.0.0.1'`; upstream certificates are verified against the
 * origin CA (NODE_EXTRA_CA_CERTS), not skipped with --insecure.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Scope } from '../cleanup.js';
import type { BurstOutcome } from '../load/burst-child.js';
import { dialTls, dialTunnel } from '../load/dial.js';
import { timeFirstRequest } from '../load/first-request.js';
import { H1Pool } from '../load/h1-pool.js';
import { runOpenLoop } from '../load/open-loop.js';
import { h1Request, httpsH1Target } from '../load/sides.js';
import { ORIGIN_HOST } from '../origin-protocol.js';
import type { Origins } from '../origins.js';
import type { ProxyUnderTest } from '../proxy-process.js';
import { median, Samples } from '../stats.js';
import { row, type Scenario } from './types.js';

const NAMES = 20;
const burstChildPath = fileURLToPath(new URL('../load/burst-child.ts', import.meta.url));
const MAX_EXTRA_MS = 2;
const STALL_SLACK_MS = 10;
/** Low enough that a loaded proxy keeps up, high enough to see a 10 ms stall. */
const BACKGROUND_RATE = 250;

function first(origins: Origins, proxy: ProxyUnderTest | null, name: string): Promise<number> {
  const alpn = ['http/1.1'];
  const request = h1Request('/small', `${name}:${origins.httpsPort}`);
  const dial = proxy
    ? () => dialTunnel(proxy.port, name, origins.httpsPort, { servername: name, ca: proxy.ca, alpn })
    : () => dialTls(origins.httpsPort, { servername: name, ca: origins.ca, alpn });
  return timeFirstRequest(dial, request);
}

/** The burst's process, started and ready; `go` runs the twenty first requests. Bounded in time. */
async function startBurst(scope: Scope, proxy: ProxyUnderTest, originPort: number, names: string[]): Promise<{ go(): Promise<BurstOutcome> }> {
  const child = fork(burstChildPath, [String(proxy.port), String(originPort), join(proxy.home, 'ca', 'ca.pem'), ...names], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  scope.defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const message = <T>(what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`new-hosts burst process: no ${what} within 30 s`)), 30_000);
      child.once('message', (m) => {
        clearTimeout(timer);
        resolve(m as T);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`new-hosts burst process exited (${code}) before ${what}`));
      });
    });
  await message<string>('ready');
  return {
    go() {
      const outcome = message<BurstOutcome>('outcome');
      child.send('go');
      return outcome;
    },
  };
}

export const newHostsScenario: Scenario = {
  name: 'new-hosts',
  title: 'first request to a never-seen host name (certificate issue)',
  budgetMs: () => 90_000,
  async run(ctx) {
    const { origins } = ctx;
    const proxy = await ctx.startProxy('new-hosts');
    const tag = Date.now().toString(36);
    // Warm-up: JIT, the upstream pool to origin.test, the certificate for origin.test.
    for (let i = 0; i < 20; i++) {
      await first(origins, proxy, ORIGIN_HOST);
      await first(origins, null, ORIGIN_HOST);
    }

    const direct: number[] = [];
    const seen: number[] = [];
    const fresh: number[] = [];
    for (let i = 0; i < NAMES; i++) {
      const steps = [
        async () => direct.push(await first(origins, null, `d${i}-${tag}.${ORIGIN_HOST}`)),
        async () => seen.push(await first(origins, proxy, ORIGIN_HOST)),
        async () => fresh.push(await first(origins, proxy, `n${i}-${tag}.${ORIGIN_HOST}`)),
      ];
      // Rotate the order so no kind always runs first (or right after another).
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
    }
    const mDirect = median(direct);
    const mSeen = median(seen);
    const mFresh = median(fresh);
    const extra = mFresh - mSeen;
    ctx.log(`  first request: direct ${mDirect.toFixed(2)} ms, proxy seen host ${mSeen.toFixed(2)} ms, proxy new host ${mFresh.toFixed(2)} ms`);

    // Twenty new names at once under steady other traffic. The burst runs in a process of its own
    // (load/burst-child.ts), so its client-side handshakes do not delay the timing of the other traffic.
    const target = httpsH1Target(origins, proxy, '/small');
    const burster = await startBurst(ctx.scope, proxy, origins.httpsPort, Array.from({ length: NAMES }, (_, i) => `b${i}-${tag}.${ORIGIN_HOST}`));
    const pool = await H1Pool.open(target, 10);
    const durationMs = ctx.quick ? 3000 : 4000;
    const burstAt = 1500;
    let burstStart = 0;
    let burstMs = 0;
    let burstErrors = 0;
    let burstDone: Promise<void> = Promise.resolve();
    // The bench's own event loop delay over the background run: a stall there would show in the
    // background latencies without being the proxy's doing.
    const clientDelay = monitorEventLoopDelay({ resolution: 5 });
    clientDelay.enable();
    const loop = await runOpenLoop(pool, target, {
      rate: BACKGROUND_RATE,
      durationMs,
      event: {
        atMs: burstAt,
        run: (elapsed) => {
          burstStart = elapsed;
          burstDone = burster.go().then(
            (outcome) => {
              burstMs = outcome.durationMs;
              burstErrors = outcome.errors;
            },
            () => {
              burstErrors = NAMES;
            },
          );
        },
      },
    }).finally(() => {
      clientDelay.disable();
      pool.close();
    });
    await burstDone;
    const clientStallMs = clientDelay.max / 1e6;
    const before = new Samples();
    const during = new Samples();
    for (let i = 0; i < loop.at.length; i++) {
      const at = loop.at[i]!;
      // The first 300 ms settle the connections; the burst window runs to its end plus 100 ms.
      if (at >= 300 && at < burstStart) before.push(loop.latency[i]!);
      else if (at >= burstStart && at <= burstStart + burstMs + 100) during.push(loop.latency[i]!);
    }
    const [beforeP99] = before.percentiles(99);
    const duringMax = during.max();
    const stallOk = duringMax <= beforeP99! + STALL_SLACK_MS && loop.errors + loop.unanswered === 0 && burstErrors === 0;
    ctx.log(
      `  burst of ${NAMES} new hosts took ${burstMs.toFixed(1)} ms; other traffic p99 before ${beforeP99!.toFixed(2)} ms, worst during ${duringMax.toFixed(2)} ms; ` +
        `the bench's own event loop was delayed ${clientStallMs.toFixed(1)} ms at most`,
    );

    return {
      rows: [
        row({
          id: 'new-host.first',
          label: 'first request, never-seen host (median of 20)',
          unit: 'ms',
          direct: mDirect,
          proxy: mFresh,
          cpuUsPerReq: null,
          target: `≤ ${MAX_EXTRA_MS} ms over a seen host`,
          pass: extra <= MAX_EXTRA_MS,
          measured: `${extra >= 0 ? '+' : ''}${extra.toFixed(2)} ms`,
        }),
        row({ id: 'new-host.seen', label: 'first request, seen host, new tunnel (median of 20)', unit: 'ms', direct: mDirect, proxy: mSeen, cpuUsPerReq: null, target: null, pass: null }),
        row({
          id: 'new-host.burst',
          label: `other traffic while ${NAMES} new hosts at once: p99 before → worst during`,
          unit: 'ms',
          direct: beforeP99!,
          baseline: 'other traffic p99 before the burst',
          proxy: duringMax,
          cpuUsPerReq: null,
          target: `≤ p99 before + ${STALL_SLACK_MS} ms`,
          pass: stallOk,
          measured: `burst ${burstMs.toFixed(0)} ms`,
        }),
      ],
      notes: [
        'new-hosts: "direct" is a first request on a new TLS connection straight to the origin; a never-seen host through the proxy also pays a new upstream connection and handshake',
        `new-hosts: the load generator's own event loop was delayed at most ${clientStallMs.toFixed(1)} ms during the background run (the part of a stall that is the client's)`,
        ...(burstErrors ? [`new-hosts: ${burstErrors} of the ${NAMES} burst requests failed`] : []),
        ...(loop.errors + loop.unanswered ? [`new-hosts: ${loop.errors + loop.unanswered} background requests failed or went unanswered`] : []),
      ],
      detail: { direct, seen, fresh, burst: { startMs: burstStart, durationMs: burstMs, errors: burstErrors, before: before.count, during: during.count, beforeP99, duringMax, clientStallMs } },
    };
  },
};
