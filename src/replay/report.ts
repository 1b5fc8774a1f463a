/**
 * The replay report: one result per recorded request, the line printed for it, the summary and
 * the exit code. Pure.
 *
 *     ✓ GET /api/a 200
 *     ✗ POST /api/b 200→500, body: $.items[2].price 10→12
 *     ✗ GET /api/c failed: UPSTREAM_REFUSED connection refused
 *     - GET /ws skipped: a websocket flow is not replayed
 */
import { assertNever } from '../proxy/core/assert-never.js';
import type { BodyDiff, JsonChange } from './diff.js';

interface ResultBase {
  /** The recorded flow's id. */
  flowId: string;
  method: string;
  /** Path and query, as recorded. */
  path: string;
  /** The URL the request went to (after `--target`). */
  url: string;
}

export type ReplayResult =
  | (ResultBase & { outcome: 'match' | 'differ'; recordedStatus: number; status: number; body: BodyDiff; durationMs: number })
  | (ResultBase & { outcome: 'failed'; recordedStatus: number; error: { code: string; message: string }; durationMs: number })
  | (ResultBase & { outcome: 'skipped'; reason: string });

export interface ReplaySummary {
  /** Requests sent (matched + differed + failed). */
  replayed: number;
  matched: number;
  differed: number;
  failed: number;
  /** Selected flows that cannot be replayed (websocket, errors, local responses …). */
  skipped: number;
}

export function emptySummary(): ReplaySummary {
  return { replayed: 0, matched: 0, differed: 0, failed: 0, skipped: 0 };
}

export function addToSummary(s: ReplaySummary, r: ReplayResult): void {
  switch (r.outcome) {
    case 'match':
      s.replayed++;
      s.matched++;
      return;
    case 'differ':
      s.replayed++;
      s.differed++;
      return;
    case 'failed':
      s.replayed++;
      s.failed++;
      return;
    case 'skipped':
      s.skipped++;
      return;
    default:
      assertNever(r, 'replay outcome');
  }
}

/** Exit code for CI: 0 when every replayed request matched, else 1 (DESIGN.md §7). */
export function exitCodeFor(s: ReplaySummary): 0 | 1 {
  return s.differed === 0 && s.failed === 0 ? 0 : 1;
}

/** Whether a body comparison counts as a difference. */
export function bodyDiffers(diff: BodyDiff): boolean {
  return diff.kind === 'json' || diff.kind === 'bytes' || diff.kind === 'digest';
}

const MAX_VALUE_CHARS = 40;
/** Changes listed on one line; the rest are counted (the JSON report has them all). */
export const MAX_CHANGES_PER_LINE = 3;

/** A JSON value in at most 40 characters. */
export function formatValue(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s;
}

export function formatJsonChange(c: JsonChange): string {
  switch (c.kind) {
    case 'changed':
      return `${c.path} ${formatValue(c.before)}→${formatValue(c.after)}`;
    case 'added':
      return `${c.path} added (${formatValue(c.after)})`;
    case 'removed':
      return `${c.path} removed (was ${formatValue(c.before)})`;
    default:
      return assertNever(c, 'JSON change');
  }
}

function sizes(a: number, b: number): string {
  return a === b ? `${a} bytes` : `${a}→${b} bytes`;
}

/** The body part of a line, or null when there is nothing to say. */
export function formatBodyDiff(diff: BodyDiff): string | null {
  switch (diff.kind) {
    case 'same':
      return null;
    case 'json': {
      const shown = diff.changes.slice(0, MAX_CHANGES_PER_LINE).map(formatJsonChange);
      const more = diff.changes.length - shown.length;
      return `body: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
    }
    case 'bytes':
      return `body: ${sizes(diff.recordedSize, diff.replayedSize)}, first difference at byte ${diff.firstDifference}`;
    case 'digest':
      return `body: ${sizes(diff.recordedSize, diff.replayedSize)}, SHA-256 differs`;
    case 'not-compared':
      return `body not compared: ${diff.reason}`;
    default:
      return assertNever(diff, 'body diff');
  }
}

/** The line printed for one result. */
export function formatResultLine(r: ReplayResult): string {
  const what = `${r.method} ${r.path}`;
  switch (r.outcome) {
    case 'match': {
      const note = formatBodyDiff(r.body);
      return `✓ ${what} ${r.status}${note ? ` (${note})` : ''}`;
    }
    case 'differ': {
      const status = r.status === r.recordedStatus ? `${r.status}` : `${r.recordedStatus}→${r.status}`;
      const body = formatBodyDiff(r.body);
      return `✗ ${what} ${status}${body ? `, ${body}` : ''}`;
    }
    case 'failed':
      return `✗ ${what} failed: ${r.error.code} ${r.error.message}`;
    case 'skipped':
      return `- ${what} skipped: ${r.reason}`;
    default:
      return assertNever(r, 'replay outcome');
  }
}

/** The closing line. */
export function formatSummary(s: ReplaySummary): string {
  const skipped = s.skipped ? ` (${s.skipped} skipped)` : '';
  return `${s.replayed} replayed: ${s.matched} matched, ${s.differed} differed, ${s.failed} failed${skipped}`;
}
