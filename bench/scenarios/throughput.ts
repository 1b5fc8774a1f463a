/**
 * Small (1 KiB) responses at full speed, 50 connections, closed loop: requests/s, p50, p99 and the
 * proxy's CPU time per request, direct vs through the proxy, interleaved.
 * - plain: HTTP forward proxy, keep-alive (target: CPU ≤ 60 µs/req)
 * - https-h1 / https-h2: interception, CONNECT + TLS, HTTP/1.1 or h2 client side (≤ 100 µs/req)
 */
import { httpsH1Side, httpsH2Side, plainSide } from '../load/sides.js';
import { interleave, saturationNote, type Interleaved, type Side } from '../windows.js';
import { interleavedBudgetMs, throughputTiming } from './timing.js';
import { row, type BenchContext, type Row, type Scenario, type ScenarioOutput } from './types.js';

const CONNECTIONS = 50;
/** h2: one session per tunnel, this many streams in flight on each. */
export const H2_STREAMS = 4;

/** Rows for req/s (with the CPU target), p50 and p99. */
export function throughputRows(id: string, label: string, r: Interleaved, cpuTargetUs: number | null): Row[] {
  const d = r.medians['direct']!;
  const p = r.medians['proxy']!;
  const cpu = p.proxyCpuUsPerReq;
  return [
    row({
      id: `${id}.rps`,
      label: `${label}: req/s`,
      unit: 'req/s',
      direct: d.rps,
      proxy: p.rps,
      cpuUsPerReq: cpu,
      target: cpuTargetUs === null ? null : `CPU ≤ ${cpuTargetUs} µs/req`,
      pass: cpuTargetUs === null || cpu === null ? null : cpu <= cpuTargetUs,
    }),
    row({ id: `${id}.p50`, label: `${label}: p50`, unit: 'ms', direct: d.p50Ms, proxy: p.p50Ms, cpuUsPerReq: null, target: null, pass: null }),
    row({ id: `${id}.p99`, label: `${label}: p99`, unit: 'ms', direct: d.p99Ms, proxy: p.p99Ms, cpuUsPerReq: null, target: null, pass: null }),
  ];
}

export function loadNotes(label: string, r: Interleaved): string[] {
  const notes: string[] = [];
  for (const [side, w] of Object.entries(r.medians)) {
    const n = saturationNote(`${label} (${side})`, w);
    if (n) notes.push(n);
    if (w.errors > 0) notes.push(`${label} (${side}): ${w.errors} failed requests over all windows`);
  }
  const direct = r.medians['direct'];
  if (direct) notes.push(`${label}: the origin used ${direct.originCpuUsPerReq.toFixed(0)} µs CPU per request in the direct windows (a yardstick for this machine's speed right now)`);
  return notes;
}

function detail(sides: Side[], r: Interleaved): Record<string, unknown> {
  return { loadgen: Object.fromEntries(sides.map((s) => [s.name, s.loadgen])), medians: r.medians, windows: r.windows };
}

function throughputScenario(
  name: string,
  title: string,
  label: string,
  cpuTargetUs: number,
  makeSides: (ctx: BenchContext, proxy: Awaited<ReturnType<BenchContext['startProxy']>>) => Side[],
): Scenario {
  return {
    name,
    title,
    budgetMs: (quick) => interleavedBudgetMs(throughputTiming(quick)),
    async run(ctx): Promise<ScenarioOutput> {
      const proxy = await ctx.startProxy(name);
      const sides = makeSides(ctx, proxy);
      const r = await interleave(sides, ctx.origins, { ...throughputTiming(ctx.quick), log: ctx.log });
      return { rows: throughputRows(name, label, r, cpuTargetUs), notes: loadNotes(label, r), detail: detail(sides, r) };
    },
  };
}

export const plainScenario = throughputScenario('plain', 'plain HTTP forward proxy, keep-alive', `plain HTTP 1 KiB, ${CONNECTIONS} conns`, 60, (ctx, proxy) => [
  plainSide('direct', ctx.origins, null, '/small', CONNECTIONS, ctx.useWrk),
  plainSide('proxy', ctx.origins, proxy, '/small', CONNECTIONS, ctx.useWrk),
]);

export const httpsH1Scenario = throughputScenario('https-h1', 'HTTPS interception, HTTP/1.1 client side', `HTTPS h1 1 KiB, ${CONNECTIONS} conns`, 100, (ctx, proxy) => [
  httpsH1Side('direct', ctx.origins, null, '/small', CONNECTIONS),
  httpsH1Side('proxy', ctx.origins, proxy, '/small', CONNECTIONS),
]);

export const httpsH2Scenario = throughputScenario(
  'https-h2',
  'HTTPS interception, h2 client side',
  `HTTPS h2 1 KiB, ${CONNECTIONS} conns × ${H2_STREAMS} streams`,
  100,
  (ctx, proxy) => [
    httpsH2Side('direct', ctx.origins, null, '/small', CONNECTIONS, H2_STREAMS),
    httpsH2Side('proxy', ctx.origins, proxy, '/small', CONNECTIONS, H2_STREAMS),
  ],
);
