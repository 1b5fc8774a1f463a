import { lineText, type Line, type Segment } from '../doc.js';
import { elideMiddle } from '../format.js';

/** What the status bar reports. */
export interface StatusFacts {
  /** Flows in the view (after the filter). */
  shown: number;
  /** Flows in the store's view: held in memory, and older ones it reads back from the session. */
  held: number;
  /**
   * With a filter, how far it covers the flows older than the held ones (read from the session in
   * the background); null or absent when there are none.
   */
  older?: { tested: number; total: number; done: boolean; scanning: boolean } | null;
  paused: number;
  rate: number;
  filter: string | null;
  intercept: string | null;
  cache: boolean;
  noCache: boolean;
  /** Rules switched on (config and user rules; built-in policies are not counted). @default 0 */
  rules?: number;
  /** Reverse mode: backends taking requests out of all of them; null or absent elsewhere. */
  backends?: { up: number; total: number } | null;
  listen: string;
  mode: string;
  session: string | null;
  /**
   * A recorded session opened without a proxy (`proxyctl open`): the bar names the session
   * instead of a listen address, and leaves out the proxy's switches. @default false
   */
  readOnly?: boolean;
}

/** Longest filter expression shown before it is elided. */
const EXPR_MAX = 30;

/**
 * The status bar as segments of exactly `width` columns in all: facts on the left, where the proxy
 * listens on the right. When it does not fit, the least important facts are dropped first. Facts
 * that are switched on (the cache) carry a role so the bar can highlight them.
 */
export function statusLine(f: StatusFacts, width: number): Line {
  type Part = { text: string; side: 'left' | 'right'; priority: number; role?: Segment['role'] };
  const parts: Part[] = [
    { text: f.filter !== null ? `${f.shown}/${f.held} flows` : f.held === 1 ? '1 flow' : `${f.held} flows`, side: 'left', priority: 0 },
  ];
  if (f.paused > 0) parts.push({ text: `${f.paused} paused`, side: 'left', priority: 1 });
  // A recording gets no new traffic: no rate to show.
  if (!f.readOnly) parts.push({ text: `${f.rate.toFixed(1)} req/s`, side: 'left', priority: 6 });
  if (f.filter !== null) parts.push({ text: `filter ${elideMiddle(f.filter, EXPR_MAX)}`, side: 'left', priority: 3 });
  if (f.filter !== null && f.older && !f.older.done) {
    // The count above is not final yet: say so, and how far the scan of older flows got.
    const pct = Math.floor((100 * f.older.tested) / Math.max(1, f.older.total));
    parts.push(
      f.older.scanning
        ? { text: `filtering older flows ${pct}%`, side: 'left', priority: 3, role: 'bar-on' }
        : { text: `filter covers held flows only (${f.older.total} older not filtered)`, side: 'left', priority: 3, role: 'bar-on' },
    );
  }
  if (f.intercept !== null) parts.push({ text: `intercept ${elideMiddle(f.intercept, EXPR_MAX)}`, side: 'left', priority: 4 });
  if (f.readOnly) {
    parts.push({ text: `session ${f.session ?? ''} (read-only)`, side: 'right', priority: 2 });
  } else {
    // On, the cache changes what clients get, so it stays longer than the (default) off.
    parts.push(f.cache ? { text: 'cache on', side: 'left', priority: 5, role: 'bar-on' } : { text: 'cache off', side: 'left', priority: 9 });
    if (f.noCache) parts.push({ text: 'no-cache', side: 'left', priority: 5, role: 'bar-on' });
    if ((f.rules ?? 0) > 0) parts.push({ text: `rules ${f.rules}`, side: 'left', priority: 5 });
    // A backend down is worth seeing from any view; all up is routine.
    if (f.backends) {
      const { up, total } = f.backends;
      parts.push(up < total ? { text: `backends ${up}/${total} up`, side: 'left', priority: 2, role: 'bar-on' } : { text: `backends ${up}/${total} up`, side: 'left', priority: 7 });
    }
    parts.push({ text: `${f.mode} ${f.listen}`, side: 'right', priority: 2 });
    if (f.session) parts.push({ text: `session ${f.session}`, side: 'right', priority: 8 });
  }

  const render = (kept: Part[]): Segment[] => {
    const out: Segment[] = [{ text: ' ' }];
    const side = (which: 'left' | 'right') => {
      kept
        .filter((p) => p.side === which)
        .forEach((p, i) => {
          if (i > 0) out.push({ text: ' │ ' });
          out.push(p.role ? { text: p.text, role: p.role } : { text: p.text });
        });
    };
    side('left');
    const leftLen = lineText(out).length - 1;
    const rightLen = kept.filter((p) => p.side === 'right').reduce((n, p, i) => n + p.text.length + (i > 0 ? 3 : 0), 0);
    out.push({ text: ' '.repeat(Math.max(1, width - leftLen - rightLen - 2)) });
    side('right');
    out.push({ text: ' ' });
    return out;
  };
  let kept = parts;
  let line = render(kept);
  while (kept.length > 1 && lineText(line).length > width) {
    const worst = kept.reduce((a, b) => (b.priority > a.priority ? b : a));
    kept = kept.filter((p) => p !== worst);
    line = render(kept);
  }
  return fitLine(line, width);
}

/** Cut or pad a line to exactly `width` columns. */
function fitLine(line: Segment[], width: number): Line {
  const out: Segment[] = [];
  let used = 0;
  for (const s of line) {
    if (used >= width) break;
    const text = s.text.slice(0, width - used);
    used += text.length;
    out.push(s.role ? { text, role: s.role } : { text });
  }
  if (used < width) out.push({ text: ' '.repeat(width - used) });
  return out;
}

/** The status bar as one plain string of exactly `width` columns. */
export function statusText(f: StatusFacts, width: number): string {
  return lineText(statusLine(f, width));
}
