import type { BackendStatus } from '../../proxy/reverse/status.js';
import { sanitize, type Line, type Segment } from '../doc.js';
import { elideMiddle, fit } from '../format.js';

/**
 * The backends pane's rows (issue 8): one backend per row with its group, URL, health state (how
 * long it has been so, and why it is down), weight and request counts. Pure, so the layout is
 * tested without a terminal.
 */

/** How many backends there are and how many take requests; null outside reverse mode. */
export interface BackendsSummary {
  up: number;
  total: number;
}

export function backendsSummary(backends: readonly BackendStatus[]): BackendsSummary | null {
  if (backends.length === 0) return null;
  let up = 0;
  for (const b of backends) if (b.healthy) up++;
  return { up, total: backends.length };
}

/** Age for the state column: `45s`, `12m`, `3h`, `2d` (the state is read at a glance, not timed). */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** `UP`, `DOWN for 12s`: the state and how long it has held (nothing when it never changed). */
export function stateText(b: BackendStatus, now: number): string {
  const word = b.healthy ? 'UP' : 'DOWN';
  return b.since === null ? word : `${word} for ${formatAge(now - b.since)}`;
}

/** Column widths shared by all rows. */
export interface BackendColumns {
  group: number;
  url: number;
}

const STATE_W = 13;
const WEIGHT_W = 6;
const INFLIGHT_W = 9;
const REQUESTS_W = 9;
const FAILURES_W = 9;
/** Width of everything but group, URL and reason, separators included. */
const FIXED = 2 + STATE_W + 1 + WEIGHT_W + 1 + INFLIGHT_W + 1 + REQUESTS_W + 1 + FAILURES_W + 1;
const URL_MAX = 40;

export function backendColumns(backends: readonly BackendStatus[], width: number): BackendColumns {
  const group = Math.min(16, Math.max(5, ...backends.map((b) => b.group.length)));
  // The URL gets what the numbers leave, up to its longest value; the reason takes the rest.
  const url = Math.max(8, Math.min(URL_MAX, Math.max(3, ...backends.map((b) => b.url.length)), width - FIXED - group - 1));
  return { group, url };
}

/** The pane's title row: `Backends  3 backends, 2 up`. */
export function backendsTitle(backends: readonly BackendStatus[]): Line {
  const s = backendsSummary(backends);
  if (!s) return [{ text: 'Backends', role: 'heading' }];
  return [
    { text: 'Backends', role: 'heading' },
    { text: `  ${s.total === 1 ? '1 backend' : `${s.total} backends`}, ${s.up} up`, role: s.up < s.total ? 'warn' : 'muted' },
  ];
}

/** The column header row. */
export function backendsHeader(cols: BackendColumns, width: number): Line {
  const text = ` ${[
    fit('GROUP', cols.group),
    fit('URL', cols.url),
    fit('STATE', STATE_W),
    fit('WEIGHT', WEIGHT_W, 'right'),
    fit('IN FLIGHT', INFLIGHT_W, 'right'),
    fit('REQUESTS', REQUESTS_W, 'right'),
    fit('FAILURES', FAILURES_W, 'right'),
    'REASON',
  ].join(' ')}`;
  return [{ text: text.slice(0, width), role: 'muted' }];
}

/** One backend, cut to `width`: a backend that is down is drawn in the warning colour, with why. */
export function backendLine(b: BackendStatus, cols: BackendColumns, now: number, width: number): Line {
  const segments: Segment[] = [
    { text: ' ' },
    { text: `${fit(sanitize(b.group), cols.group)} `, role: 'muted' },
    { text: `${fit(elideMiddle(sanitize(b.url), cols.url), cols.url)} ` },
    { text: `${fit(stateText(b, now), STATE_W)} `, role: b.healthy ? 'ok' : 'error' },
    { text: `${fit(String(b.weight), WEIGHT_W, 'right')} ` },
    { text: `${fit(String(b.inFlight), INFLIGHT_W, 'right')} ` },
    { text: `${fit(String(b.requests), REQUESTS_W, 'right')} ` },
    { text: `${fit(String(b.failures), FAILURES_W, 'right')} `, ...(b.failures > 0 ? { role: 'warn' as const } : {}) },
  ];
  let used = 0;
  for (const s of segments) used += s.text.length;
  const room = width - used;
  if (b.reason && room > 0) segments.push({ text: fit(sanitize(b.reason).replace(/\s+/g, ' '), room).trimEnd(), role: 'error' });
  return cutLine(segments, width);
}

function cutLine(segments: readonly Segment[], width: number): Line {
  const out: Segment[] = [];
  let used = 0;
  for (const s of segments) {
    if (used >= width) break;
    const text = s.text.slice(0, width - used);
    used += text.length;
    out.push({ ...s, text });
  }
  return out;
}

/** What the pane says without backends: the proxy is not a reverse proxy. */
export const NOT_REVERSE_TEXT: readonly Line[] = [
  [{ text: 'Not in reverse mode: there are no backends to show.', role: 'muted' }],
  [],
  [{ text: 'Start proxyctl as a reverse proxy to balance requests over backends, e.g.' }],
  [{ text: '  proxyctl start --mode reverse:http://127.0.0.1:3001,http://127.0.0.1:3002', role: 'accent' }],
  [{ text: 'or with a ' }, { text: 'reverse:', role: 'accent' }, { text: ' section (backends, health checks, routes) in the config file.' }],
];
