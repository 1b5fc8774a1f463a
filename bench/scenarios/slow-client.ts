/**
 * A slow client: it downloads a 512 MiB response through the proxy but reads only 1 MB/s. With
 * backpressure the proxy reads the origin only as fast as the client takes the bytes, so its RSS stays
 * flat; without, it would buffer the origin's speed minus the client's. RSS is sampled every second.
 * A full download at 1 MB/s takes ~9 minutes, so the client reads for a bounded time (40 s, 6 s with
 * `--quick`) and then hangs up; the origin's count of bytes written shows how far ahead of the client
 * it got (socket buffers plus whatever the proxy holds).
 * Target: peak RSS at most 64 MB over the RSS before the download, and the second half's peak at most
 * 8 MB over the first half's (peaks, because garbage collection makes RSS a saw-tooth; a proxy that
 * buffers grows steadily instead).
 */
import type net from 'node:net';
import { dialTcp, dialTunnel } from '../load/dial.js';
import { h1Request } from '../load/sides.js';
import { ORIGIN_HOST } from '../origin-protocol.js';
import type { Origins } from '../origins.js';
import type { ProxyUnderTest } from '../proxy-process.js';
import { MB, sleep } from '../stats.js';
import { row, type BenchContext, type Row } from './types.js';
import type { Scenario } from './types.js';

const RATE = 1_000_000;
const MAX_PEAK_MB = 64;
const MAX_LATE_GROWTH_MB = 8;

interface SlowResult {
  baseline: number;
  samples: { t: number; rss: number; received: number }[];
  received: number;
  originAhead: number;
}

/** Read from `socket` at `RATE` bytes/s for `ms`, sampling the proxy's RSS every second. */
async function slowRead(socket: net.Socket, proxy: ProxyUnderTest, origins: Origins, request: Buffer, ms: number): Promise<SlowResult> {
  const written0 = await origins.hugeBytesWritten();
  await sleep(500);
  const baseline = proxy.rssBytes();
  const samples: SlowResult['samples'] = [];
  let received = 0;
  const t0 = performance.now();
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    const ahead = received - (RATE * (performance.now() - t0)) / 1000;
    if (ahead > 0) {
      socket.pause();
      setTimeout(() => socket.resume(), (ahead / RATE) * 1000);
    }
  });
  socket.on('error', () => {
    // Hung up by us at the end; nothing else to learn.
  });
  socket.write(request);
  while (performance.now() - t0 < ms) {
    await sleep(1000);
    samples.push({ t: (performance.now() - t0) / 1000, rss: proxy.rssBytes(), received });
  }
  const originAhead = (await origins.hugeBytesWritten()) - written0 - received;
  socket.destroy();
  return { baseline, samples, received, originAhead };
}

function slowRow(id: string, label: string, r: SlowResult): Row {
  const rss = r.samples.map((s) => s.rss);
  const half = Math.floor(rss.length / 2);
  const peak = Math.max(...rss);
  const lateGrowth = (Math.max(...rss.slice(half)) - Math.max(...rss.slice(0, half))) / MB;
  const peakOver = (peak - r.baseline) / MB;
  return row({
    id,
    label,
    unit: 'MB',
    direct: r.baseline / MB,
    baseline: 'RSS before the download',
    proxy: peak / MB,
    ratio: null,
    cpuUsPerReq: null,
    target: `peak ≤ +${MAX_PEAK_MB} MB, 2nd half ≤ 1st + ${MAX_LATE_GROWTH_MB}`,
    pass: peakOver <= MAX_PEAK_MB && lateGrowth <= MAX_LATE_GROWTH_MB,
    measured: `+${peakOver.toFixed(1)} peak, ${lateGrowth >= 0 ? '+' : ''}${lateGrowth.toFixed(1)} late`,
  });
}

async function leg(ctx: BenchContext, name: string, ms: number, dial: (p: ProxyUnderTest) => Promise<net.Socket>, request: Buffer): Promise<SlowResult> {
  const proxy = await ctx.startProxy(`slow-${name}`);
  const r = await slowRead(await dial(proxy), proxy, ctx.origins, request, ms);
  ctx.log(
    `  ${name}: received ${(r.received / MB).toFixed(1)} MB in ${(ms / 1000).toFixed(0)} s; RSS ${(r.baseline / MB).toFixed(1)} → ` +
      `${r.samples.map((s) => (s.rss / MB).toFixed(0)).join(' ')} MB; origin ${(r.originAhead / MB).toFixed(1)} MB ahead of the client`,
  );
  await proxy.stop();
  return r;
}

export const slowClientScenario: Scenario = {
  name: 'slow-client',
  title: 'a 1 MB/s client downloading 512 MiB keeps RSS flat',
  budgetMs: (quick) => (quick ? 60_000 : 150_000),
  async run(ctx) {
    const ms = ctx.quick ? 6_000 : 40_000;
    const { origins } = ctx;
    const plainHost = `127.0.0.1:${origins.httpPort}`;
    const plain = await leg(ctx, 'plain', ms, (p) => dialTcp(p.port), h1Request(`http://${plainHost}/huge`, plainHost));
    const tlsHost = `${ORIGIN_HOST}:${origins.httpsPort}`;
    const intercepted = await leg(
      ctx,
      'https',
      ms,
      (p) => dialTunnel(p.port, ORIGIN_HOST, origins.httpsPort, { servername: ORIGIN_HOST, ca: p.ca, alpn: ['http/1.1'] }),
      h1Request('/huge', tlsHost),
    );
    return {
      rows: [
        slowRow('slow-client.plain', `RSS, 1 MB/s client, 512 MiB, plain HTTP (${ms / 1000} s)`, plain),
        slowRow('slow-client.https', `RSS, 1 MB/s client, 512 MiB, intercepted (${ms / 1000} s)`, intercepted),
      ],
      notes: [
        `slow-client: the "direct" column is RSS before the download; the client reads for ${ms / 1000} s of the ~9 minutes a whole 512 MiB takes at 1 MB/s${ctx.quick ? ' (--quick)' : ''}`,
        `slow-client: the origin got ${(plain.originAhead / MB).toFixed(1)} MB (plain) and ${(intercepted.originAhead / MB).toFixed(1)} MB (intercepted) ahead of the client (socket buffers plus anything the proxy holds)`,
      ],
      detail: { rateBytesPerS: RATE, durationMs: ms, plain, intercepted },
    };
  },
};
