import { headerValue, type Flow } from '../proxy/core/flow.js';
import type { Role } from './theme.js';

/** Human size with 1024 steps: `0`, `512`, `1.5k`, `34k`, `1.2M`, `3.0G`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return String(bytes);
  const units = ['k', 'M', 'G', 'T'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return value < 10 ? `${value.toFixed(1)}${units[unit]}` : `${Math.round(value)}${units[unit]}`;
}

/** Bytes spelled out for the detail view: `512 B`, `1.5 KiB`, `4.0 MiB`. */
export function formatBytesLong(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Duration: `850us`, `12ms`, `1.25s`, `12.3s`, `2m05s`; `…` while unknown. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '…';
  if (ms < 1) return `${Math.round(ms * 1000)}us`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, '0')}s`;
}

/** Local wall-clock time `HH:MM:SS`. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * Shorten to `width` columns by cutting the middle (`/api/v1/us…/profile`): both the start and the
 * end of a path carry meaning.
 */
export function elideMiddle(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  const keep = width - 1;
  const head = Math.ceil(keep / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (keep - head))}`;
}

/** Pad or cut to exactly `width` columns. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (text.length > width) return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

/** The colour class of a status code: `status2` for 2xx and so on. */
export function statusRole(status: number): Role {
  if (status >= 500) return 'status5';
  if (status >= 400) return 'status4';
  if (status >= 300) return 'status3';
  if (status >= 200) return 'status2';
  return 'status1';
}

const TYPE_NAMES: ReadonlyArray<[RegExp, string]> = [
  [/[/+]json\b/, 'json'],
  [/^text\/html\b/, 'html'],
  [/^text\/css\b/, 'css'],
  [/javascript|ecmascript/, 'js'],
  [/^application\/x-www-form-urlencoded\b/, 'form'],
  [/^multipart\//, 'multi'],
  [/[/+]xml\b/, 'xml'],
  [/^text\/plain\b/, 'text'],
  [/^text\/event-stream\b/, 'sse'],
  [/^image\/svg/, 'svg'],
  [/^application\/octet-stream\b/, 'bin'],
  [/^application\/wasm\b/, 'wasm'],
  [/^application\/grpc/, 'grpc'],
];

/** Short form of a content type for the list column: `json`, `html`, `png`, `woff2` … */
export function shortType(contentType: string | undefined): string {
  if (!contentType) return '';
  const ct = contentType.split(';', 1)[0]!.trim().toLowerCase();
  for (const [re, name] of TYPE_NAMES) if (re.test(ct)) return name;
  const slash = ct.indexOf('/');
  const sub = slash >= 0 ? ct.slice(slash + 1) : ct;
  return sub.replace(/^(x-|vnd\.)/, '').slice(0, 5);
}

/** The content type describing what the list shows for a flow (response first). */
export function flowContentType(flow: Flow): string | undefined {
  if (flow.response) return headerValue(flow.response.headers, 'content-type');
  return headerValue(flow.request.headers, 'content-type');
}

export function isPaused(flow: Flow): boolean {
  return flow.phase === 'request-paused' || flow.phase === 'response-paused';
}

export interface Marker {
  char: string;
  role: Role;
  help: string;
}

/**
 * Markers in the list's flag column, most important first (a narrow column shows the first few).
 * The help overlay lists the same table as the legend. What a rule did (blocked, cache hit …) has
 * its own column (see proxy-action.ts).
 */
export const MARKERS = {
  paused: { char: 'P', role: 'warn', help: 'paused at a breakpoint' },
  error: { char: 'E', role: 'error', help: 'failed (see the error)' },
  replayed: { char: 'R', role: 'accent', help: 'a replay of another flow' },
  websocket: { char: 'W', role: 'accent', help: 'WebSocket' },
  h2: { char: '2', role: 'muted', help: 'HTTP/2' },
  tls: { char: 'S', role: 'muted', help: 'TLS (https)' },
} as const satisfies Record<string, Marker>;

export function flowMarkers(flow: Flow): Marker[] {
  const out: Marker[] = [];
  if (isPaused(flow)) out.push(MARKERS.paused);
  if (flow.error || flow.phase === 'error') out.push(MARKERS.error);
  if (flow.tags.some((t) => t.startsWith('replay-of:'))) out.push(MARKERS.replayed);
  if (flow.kind === 'websocket' || flow.websocket) out.push(MARKERS.websocket);
  if (flow.request.httpVersion === '2') out.push(MARKERS.h2);
  if (flow.request.scheme === 'https') out.push(MARKERS.tls);
  return out;
}
