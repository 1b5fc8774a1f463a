/**
 * Memory over a long session: push small plain-HTTP requests through the proxy (every flow recorded
 * into the session) and read RSS after 50,000 and after 200,000 finished flows (target: the second
 * within 1.2× of the first). The in-memory store keeps the newest 20,000 flows by default, so past
 * that RSS should stay flat. `--quick` stops at 22,000 and 44,000 (both past the store's bound).
 * It also reports the sustained rate and CPU per request while recording.
 */
import { H1Pool } from '../load/h1-pool.js';
import { plainTarget } from '../load/sides.js';
import type { ProxyUnderTest } from '../proxy-process.js';
import { MB, median, sleep } from '../stats.js';
import { row, type Scenario } from './types.js';

const MAX_RATIO = 1.2;
const CONNECTIONS = 50;

async function waitForFlows(proxy: ProxyUnderTest, n: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = proxy.flowsFinished() ?? 0;
    if (done >= n || Date.now() > deadline) return done;
    await sleep(100);
  }
}

interface Leg {
  flows: number;
  rss: number;
  rps: number;
  cpuUsPerReq: number;
}

export const flowsRssScenario: Scenario = {
  name: 'flows-rss',
  title: 'RSS after 50k and 200k recorded flows',
  budgetMs: (quick) => (quick ? 120_000 : 300_000),
  async run(ctx) {
    const [first, second] = ctx.quick ? [22_000, 44_000] : [50_000, 200_000];
    const proxy = await ctx.startProxy('flows-rss');
    const target = plainTarget(ctx.origins, proxy, '/small');
    // Counted from the start: H1Pool.open makes one request per connection.
    const pool = await H1Pool.open(target, CONNECTIONS);
    const legs: Leg[] = [];
    let sent = CONNECTIONS;
    try {
      for (const goal of [first, second]) {
        const c0 = proxy.cpuMicros();
        const r = await pool.run({ maxRequests: goal - sent, hardLimitMs: 240_000 });
        const cpu = proxy.cpuMicros() - c0;
        sent += r.requests;
        const flows = await waitForFlows(proxy, goal, 30_000);
        // Let timers and the recorder settle, then take the median of a few readings (garbage
        // collection makes single readings jumpy).
        await sleep(ctx.quick ? 500 : 1000);
        const readings: number[] = [];
        for (let i = 0; i < 5; i++) {
          readings.push(proxy.rssBytes());
          await sleep(200);
        }
        const leg = { flows, rss: median(readings), rps: r.requests / (r.elapsedMs / 1000), cpuUsPerReq: cpu / Math.max(1, r.requests) };
        legs.push(leg);
        ctx.log(`  ${flows} flows: RSS ${(leg.rss / MB).toFixed(1)} MB (${leg.rps.toFixed(0)} req/s, ${leg.cpuUsPerReq.toFixed(1)} µs/req${r.errors ? `, ${r.errors} errors` : ''})`);
      }
    } finally {
      pool.close();
    }
    const [a, b] = legs as [Leg, Leg];
    const ratio = b.rss / a.rss;
    const k = (n: number) => `${n / 1000}k`;
    return {
      rows: [
        row({
          id: 'flows-rss.ratio',
          label: `RSS after ${k(first)} → ${k(second)} recorded flows`,
          unit: 'MB',
          direct: a.rss / MB,
          baseline: `RSS after ${k(first)} flows`,
          proxy: b.rss / MB,
          cpuUsPerReq: null,
          target: `≤ ${MAX_RATIO}× after ${k(first)}`,
          pass: ratio <= MAX_RATIO && a.flows >= first && b.flows >= second,
        }),
        row({
          id: 'flows-rss.sustained',
          label: `plain HTTP while recording ${k(second)} flows: req/s`,
          unit: 'req/s',
          direct: null,
          proxy: (a.rps + b.rps) / 2,
          cpuUsPerReq: (a.cpuUsPerReq + b.cpuUsPerReq) / 2,
          target: null,
          pass: null,
        }),
      ],
      notes: [
        `flows-rss: the "direct" column is RSS after ${k(first)} flows${ctx.quick ? ' (--quick: 22k and 44k instead of 50k and 200k)' : ''}`,
        ...(a.flows < first || b.flows < second ? [`flows-rss: the proxy finished only ${a.flows} and ${b.flows} flows`] : []),
      ],
      detail: { legs },
    };
  },
};
