import { isAbsolute, relative } from 'node:path';
import { exportFlowList } from '../../export/export-flows.js';
import type { ExportFormat } from '../../export/output-layout.js';
import type { ExportSummary } from '../../export/run-export.js';
import { assertNever } from '../../proxy/core/assert-never.js';
import type { Flow } from '../../proxy/core/flow.js';
import { currentFlow, type CommandDeps } from '../commands.js';
import { defaultExportPath, defaultScope, describeScope, exportStamp, type ExportScope } from '../state/export-state.js';

/**
 * The export keys (issue 7): `E` opens the prompt, a format key (or the arrows and Enter) picks the
 * format, Tab the scope, and Enter in the file-name prompt writes the file through the same code
 * as `proxyctl export` (export-flows.ts), redacted by default. The result, with what was redacted,
 * goes to the message line and the event log; the store is only read.
 */

/** Where exports go and how they are named; the app passes its own, tests a temporary folder. */
export interface ExportTarget {
  /** Where a relative file name resolves. */
  dir: string;
  /** Names the export inside the files (the session, for `proxyctl open`). */
  label: string;
}

function target(d: CommandDeps): ExportTarget {
  return d.exportTo ?? { dir: process.cwd(), label: 'proxyctl' };
}

/** The flows of a scope, in list order, as the store holds them (bodies as captured). */
export function scopeFlows(d: CommandDeps, scope: ExportScope): Flow[] {
  switch (scope) {
    case 'selected': {
      const cur = currentFlow(d);
      return cur ? [cur.flow] : [];
    }
    case 'marked': {
      const out: Flow[] = [];
      for (let i = 0; i < d.heldCount; i++) {
        const f = d.flowAt(i);
        if (f?.marked) out.push(f);
      }
      return out;
    }
    case 'view': {
      const out: Flow[] = [];
      for (let i = 0; i < d.index.length; i++) {
        const f = d.flowAt(d.index.positionOf(d.index.seqAt(i)));
        if (f) out.push(f);
      }
      return out;
    }
    default:
      return assertNever(scope, 'export scope');
  }
}

function countMarked(d: CommandDeps): number {
  let n = 0;
  for (let i = 0; i < d.heldCount; i++) if (d.flowAt(i)?.marked) n++;
  return n;
}

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
 * Enter in the file-name prompt: start writing and report when done. Returns an error for the
 * prompt's second line (the prompt stays open), or null once the export started.
 */
export function submitExport(d: CommandDeps, path: string): string | null {
  const x = d.state.export;
  if (!x) return null;
  if (path === '') return '^ write a file name (or a folder, for the fixture layouts)';
  const flows = scopeFlows(d, x.scope);
  if (flows.length === 0) return `^ no ${x.scope === 'selected' ? 'selected' : x.scope} flows any more`;
  const { dir, label } = target(d);
  const note = (text: string, level: 'info' | 'error') => d.dispatch({ type: 'note', text, level, time: Date.now() });
  d.dispatch({ type: 'message', text: `exporting ${flows.length} flow${flows.length === 1 ? '' : 's'} to ${path} …`, level: 'info' });
  exportFlowList(flows, { format: x.format, output: path, cwd: dir, label }).then(
    (summary) => note(describeExport(summary, dir), 'info'),
    (err: unknown) => note(`export to ${path} failed: ${err instanceof Error ? err.message : String(err)}`, 'error'),
  );
  return null;
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
