import { flowDurationMs, type Flow } from '../../proxy/core/flow.js';
import type { Line, Segment } from '../doc.js';
import { pauseLabel } from '../pause/pause-format.js';
import { elideMiddle, fit, flowContentType, flowMarkers, formatClock, formatDuration, formatSize, isPaused, shortType, statusRole } from '../format.js';
import { ACTION_WIDTH, flowAction } from '../proxy-action.js';

export type ColumnId = 'time' | 'method' | 'status' | 'action' | 'host' | 'path' | 'type' | 'size' | 'duration' | 'flags';

export interface ColumnLayout {
  /** Columns shown, left to right, with their widths. */
  columns: ReadonlyArray<{ id: ColumnId; width: number; align: 'left' | 'right'; title: string }>;
}

/** Fixed columns and the narrowest terminal that still shows them (less useful ones go first). */
const FIXED: ReadonlyArray<{ id: ColumnId; width: number; align: 'left' | 'right'; title: string; minTerminal: number }> = [
  { id: 'time', width: 8, align: 'left', title: 'TIME', minTerminal: 90 },
  { id: 'method', width: 7, align: 'left', title: 'METHOD', minTerminal: 0 },
  { id: 'status', width: 3, align: 'left', title: 'ST', minTerminal: 0 },
  // What the proxy did (blocked, cache hit, mocked …): kept at any width, it explains the status.
  { id: 'action', width: ACTION_WIDTH, align: 'left', title: 'PROXY', minTerminal: 0 },
  { id: 'type', width: 5, align: 'left', title: 'TYPE', minTerminal: 70 },
  { id: 'size', width: 6, align: 'right', title: 'SIZE', minTerminal: 0 },
  { id: 'duration', width: 6, align: 'right', title: 'DUR', minTerminal: 60 },
  { id: 'flags', width: 4, align: 'left', title: 'FLAG', minTerminal: 50 },
];

/** Selection and mark columns at the left edge. */
export const GUTTER = 3;

/** Column widths for a terminal `width` columns wide (pure; the list renders rows from it). */
export function layoutColumns(width: number): ColumnLayout {
  const fixed = FIXED.filter((c) => width >= c.minTerminal);
  const used = GUTTER + fixed.reduce((n, c) => n + c.width + 1, 0) + 1; // +1: gap between host and path
  const flex = Math.max(2, width - used);
  const host = Math.min(32, Math.max(Math.min(8, flex - 1), Math.floor(flex * 0.35)));
  const path = Math.max(1, flex - host);
  const byId = new Map(fixed.map((c) => [c.id, c]));
  const order: ColumnId[] = ['time', 'method', 'status', 'action', 'host', 'path', 'type', 'size', 'duration', 'flags'];
  const columns: Array<{ id: ColumnId; width: number; align: 'left' | 'right'; title: string }> = [];
  for (const id of order) {
    if (id === 'host') columns.push({ id, width: host, align: 'left', title: 'HOST' });
    else if (id === 'path') columns.push({ id, width: path, align: 'left', title: 'PATH' });
    else {
      const c = byId.get(id);
      if (c) columns.push({ id, width: c.width, align: c.align, title: c.title });
    }
  }
  return { columns };
}

/** The header row. */
export function headerLine(layout: ColumnLayout): Line {
  const text = ' '.repeat(GUTTER) + layout.columns.map((c) => fit(c.title, c.width, c.align)).join(' ');
  return [{ text, role: 'heading' }];
}

function statusCell(flow: Flow): Segment {
  if (flow.response) return { text: String(flow.response.status), role: statusRole(flow.response.status) };
  if (flow.error || flow.phase === 'error') return { text: 'ERR', role: 'error' };
  if (isPaused(flow)) return { text: 'PAU', role: 'warn' };
  return { text: '…', role: 'muted' };
}

/** The list row for one flow (the component adds the selection style). */
export function rowLine(flow: Flow, layout: ColumnLayout, selected: boolean, now = Date.now()): Line {
  const paused = pauseLabel(flow, now);
  const pathWidth = layout.columns.find((c) => c.id === 'path')?.width ?? 0;
  // The full label goes after the path when it fits, else the wait alone in the duration column.
  const labelInPath = paused !== null && pathWidth >= paused.length + 5;
  const action = flowAction(flow);
  // A blocked flow never reached its server: its target is dimmed, the action cell says why.
  const target = action?.tag === 'blocked' ? ({ role: 'muted' } as const) : {};
  const out: Segment[] = [
    { text: selected ? '>' : ' ', role: 'accent' },
    { text: flow.marked ? '*' : ' ', role: 'warn' },
    { text: ' ' },
  ];
  for (const col of layout.columns) {
    const w = col.width;
    switch (col.id) {
      case 'time':
        out.push({ text: fit(formatClock(flow.timings.start), w), role: 'muted' });
        break;
      case 'method':
        out.push(paused ? { text: fit(flow.request.method, w), role: 'warn' } : { text: fit(flow.request.method, w) });
        break;
      case 'status': {
        const cell = statusCell(flow);
        out.push(cell.role ? { text: fit(cell.text, w), role: cell.role } : { text: fit(cell.text, w) });
        break;
      }
      case 'action':
        out.push(action ? { text: fit(action.label, w), role: action.role } : { text: ' '.repeat(w) });
        break;
      case 'host':
        out.push({ text: fit(elideMiddle(flow.request.host, w), w), ...target });
        break;
      case 'path': {
        const path = flow.kind === 'tunnel' ? `${flow.request.host}:${flow.request.port}` : flow.request.path;
        // A paused row says so at the end of its path: `/api/x ⏸ 12s → continue in 18s`.
        const label = labelInPath ? ` ${paused}` : '';
        out.push({ text: elideMiddle(path, w - label.length), ...target });
        if (label) out.push({ text: label, role: 'warn' });
        const used = Math.min(path.length, w - label.length) + label.length;
        if (used < w) out.push({ text: ' '.repeat(w - used) });
        break;
      }
      case 'type':
        out.push({ text: fit(shortType(flowContentType(flow)), w), role: 'muted' });
        break;
      case 'size':
        out.push({ text: fit(flow.response ? formatSize(flow.response.body.size) : '', w, 'right') });
        break;
      case 'duration':
        if (paused && !labelInPath) {
          out.push({ text: fit(paused.split(' → ')[0]!, w, 'right'), role: 'warn' });
          break;
        }
        out.push({ text: fit(flow.phase === 'done' || flow.phase === 'error' ? formatDuration(flowDurationMs(flow.timings)) : '…', w, 'right'), role: 'muted' });
        break;
      case 'flags': {
        const markers = flowMarkers(flow).slice(0, w);
        for (const m of markers) out.push({ text: m.char, role: m.role });
        if (markers.length < w) out.push({ text: ' '.repeat(w - markers.length) });
        break;
      }
    }
    out.push({ text: ' ' });
  }
  out.pop();
  return out;
}
