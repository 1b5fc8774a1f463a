import type { Flow } from '../proxy/core/flow.js';
import { flowUrl, proxyOverheadMs } from '../proxy/core/flow.js';

export type AccessLogFormat = 'text' | 'json';

/**
 * One access-log line per finished flow (headless mode, `--log-format text|json`): time, client,
 * method, URL, status, bytes, duration and the proxy's own added time.
 */
export function formatAccessLine(flow: Flow, format: AccessLogFormat): string {
  const time = isoTime(flow.timings.start);
  const client = flow.client.address.includes(':') ? `[${flow.client.address}]:${flow.client.port}` : `${flow.client.address}:${flow.client.port}`;
  const url = flow.kind === 'tunnel' ? `${flow.request.host}:${flow.request.port}` : flowUrl(flow.request);
  const status = flow.response?.status ?? null;
  const bytes = flow.response?.body.size ?? 0;
  const duration = flow.timings.responseEnd;
  const proxy = proxyOverheadMs(flow.timings);
  if (format === 'json') {
    return JSON.stringify({
      time,
      client,
      kind: flow.kind,
      method: flow.request.method,
      url,
      httpVersion: flow.request.httpVersion,
      serverHttpVersion: flow.response && flow.server.address !== null ? flow.response.httpVersion : null,
      status,
      bytes,
      requestBytes: flow.request.body.size,
      durationMs: duration === null ? null : round(duration),
      proxyMs: proxy === null ? null : round(proxy),
      error: flow.error,
      tags: flow.tags,
    });
  }
  const parts = [
    time,
    client,
    flow.request.method,
    url,
    status === null ? '-' : String(status),
    `${bytes}B`,
    duration === null ? '-' : `${round(duration)}ms`,
    proxy === null ? '(proxy -)' : `(proxy ${round(proxy)}ms)`,
  ];
  if (flow.error) parts.push(`error=${flow.error.code}`);
  if (flow.tags.length) parts.push(`tags=${flow.tags.join(',')}`);
  return parts.join(' ');
}

/** The second last formatted, as `2026-11-22T08:01:47.` (lines come in bursts within a second). */
let cachedSecond = NaN;
let cachedPrefix = '';

/** `Date#toISOString` for an epoch-ms time, with the date and time up to the second reused. */
export function isoTime(epochMs: number): string {
  const ms = epochMs % 1000;
  const second = epochMs - ms;
  // Before 1970 or a fraction of a millisecond: not what flows carry, but exact all the same.
  if (ms < 0 || !Number.isInteger(epochMs)) return new Date(epochMs).toISOString();
  if (second !== cachedSecond) {
    const iso = new Date(second).toISOString();
    // A year past 9999 is written with 6 digits and a sign: let Date write the whole string.
    if (iso.length !== 24) return new Date(epochMs).toISOString();
    cachedSecond = second;
    cachedPrefix = iso.slice(0, 20);
  }
  return `${cachedPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
