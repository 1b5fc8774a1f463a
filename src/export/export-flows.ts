/**
 * Export a list of flows already in memory to a file (the TUI's `E`), through the same layout,
 * redaction and writers as `proxyctl export` (output-layout.ts, redact.ts, run-export.ts).
 */
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { Writable } from 'node:stream';
import type { Flow } from '../proxy/core/flow.js';
import { outputLayout, type ExportFormat, type MockLibrary } from './output-layout.js';
import { compileRedaction, defaultRedaction, type Redaction } from './redact.js';
import { runExport, type ExportSummary } from './run-export.js';
import { memorySource } from './source.js';

export interface FlowListExport {
  format: ExportFormat;
  /** A file, or a directory for the fixture layouts, as `-o` takes it; relative to `cwd`. */
  output: string;
  /** Where a relative `output` resolves. */
  cwd: string;
  /** Names the export inside the files (HAR comment, fixture headers) and files written into a directory. */
  label: string;
  /** null keeps the secrets. @default the default redaction (Authorization, Cookie …) */
  redaction?: Redaction | null;
  /** @default 'msw' */
  mock?: MockLibrary;
}

/** Nothing is ever written to stdout here (the TUI owns the screen); a path is always given. */
const NO_STDOUT = new Writable({
  write(_chunk, _encoding, done) {
    done();
  },
});

/** Write `flows` (already selected by the caller) as `opts.format`; the summary says what was redacted. */
export async function exportFlowList(flows: readonly Flow[], opts: FlowListExport): Promise<ExportSummary> {
  if (opts.output.trim() === '') throw new Error('no output path given');
  const path = resolve(opts.cwd, opts.output);
  const outputIsDir = (await stat(path).catch(() => null))?.isDirectory() ?? false;
  const label = opts.label.replace(/[^A-Za-z0-9._-]/g, '_');
  const mock = opts.mock ?? 'msw';
  // `resolve` drops a trailing slash, which outputLayout reads as "a directory".
  const output = /[/\\]$/.test(opts.output) ? `${path}${sep}` : path;
  const files = outputLayout({ format: opts.format, output, outputIsDir, lang: null, mock, label });
  const redaction = opts.redaction === undefined ? compileRedaction(defaultRedaction()) : opts.redaction;
  return runExport(memorySource(opts.label, flows), { format: opts.format, filter: null, redaction, files, mock }, { stdout: NO_STDOUT });
}
