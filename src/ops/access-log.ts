import type { Flow } from '../proxy/core/flow.js';
import { flowUrl, proxyOverheadMs } from '../proxy/core/flow.js';

export type AccessLogFormat = 'text' | 'json';

/**
 * One access-log line per finished flow (headless mode, `--log-format text|json`): time, client,
 * method, URL, status, bytes, duration and the proxy's own added time.
 */
export function formatAccessLine(flow: Flow, format: AccessLogFormat): string {
  const time = new Date(flow.timings.start).toISOString();
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

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
