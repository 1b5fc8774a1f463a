import { elideMiddle } from '../format.js';

/** What the status bar reports. */
export interface StatusFacts {
  /** Flows in the view (after the filter). */
  shown: number;
  /** Flows held by the store. */
  held: number;
  paused: number;
  rate: number;
  filter: string | null;
  intercept: string | null;
  cache: boolean;
  noCache: boolean;
  listen: string;
  mode: string;
  session: string | null;
}

/** Longest filter expression shown before it is elided. */
const EXPR_MAX = 30;

/**
 * The status bar as one string of exactly `width` columns: facts on the left, where the proxy
 * listens on the right. When it does not fit, the least important facts are dropped first.
 */
export function statusText(f: StatusFacts, width: number): string {
  type Part = { text: string; side: 'left' | 'right'; priority: number };
  const parts: Part[] = [
    { text: f.filter !== null ? `${f.shown}/${f.held} flows` : f.held === 1 ? '1 flow' : `${f.held} flows`, side: 'left', priority: 0 },
  ];
  if (f.paused > 0) parts.push({ text: `${f.paused} paused`, side: 'left', priority: 1 });
  parts.push({ text: `${f.rate.toFixed(1)} req/s`, side: 'left', priority: 6 });
  if (f.filter !== null) parts.push({ text: `filter ${elideMiddle(f.filter, EXPR_MAX)}`, side: 'left', priority: 3 });
  if (f.intercept !== null) parts.push({ text: `intercept ${elideMiddle(f.intercept, EXPR_MAX)}`, side: 'left', priority: 4 });
  parts.push({ text: f.cache ? 'cache on' : 'cache off', side: 'left', priority: 7 });
  if (f.noCache) parts.push({ text: 'no-cache', side: 'left', priority: 7 });
  parts.push({ text: `${f.mode} ${f.listen}`, side: 'right', priority: 2 });
  if (f.session) parts.push({ text: `session ${f.session}`, side: 'right', priority: 8 });

  const render = (kept: Part[]): string => {
    const left = kept.filter((p) => p.side === 'left').map((p) => p.text).join(' │ ');
    const right = kept.filter((p) => p.side === 'right').map((p) => p.text).join(' │ ');
    const gap = width - left.length - right.length - 2;
    return ` ${left}${' '.repeat(Math.max(1, gap))}${right} `;
  };
  let kept = parts;
  while (kept.length > 1 && render(kept).length > width) {
    const worst = kept.reduce((a, b) => (b.priority > a.priority ? b : a));
    kept = kept.filter((p) => p !== worst);
  }
  const out = render(kept);
  return out.length > width ? out.slice(0, width) : out.padEnd(width);
}
