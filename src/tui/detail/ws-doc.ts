import type { Flow, WebSocketMessage } from '../../proxy/core/flow.js';
import { looksLikeText } from '../body/body-doc.js';
import { hexRow } from '../body/hex.js';
import { arrayDoc, sanitize, type Doc, type Line } from '../doc.js';
import { formatSize } from '../format.js';

function clock(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function preview(m: WebSocketMessage, width: number): string {
  if (m.payload.length === 0) return '';
  if (m.type === 'text' || (m.type !== 'binary' && looksLikeText(m.payload))) {
    return sanitize(m.payload.toString('utf8')).replace(/\n/g, '⏎').slice(0, Math.max(0, width));
  }
  return hexRow(m.payload, 0, 8).slice(10);
}

/** The WebSocket tab: one row per message, newest last. */
export function websocketDoc(flow: Flow, width: number): Doc {
  const ws = flow.websocket;
  if (!ws) return arrayDoc([[{ text: 'Not a WebSocket flow.', role: 'muted' }]]);
  const facts = [`${ws.messages.length} messages`];
  if (ws.droppedMessages > 0) facts.push(`${ws.droppedMessages} more not kept`);
  if (ws.closedBy) facts.push(`closed by ${ws.closedBy}${ws.closeCode !== null ? ` (${ws.closeCode}${ws.closeReason ? ` ${ws.closeReason}` : ''})` : ''}`);
  const lines: Line[] = [[{ text: facts.join(' · '), role: 'heading' }], []];
  for (const m of ws.messages) {
    const head = `${clock(m.time)} ${m.direction === 'client' ? '→' : '←'} ${m.type.padEnd(6)} ${formatSize(m.size).padStart(6)}${m.truncated ? '+' : ' '} `;
    lines.push([
      { text: head.slice(0, 13), role: 'muted' },
      { text: head.slice(13, 15), role: m.direction === 'client' ? 'accent' : 'ok' },
      { text: head.slice(15), role: 'muted' },
      { text: preview(m, width - head.length) },
    ]);
  }
  return arrayDoc(lines);
}
