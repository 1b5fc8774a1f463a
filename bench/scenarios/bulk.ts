/**
 * 1 MiB responses through interception, MiB/s against the same client fetching them directly over
 * TLS (target ≥ 0.7 of direct). HTTP/1.1 and h2 client sides (h1 only with --quick), a few
 * connections each: a bulk transfer is about bytes, not request rate.
 */
import { httpsH1Side, httpsH2Side } from '../load/sides.js';
import { interleave, type Interleaved } from '../windows.js';
import { loadNotes } from './throughput.js';
import { interleavedBudgetMs, throughputTiming } from './timing.js';
import { row, type Row, type Scenario } from './types.js';

const CONNECTIONS = 8;
const MIN_RATIO = 0.7;

function bulkRow(id: string, label: string, r: Interleaved): Row {
  const d = r.medians['direct']!;
  const p = r.medians['proxy']!;
  const ratio = d.mibPerS > 0 ? p.mibPerS / d.mibPerS : null;
  return row({
    id,
    label,
    unit: 'MiB/s',
    direct: d.mibPerS,
    proxy: p.mibPerS,
    cpuUsPerReq: p.proxyCpuUsPerReq,
    target: `≥ ${MIN_RATIO}× direct`,
    pass: ratio === null ? null : ratio >= MIN_RATIO,
  });
}

export const bulkScenario: Scenario = {
  name: 'bulk',
  title: '1 MiB responses through interception (MiB/s)',
  budgetMs: (quick) => 2 * interleavedBudgetMs(throughputTiming(quick)),
  async run(ctx) {
    const proxy = await ctx.startProxy('bulk');
    const timing = { ...throughputTiming(ctx.quick), log: ctx.log };
    ctx.log('  HTTP/1.1 client side');
    const h1 = await interleave(
      [httpsH1Side('direct', ctx.origins, null, '/large', CONNECTIONS), httpsH1Side('proxy', ctx.origins, proxy, '/large', CONNECTIONS)],
      ctx.origins,
      timing,
    );
    const rows = [bulkRow('bulk-h1.mibps', `HTTPS h1 1 MiB, ${CONNECTIONS} conns`, h1)];
    const notes = [...loadNotes('bulk h1', h1), 'bulk: CPU µs/req is per 1 MiB response'];
    const detail: Record<string, unknown> = { connections: CONNECTIONS, h1: { medians: h1.medians, windows: h1.windows } };
    // --quick measures the HTTP/1.1 client side only.
    if (!ctx.quick) {
      ctx.log('  h2 client side');
      const h2 = await interleave(
        [httpsH2Side('direct', ctx.origins, null, '/large', CONNECTIONS, 1), httpsH2Side('proxy', ctx.origins, proxy, '/large', CONNECTIONS, 1)],
        ctx.origins,
        timing,
      );
      rows.push(bulkRow('bulk-h2.mibps', `HTTPS h2 1 MiB, ${CONNECTIONS} conns`, h2));
      notes.push(...loadNotes('bulk h2', h2));
      detail['h2'] = { medians: h2.medians, windows: h2.windows };
    } else notes.push('bulk: --quick measured the HTTP/1.1 client side only');
    return { rows, notes, detail };
  },
};
