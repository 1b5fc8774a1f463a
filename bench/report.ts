/** The printed table and bench/results/*.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Row, ScenarioOutput } from './scenarios/types.js';

export interface ScenarioRecord {
  name: string;
  title: string;
  durationMs: number;
  /** Set when the scenario failed or ran past its budget. */
  error: string | null;
  output: ScenarioOutput | null;
}

export interface RunInfo {
  mode: 'full' | 'quick';
  startedAt: string;
  durationMs: number;
  node: string;
  cpus: number;
  /** 1-minute load average when the run started and ended. */
  loadAverage: { start: number; end: number };
  commit: string | null;
  /** 'wrk' or 'node' for plain HTTP. */
  plainLoadgen: string;
  notes: string[];
}

/** Numbers with as many digits as they deserve. */
export function fmt(v: number | null, unit = ''): string {
  if (v === null || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  const s = a >= 10_000 ? Math.round(v).toLocaleString('en-US') : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
  return unit ? `${s} ${unit}` : s;
}

function verdict(pass: boolean | null): string {
  return pass === null ? '' : pass ? 'PASS' : 'FAIL';
}

export function renderTable(records: ScenarioRecord[]): string {
  const header = ['scenario', 'direct', 'proxy', 'ratio', 'CPU µs/req', 'target', 'result'];
  const lines: string[][] = [];
  for (const r of records) {
    if (r.error !== null || !r.output) {
      lines.push([`${r.name}: ${r.title}`, '', '', '', '', 'scenario ran', `FAIL (${r.error ?? 'no output'})`]);
      continue;
    }
    for (const row of r.output.rows) {
      lines.push([
        row.unit && !row.label.endsWith(row.unit) ? `${row.label} (${row.unit})` : row.label,
        fmt(row.direct),
        fmt(row.proxy),
        row.ratio === null ? '–' : `${row.ratio.toFixed(2)}×`,
        fmt(row.cpuUsPerReq),
        row.target ?? '',
        row.measured ? `${verdict(row.pass)} (${row.measured})`.trim() : verdict(row.pass),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const right = new Set([1, 2, 3, 4]);
  const render = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [render(header), widths.map((w) => '─'.repeat(w)).join('  '), ...lines.map(render)].join('\n');
}

export function summarize(records: ScenarioRecord[]): { passed: number; failed: number; total: number } {
  let passed = 0;
  let failed = 0;
  for (const r of records) {
    if (r.error !== null) failed++;
    for (const row of r.output?.rows ?? []) {
      if (row.pass === true) passed++;
      else if (row.pass === false) failed++;
    }
  }
  return { passed, failed, total: passed + failed };
}

export function renderNotes(info: RunInfo, records: ScenarioRecord[]): string {
  const notes = [...info.notes];
  for (const r of records) notes.push(...(r.output?.notes ?? []));
  return notes.map((n) => `- ${n}`).join('\n');
}

export function writeJson(path: string, info: RunInfo, records: ScenarioRecord[]): void {
  const rows: Row[] = records.flatMap((r) => r.output?.rows ?? []);
  const doc = {
    ...info,
    summary: summarize(records),
    rows,
    scenarios: Object.fromEntries(
      records.map((r) => [r.name, { title: r.title, durationMs: Math.round(r.durationMs), error: r.error, notes: r.output?.notes ?? [], detail: r.output?.detail ?? null }]),
    ),
  };
  mkdirSync(dirname(path), { recursive: true });
  // Figures rounded to 4 significant digits: precision beyond the noise only bloats the diff.
  writeFileSync(path, `${JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v), 2)}\n`);
}
