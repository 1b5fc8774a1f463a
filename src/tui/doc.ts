import type { Role } from './theme.js';

/** A run of text with one meaning. */
export interface Segment {
  text: string;
  role?: Role;
}

/** One screen row, already no wider than the pane it was built for. */
export type Line = readonly Segment[];

/**
 * A paged document: only the rows on screen are ever turned into segments, so a body of many
 * megabytes costs one index pass and then the handful of rows shown.
 */
export interface Doc {
  readonly length: number;
  line(index: number): Line;
  /** The plain text of a row (for search). */
  text(index: number): string;
}

export const EMPTY_DOC: Doc = { length: 0, line: () => [], text: () => '' };

export function lineText(line: Line): string {
  let out = '';
  for (const s of line) out += s.text;
  return out;
}

/** A document over rows already built (small things: header tables, summaries). */
export function arrayDoc(lines: readonly Line[]): Doc {
  return {
    length: lines.length,
    line: (i) => lines[i] ?? [],
    text: (i) => lineText(lines[i] ?? []),
  };
}

/** Several documents one after the other. */
export function concatDocs(docs: readonly Doc[]): Doc {
  const parts = docs.filter((d) => d.length > 0);
  const starts: number[] = [];
  let total = 0;
  for (const d of parts) {
    starts.push(total);
    total += d.length;
  }
  const locate = (i: number): [Doc, number] | null => {
    if (i < 0 || i >= total) return null;
    let lo = 0;
    let hi = parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return [parts[lo]!, i - starts[lo]!];
  };
  return {
    length: total,
    line: (i) => {
      const at = locate(i);
      return at ? at[0].line(at[1]) : [];
    },
    text: (i) => {
      const at = locate(i);
      return at ? at[0].text(at[1]) : '';
    },
  };
}

/**
 * Control characters would reach the terminal as escape sequences (a body could move the cursor or
 * retitle the window), so every C0/C1 control except the line feed is shown as `·`; tabs become
 * two spaces so columns stay countable.
 */
export function sanitize(text: string): string {
  // Most text has none of these: one scan, no copies.
  // eslint-disable-next-line no-control-regex
  if (!/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(text)) return text;
  // eslint-disable-next-line no-control-regex
  return text.replace(/\t/g, '  ').replace(/\r\n/g, '\n').replace(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/g, '·');
}

/**
 * A text document hard-wrapped at `width` columns. The row index (start and end offsets) is built
 * once; `highlight` styles a row only when it is shown.
 */
export function textDoc(text: string, width: number, highlight?: (row: string) => Line): Doc {
  const clean = sanitize(text);
  const w = Math.max(1, width);
  const starts: number[] = [];
  const ends: number[] = [];
  let pos = 0;
  const n = clean.length;
  while (pos <= n) {
    let nl = clean.indexOf('\n', pos);
    if (nl === -1) nl = n;
    if (nl === pos) {
      starts.push(pos);
      ends.push(pos);
    }
    for (let s = pos; s < nl; s += w) {
      starts.push(s);
      ends.push(Math.min(s + w, nl));
    }
    pos = nl + 1;
  }
  // A trailing newline does not open a further (empty) row.
  if (n > 0 && clean.endsWith('\n')) {
    starts.pop();
    ends.pop();
  }
  const row = (i: number): string => (i >= 0 && i < starts.length ? clean.slice(starts[i], ends[i]) : '');
  return {
    length: starts.length,
    text: row,
    line: (i) => {
      const s = row(i);
      return highlight ? highlight(s) : [{ text: s }];
    },
  };
}

/** Cut a plain string into rows of at most `width` columns (continuations indented by `indent`). */
export function wrapPlain(text: string, width: number, indent = 0): string[] {
  const w = Math.max(1, width);
  if (text.length <= w) return [text];
  const rows = [text.slice(0, w)];
  const rest = Math.max(1, w - indent);
  for (let s = w; s < text.length; s += rest) rows.push(' '.repeat(indent) + text.slice(s, s + rest));
  return rows;
}
