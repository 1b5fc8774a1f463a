/**
 * The HTTPS interception scenario (HTTP/1.1, 50 connections, 1 KiB) against a proxy with its TUI open
 * in a 120×40 tmux pane, interleaved with a headless proxy: TUI requests/s as a ratio of headless
 * (target ≥ 0.8), and the CPU per request of both.
 */
import { httpsH1Side } from '../load/sides.js';
import { interleave } from '../windows.js';
import { loadNotes } from './throughput.js';
import { interleavedBudgetMs, throughputTiming } from './timing.js';
import { row, type Scenario } from './types.js';

const CONNECTIONS = 50;
const MIN_RATIO = 0.8;

export const tuiScenario: Scenario = {
  name: 'tui',
  title: 'HTTPS interception with the TUI open (tmux) vs headless',
  budgetMs: (quick) => interleavedBudgetMs(throughputTiming(quick)) + 30_000,
  async run(ctx) {
    const headless = await ctx.startProxy('tui-headless');
    const tui = await ctx.startTuiProxy('tui-open');
    const r = await interleave(
      [httpsH1Side('headless', ctx.origins, headless, '/small', CONNECTIONS), httpsH1Side('tui', ctx.origins, tui, '/small', CONNECTIONS)],
      ctx.origins,
      { ...throughputTiming(ctx.quick), log: ctx.log },
    );
    const h = r.medians['headless']!;
    const t = r.medians['tui']!;
    const ratio = h.rps > 0 ? t.rps / h.rps : null;
    return {
      rows: [
        row({
          id: 'tui.rps',
          label: `HTTPS h1 1 KiB, ${CONNECTIONS} conns, TUI open vs headless: req/s`,
          unit: 'req/s',
          direct: h.rps,
          baseline: 'headless proxy',
          proxy: t.rps,
          cpuUsPerReq: t.proxyCpuUsPerReq,
          target: `≥ ${MIN_RATIO}× headless`,
          pass: ratio === null ? null : ratio >= MIN_RATIO,
          measured: h.proxyCpuUsPerReq === null ? undefined : `headless ${h.proxyCpuUsPerReq.toFixed(0)} µs/req`,
        }),
      ],
      notes: ['tui: the "direct" column is the headless proxy (same load, interleaved windows)', ...loadNotes('tui', r)],
      detail: { medians: r.medians, windows: r.windows },
    };
  },
};
