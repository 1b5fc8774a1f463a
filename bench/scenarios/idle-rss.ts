/**
 * Memory held by idle clients: the proxy's RSS with 10,000 idle keep-alive HTTP/1.1 connections
 * (target ≤ 150 MB) and, on a fresh proxy, with 2,000 idle intercepted TLS connections (≤ 120 MB).
 * Each connection made one request (so it went through the whole path) and then stays open and
 * silent; RSS is read from /proc/PID/status once they are all open.
 */
import { H1Pool, type H1Target } from '../load/h1-pool.js';
import { httpsH1Target, plainTarget } from '../load/sides.js';
import type { ProxyUnderTest } from '../proxy-process.js';
import { MB, sleep } from '../stats.js';
import { row, type BenchContext, type Row, type Scenario } from './types.js';

const HTTP_CONNECTIONS = 10_000;
const TLS_CONNECTIONS = 2_000;
const MAX_HTTP_MB = 150;
const MAX_TLS_MB = 120;

interface IdleResult {
  baseline: number;
  rss: number;
  open: number;
  openMs: number;
}

async function idle(ctx: BenchContext, proxy: ProxyUnderTest, target: H1Target, count: number, parallel: number): Promise<IdleResult> {
  // Warm the proxy (JIT, upstream pool) the way traffic would before measuring its idle size.
  const warm = await H1Pool.open(target, 50);
  await warm.run({ maxRequests: ctx.quick ? 500 : 2000 });
  warm.close();
  await sleep(ctx.quick ? 500 : 1000);
  const baseline = proxy.rssBytes();
  const t0 = performance.now();
  const pool = await H1Pool.open(target, count, parallel);
  const openMs = performance.now() - t0;
  try {
    // Let the last responses' buffers be released before reading.
    await sleep(ctx.quick ? 1000 : 2000);
    const rss = proxy.rssBytes();
    return { baseline, rss, open: pool.open, openMs };
  } finally {
    pool.close();
  }
}

function idleRow(id: string, label: string, r: IdleResult, count: number, maxMb: number): Row {
  const perConn = (r.rss - r.baseline) / count / 1024;
  return row({
    id,
    label,
    unit: 'MB',
    direct: null,
    proxy: r.rss / MB,
    ratio: null,
    cpuUsPerReq: null,
    target: `≤ ${maxMb} MB`,
    pass: r.rss / MB <= maxMb && r.open === count,
    measured: `${perConn.toFixed(1)} KiB/conn`,
  });
}

export const idleRssScenario: Scenario = {
  name: 'idle-rss',
  title: 'RSS with 10,000 idle keep-alive and 2,000 idle intercepted connections',
  budgetMs: () => 180_000,
  async run(ctx) {
    const notes: string[] = [];
    const httpProxy = await ctx.startProxy('idle-http');
    const http = await idle(ctx, httpProxy, plainTarget(ctx.origins, httpProxy, '/small'), HTTP_CONNECTIONS, 250);
    await httpProxy.stop();
    ctx.log(`  ${http.open} HTTP connections open after ${(http.openMs / 1000).toFixed(1)} s: RSS ${(http.baseline / MB).toFixed(1)} → ${(http.rss / MB).toFixed(1)} MB`);
    const tlsProxy = await ctx.startProxy('idle-tls');
    const tls = await idle(ctx, tlsProxy, httpsH1Target(ctx.origins, tlsProxy, '/small'), TLS_CONNECTIONS, 100);
    ctx.log(`  ${tls.open} TLS connections open after ${(tls.openMs / 1000).toFixed(1)} s: RSS ${(tls.baseline / MB).toFixed(1)} → ${(tls.rss / MB).toFixed(1)} MB`);
    for (const [what, r, n] of [
      ['HTTP', http, HTTP_CONNECTIONS],
      ['TLS', tls, TLS_CONNECTIONS],
    ] as const) {
      if (r.open !== n) notes.push(`idle-rss: only ${r.open} of ${n} ${what} connections were still open when RSS was read`);
    }
    return {
      rows: [
        row({ id: 'idle-rss.baseline', label: 'RSS, proxy idle after warm-up', unit: 'MB', direct: null, proxy: http.baseline / MB, cpuUsPerReq: null, target: null, pass: null }),
        idleRow('idle-rss.http', `RSS, ${HTTP_CONNECTIONS.toLocaleString('en-US')} idle keep-alive HTTP conns`, http, HTTP_CONNECTIONS, MAX_HTTP_MB),
        idleRow('idle-rss.tls', `RSS, ${TLS_CONNECTIONS.toLocaleString('en-US')} idle intercepted TLS conns`, tls, TLS_CONNECTIONS, MAX_TLS_MB),
      ],
      notes,
      detail: { http, tls },
    };
  },
};
