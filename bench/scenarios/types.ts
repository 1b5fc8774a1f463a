/** What a scenario gets from the harness and what it hands back for the report. */
import type { Scope } from '../cleanup.js';
import type { Origins } from '../origins.js';
import type { ProxyUnderTest } from '../proxy-process.js';

/** One line of the report table (and of latest.json). */
export interface Row {
  /** Stable key, e.g. `plain-h1.rps`. */
  id: string;
  /** What was measured, e.g. `plain HTTP 1 KiB, 50 conns: req/s`. */
  label: string;
  unit: string;
  /** The same client talking to the origin directly, or the baseline named by `baseline`. */
  direct: number | null;
  /** What the `direct` column holds when it is not the direct client (e.g. `headless proxy`). */
  baseline?: string;
  proxy: number | null;
  /** proxy / direct. */
  ratio: number | null;
  /** The proxy process's CPU time (user + system) per completed request, µs. */
  cpuUsPerReq: number | null;
  /** The target in words, e.g. `CPU ≤ 60 µs/req`; null when the row is for information. */
  target: string | null;
  pass: boolean | null;
  /** The figure the target was judged on when it is not one of the columns (e.g. `+0.21 ms`). */
  measured?: string;
}

export interface ScenarioOutput {
  rows: Row[];
  /** Sentences for the report under the table (load generator saturation, scaled-down runs …). */
  notes: string[];
  /** Every figure behind the rows (per window, per round), for latest.json. */
  detail: Record<string, unknown>;
}

export interface BenchContext {
  quick: boolean;
  origins: Origins;
  /** Closed when the scenario ends (or times out): proxies, pools, temp folders. */
  scope: Scope;
  /** Use wrk for plain HTTP (installed); otherwise the Node client. */
  useWrk: boolean;
  /** Start a fresh headless proxy for this scenario (with `--cpu-prof` when asked). */
  startProxy(session: string, args?: string[]): Promise<ProxyUnderTest>;
  /** Start a fresh proxy with its TUI open in tmux. */
  startTuiProxy(session: string): Promise<ProxyUnderTest>;
  log(line: string): void;
}

export interface Scenario {
  /** `--only` name. */
  name: string;
  title: string;
  /** Upper bound on its run time; past it the scenario is abandoned and reported as failed. */
  budgetMs(quick: boolean): number;
  run(ctx: BenchContext): Promise<ScenarioOutput>;
}

/** A row with the ratio filled in from direct and proxy. */
export function row(r: Omit<Row, 'ratio'> & { ratio?: number | null }): Row {
  const ratio =
    r.ratio !== undefined ? r.ratio : r.direct !== null && r.proxy !== null && r.direct !== 0 && Number.isFinite(r.direct) && Number.isFinite(r.proxy) ? r.proxy / r.direct : null;
  return { ...r, ratio };
}
