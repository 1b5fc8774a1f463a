import { isAbsolute, relative } from 'node:path';
import { exportFlowList, type FlowListExport } from '../../export/export-flows.js';
import type { ExportFormat } from '../../export/output-layout.js';
import type { ExportSummary } from '../../export/run-export.js';
import type { Flow } from '../../proxy/core/flow.js';
import { currentFlow, type CommandDeps } from '../commands.js';
import type { MessageLevel } from '../state/app-state.js';
import { defaultExportPath, defaultScope, describeScope, exportStamp } from '../state/export-state.js';
import { countMarked, planScope, snapshotReader } from './export-scope.js';
import { wholeFlows, type ReadBackStats, type ReadFlow, type ScopePlan } from './whole-flows.js';

/**
 * The export keys (issue 7): `E` opens the prompt, a format key (or the arrows and Enter) picks the
 * format, Tab the scope, and Enter in the file-name prompt writes the file through the same code
 * as `proxyctl export` (export-flows.ts), redacted by default. Every flow in scope is read back
 * whole first (whole-flows.ts): the store keeps only the newest flows in memory and may have let go
 * of body bytes, and an export must not quietly leave those out or write them without bodies. The
 * result, with what was redacted, goes to the message line and the event log; the store is only read.
 */

/** Where exports go and how they are named; the app passes its own, tests a temporary folder. */
export interface ExportTarget {
  /** Where a relative file name resolves. */
  dir: string;
  /** Names the export inside the files (the session, for `proxyctl open`). */
  label: string;
  /**
   * The whole flow with sequence `seq`: the store snapshot's `read`, which reads older flows and
   * let-go bodies back from the session. @default the flows as the snapshot shows them (right for a
   * store without a session, which holds every flow whole)
   */
  read?: ReadFlow;
}

function target(d: CommandDeps): ExportTarget {
  return d.exportTo ?? { dir: process.cwd(), label: 'proxyctl' };
}

/** The progress line is redrawn at most this often (a 200,000-flow export would otherwise render per flow). */
const PROGRESS_MS = 100;

/** `E`: open the format step, scoped to the marked flows if any, else the view. */
export function openExport(d: CommandDeps): void {
  const counts = { marked: countMarked(d), view: d.index.length, selected: currentFlow(d) ? 1 : 0 };
  if (defaultScope(counts) === null) {
    d.dispatch({ type: 'message', text: 'nothing to export: no flows', level: 'warn' });
    return;
  }
  d.dispatch({ type: 'export', action: { type: 'open', counts, stamp: exportStamp(Date.now()) } });
}

/** A format key, or Enter on the highlighted one: go on to the file name. */
export function chooseFormat(d: CommandDeps, format: ExportFormat): void {
  const x = d.state.export;
  if (!x) return;
  d.dispatch({ type: 'export', action: { type: 'choose', format } });
  const label = `export ${describeScope(x.scope, x.counts[x.scope])} as ${format} to: `;
  d.dispatch({ type: 'prompt', action: { type: 'open', kind: 'export', text: defaultExportPath(format, x.stamp), label } });
}

/**
 * Enter in the file-name prompt: take the flows in scope and start reading them back whole and
 * writing them; progress and the result go to the message line. Returns an error for the prompt's
 * second line (the prompt stays open), or null once the export started.
 */
export function submitExport(d: CommandDeps, path: string): string | null {
  const x = d.state.export;
  if (!x) return null;
  if (path === '') return '^ write a file name (or a folder, for the fixture layouts)';
  const plan = planScope(d, x.scope);
  if (plan.seqs.length === 0) return `^ no ${x.scope === 'selected' ? 'selected' : x.scope} flows any more`;
  const to = target(d);
  void exportScope(d, plan, to.read ?? snapshotReader(d), { format: x.format, output: path, cwd: to.dir, label: to.label });
  return null;
}

/**
 * Read the flows of `plan` back whole (showing `exporting N/M…` while it reads) and write them.
 * Never rejects: the result or the failure is a note (message line and event log).
 */
async function exportScope(d: CommandDeps, plan: ScopePlan, read: ReadFlow, opts: FlowListExport): Promise<void> {
  const note = (text: string, level: MessageLevel) => d.dispatch({ type: 'note', text, level, time: Date.now() });
  const progress = (done: number, total: number) => d.dispatch({ type: 'message', text: `exporting ${done}/${total}… to ${opts.output}`, level: 'info' });
  let shown = Date.now();
  progress(0, plan.seqs.length);
  const stats: ReadBackStats = { missing: 0, withoutBodies: 0 };
  try {
    // The writer takes a list (export-flows.ts); the reads are bounded, the list is not.
    const flows: Flow[] = [];
    const onProgress = (done: number, total: number) => {
      const now = Date.now();
      if (now - shown < PROGRESS_MS && done < total) return;
      shown = now;
      progress(done, total);
    };
    for await (const flow of wholeFlows(plan, read, stats, { onProgress })) flows.push(flow);
    if (flows.length === 0) {
      note(`nothing exported to ${opts.output}: ${plan.keep ? 'no flow in scope is marked any more' : 'the flows are no longer in the view'}`, 'warn');
      return;
    }
    d.dispatch({ type: 'message', text: `writing ${flows.length} flow${flows.length === 1 ? '' : 's'} to ${opts.output} …`, level: 'info' });
    const summary = await exportFlowList(flows, opts);
    const text = describeExport(summary, opts.cwd) + describeReadBack(stats);
    note(text, stats.missing > 0 || stats.withoutBodies > 0 ? 'warn' : 'info');
  } catch (err) {
    note(`export to ${opts.output} failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
  }
}

/** What reading back fell short of, appended to the result: `; 2 flows could not be read back (…)`. */
export function describeReadBack(stats: ReadBackStats): string {
  let text = '';
  if (stats.missing > 0) text += `; ${stats.missing} flow${stats.missing === 1 ? '' : 's'} could not be read back (cleared, or unreadable in the session)`;
  if (stats.withoutBodies > 0) text += `; ${stats.withoutBodies} exported without a body that could not be read back from the session`;
  return text;
}

/** `exported 12 flows to ./x.har (redacted: Authorization ×3, Cookie ×1)`. */
export function describeExport(summary: ExportSummary, cwd: string): string {
  const files = summary.written.map((p) => shownPath(p, cwd)).join(', ');
  let text = `exported ${summary.flows} flow${summary.flows === 1 ? '' : 's'} to ${files}`;
  const report = summary.report;
  if (report) {
    const parts = [...report.counts].map(([k, n]) => `${k} ×${n}`);
    text += parts.length ? ` (redacted: ${parts.join(', ')})` : ' (nothing to redact)';
  } else text += ' (not redacted)';
  if (summary.skipped) text += `; left out: ${summary.skipped}`;
  return text;
}

/** A written path as the user thinks of it: `./x.har` under the folder proxyctl runs in, else absolute. */
function shownPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : path;
}
