import type { Doc, Line, Segment } from '../doc.js';
import type { Role } from '../theme.js';

/** A match: row and column where it starts. */
export interface MatchPos {
  line: number;
  start: number;
}

/** Smart case: a query with a capital letter is case-sensitive, an all-lowercase one is not. */
function normalize(query: string): { needle: string; fold: boolean } {
  const fold = query === query.toLowerCase();
  return { needle: query, fold };
}

/** Start columns of every occurrence of `query` in `text` (non-overlapping). */
export function matchStarts(text: string, query: string): number[] {
  if (!query) return [];
  const { needle, fold } = normalize(query);
  const hay = fold ? text.toLowerCase() : text;
  const out: number[] = [];
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) out.push(i);
  return out;
}

/**
 * The next match after `from` going forward (or before it going backward), wrapping around the
 * document. With `from` null the search starts at row `startLine`, inclusive. Rows are built only
 * as far as the search goes.
 */
export function findMatch(doc: Doc, query: string, from: MatchPos | null, dir: 1 | -1, startLine = 0): { pos: MatchPos; wrapped: boolean } | null {
  const n = doc.length;
  if (!query || n === 0) return null;
  const origin = from ? from.line : Math.min(Math.max(0, startLine), n - 1);
  for (let step = 0; step <= n; step++) {
    const raw = origin + dir * step;
    const line = ((raw % n) + n) % n;
    const wrapped = dir > 0 ? raw >= n : raw < 0;
    const starts = matchStarts(doc.text(line), query);
    if (starts.length === 0) continue;
    let pick: number | undefined;
    if (step === 0 && from) {
      pick = dir > 0 ? starts.find((s) => s > from.start) : [...starts].reverse().find((s) => s < from.start);
    } else if (step === n && from) {
      // Back at the starting row after a full turn: only matches on the far side of `from`.
      pick = dir > 0 ? starts.find((s) => s <= from.start) : [...starts].reverse().find((s) => s >= from.start);
    } else {
      pick = dir > 0 ? starts[0] : starts[starts.length - 1];
    }
    if (pick !== undefined) return { pos: { line, start: pick }, wrapped };
  }
  return null;
}

/** Restyle the parts of a row that match `query`; the match at `current` gets its own role. */
export function highlightMatches(line: Line, query: string, current: number | null, role: Role = 'match', currentRole: Role = 'current-match'): Line {
  let text = '';
  for (const s of line) text += s.text;
  const starts = matchStarts(text, query);
  if (starts.length === 0) return line;
  const len = query.length;
  const roleAt = (i: number): Role | null => {
    for (const s of starts) if (i >= s && i < s + len) return s === current ? currentRole : role;
    return null;
  };
  const out: Segment[] = [];
  let pos = 0;
  for (const seg of line) {
    let runStart = 0;
    let runRole = roleAt(pos);
    for (let i = 1; i <= seg.text.length; i++) {
      const r = i < seg.text.length ? roleAt(pos + i) : undefined;
      if (i === seg.text.length || r !== runRole) {
        const piece = seg.text.slice(runStart, i);
        const eff = runRole ?? seg.role;
        out.push(eff ? { text: piece, role: eff } : { text: piece });
        runStart = i;
        runRole = r ?? null;
      }
    }
    pos += seg.text.length;
  }
  return out;
}
