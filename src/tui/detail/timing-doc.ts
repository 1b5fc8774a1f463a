import { flowDurationMs, proxyOverheadMs, type Flow } from '../../proxy/core/flow.js';
import { arrayDoc, type Doc, type Line } from '../doc.js';
import { formatDuration } from '../format.js';

function row(label: string, value: string, note = ''): Line {
  const out: Line = [{ text: label.padEnd(20), role: 'key' }, { text: value.padStart(9) }];
  return note ? [...out, { text: `  ${note}`, role: 'muted' }] : out;
}

function mark(ms: number | null): string {
  return ms === null ? '—' : `+${formatDuration(ms)}`;
}

function span(ms: number | null): string {
  return ms === null ? '—' : formatDuration(ms);
}

/** The timing tab: marks since the flow started, durations, and the time the proxy itself added. */
export function timingDoc(flow: Flow): Doc {
  const t = flow.timings;
  const start = new Date(t.start);
  const lines: Line[] = [
    [{ text: 'Started'.padEnd(20), role: 'key' }, { text: start.toISOString() }],
    [],
    row('Request headers', mark(t.requestHeaders), 'since the connection was accepted'),
    row('Request end', mark(t.requestEnd)),
    row('Upstream connected', mark(t.upstreamConnect), t.upstreamConnect === null ? 'no new connection (reused, or none)' : 'TCP connection to the server up'),
    row('Upstream TLS done', mark(t.upstreamTls), t.upstreamTls === null ? '' : 'TLS handshake with the server finished'),
    row('Sent upstream', mark(t.upstreamSent)),
    row('First byte', mark(t.firstByte), 'first response byte from the server'),
    row('Response end', mark(t.responseEnd)),
    [],
    row('Total', span(flowDurationMs(t))),
    row('Waiting for server', span(t.firstByte !== null && t.upstreamSent !== null ? Math.max(0, t.firstByte - t.upstreamSent) : null)),
    row('Proxy overhead', span(proxyOverheadMs(t)), 'time proxyctl itself added before the request left'),
  ];
  return arrayDoc(lines);
}
