/**
 * Latency the proxy adds at a fixed, moderate rate (1,000 requests/s, open loop): p50 and p99 through
 * the proxy minus the same client's direct figures (targets: added p50 ≤ 0.3 ms, p99 ≤ 1 ms).
 * Plain HTTP and HTTPS interception (HTTP/1.1 client side).
 */
import { H1Pool, type H1Target } from '../load/h1-pool.js';
import { runOpenLoop } from '../load/open-loop.js';
import { httpsH1Target, plainTarget } from '../load/sides.js';
import type { ProxyUnderTest } from '../proxy-process.js';
import type { Origins } from '../origins.js';
import { Samples } from '../stats.js';
import { interleave, type Interleaved, type Side } from '../windows.js';
import { interleavedBudgetMs, type Timing } from './timing.js';
import { row, type Row, type Scenario } from './types.js';

export const OPEN_LOOP_RATE = 1000;
/** Enough idle connections that a request never waits for one at this rate. */
const CONNECTIONS = 20;
const MAX_ADDED_P50_MS = 0.3;
const MAX_ADDED_P99_MS = 1;

function timing(quick: boolean): Timing {
  return quick ? { rounds: 2, windowMs: 1500, warmupMs: 1500 } : { rounds: 3, windowMs: 5000, warmupMs: 3000 };
}

export function openLoopSide(name: string, proxy: ProxyUnderTest | null, target: H1Target): Side {
  return {
    name,
    loadgen: 'node h1 open loop',
    proxy,
    prepare: async () => {
      const pool = await H1Pool.open(target, CONNECTIONS);
      return {
        run: async (durationMs) => {
          const r = await runOpenLoop(pool, target, { rate: OPEN_LOOP_RATE, durationMs });
          const s = new Samples();
          for (const l of r.latency) s.push(l);
          const [p50, p99] = s.percentiles(50, 99);
          return { requests: r.latency.length, errors: r.errors + r.unanswered, elapsedMs: r.elapsedMs, bytes: 0, p50Ms: p50!, p99Ms: p99! };
        },
        close: () => pool.close(),
      };
    },
  };
}

function addedRows(id: string, label: string, r: Interleaved): Row[] {
  const d = r.medians['direct']!;
  const p = r.medians['proxy']!;
  const added50 = p.p50Ms - d.p50Ms;
  const added99 = p.p99Ms - d.p99Ms;
  const ms = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)} ms`;
  return [
    row({
      id: `${id}.p50`,
      label: `${label}: p50`,
      unit: 'ms',
      direct: d.p50Ms,
      proxy: p.p50Ms,
      cpuUsPerReq: p.proxyCpuUsPerReq,
      target: `added ≤ ${MAX_ADDED_P50_MS} ms`,
      pass: added50 <= MAX_ADDED_P50_MS,
      measured: ms(added50),
    }),
    row({
      id: `${id}.p99`,
      label: `${label}: p99`,
      unit: 'ms',
      direct: d.p99Ms,
      proxy: p.p99Ms,
      cpuUsPerReq: null,
      target: `added ≤ ${MAX_ADDED_P99_MS} ms`,
      pass: added99 <= MAX_ADDED_P99_MS,
      measured: ms(added99),
    }),
  ];
}

function sides(origins: Origins, proxy: ProxyUnderTest, make: (o: Origins, p: ProxyUnderTest | null, path: string) => H1Target): Side[] {
  return [openLoopSide('direct', null, make(origins, null, '/small')), openLoopSide('proxy', proxy, make(origins, proxy, '/small'))];
}

export const openLoopScenario: Scenario = {
  name: 'open-loop',
  title: `added latency at a fixed ${OPEN_LOOP_RATE} req/s (open loop)`,
  budgetMs: (quick) => 2 * interleavedBudgetMs(timing(quick)),
  async run(ctx) {
    const proxy = await ctx.startProxy('open-loop');
    const t = { ...timing(ctx.quick), log: ctx.log };
    ctx.log('  plain HTTP');
    const plain = await interleave(sides(ctx.origins, proxy, plainTarget), ctx.origins, t);
    ctx.log('  HTTPS interception, HTTP/1.1');
    const https = await interleave(sides(ctx.origins, proxy, httpsH1Target), ctx.origins, t);
    const notes: string[] = [];
    for (const [name, r] of [
      ['plain', plain],
      ['https', https],
    ] as const) {
      const errors = r.medians['direct']!.errors + r.medians['proxy']!.errors;
      if (errors) notes.push(`open loop ${name}: ${errors} requests failed or went unanswered`);
    }
    return {
      rows: [...addedRows('open-loop-plain', `plain HTTP at ${OPEN_LOOP_RATE} req/s`, plain), ...addedRows('open-loop-https', `HTTPS h1 at ${OPEN_LOOP_RATE} req/s`, https)],
      notes,
      detail: { rate: OPEN_LOOP_RATE, connections: CONNECTIONS, plain: { medians: plain.medians, windows: plain.windows }, https: { medians: https.medians, windows: https.windows } },
    };
  },
};
