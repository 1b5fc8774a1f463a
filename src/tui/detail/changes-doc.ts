import { flowUrl, type FlowRequest, type FlowResponse, type HeaderPairs } from '../../proxy/core/flow.js';
import { sanitize, type Line } from '../doc.js';
import { formatBytesLong } from '../format.js';

/**
 * What a breakpoint edit changed, for the detail view of an edited flow (`flow.original`): the
 * request line or status, headers added, removed and changed, and whether the body changed.
 */

function line(mark: string, text: string, role: 'ok' | 'error' | 'warn' | 'muted'): Line {
  return [{ text: mark, role }, { text: sanitize(text).replace(/\n/g, ' ') }];
}

/** Header differences by name (case-insensitive), all values of a name compared together. */
export function headerChanges(before: HeaderPairs, after: HeaderPairs): Line[] {
  const group = (h: HeaderPairs) => {
    const m = new Map<string, { name: string; values: string[] }>();
    for (const [k, v] of h) {
      const key = k.toLowerCase();
      const e = m.get(key) ?? { name: k, values: [] };
      e.values.push(v);
      m.set(key, e);
    }
    return m;
  };
  const a = group(before);
  const b = group(after);
  const out: Line[] = [];
  for (const [key, old] of a) {
    const now = b.get(key);
    if (!now) out.push(line('- ', `${old.name}: ${old.values.join(', ')}`, 'error'));
    else if (now.values.join('\n') !== old.values.join('\n')) {
      out.push(line('~ ', `${now.name}: ${old.values.join(', ')} → ${now.values.join(', ')}`, 'warn'));
    }
  }
  for (const [key, now] of b) if (!a.has(key)) out.push(line('+ ', `${now.name}: ${now.values.join(', ')}`, 'ok'));
  return out;
}

function bodyChange(before: { size: number; sha256: string | null }, after: { size: number; sha256: string | null }): Line[] {
  if (before.size === after.size && before.sha256 === after.sha256) return [];
  return [line('~ ', `body: ${formatBytesLong(before.size)} → ${formatBytesLong(after.size)}`, 'warn')];
}

function section(title: string, changes: Line[]): Line[] {
  const head: Line = [{ text: title, role: 'heading' }];
  return changes.length === 0 ? [head, [{ text: '(no visible change)', role: 'muted' }], []] : [head, ...changes, []];
}

export function requestChanges(original: FlowRequest, current: FlowRequest): Line[] {
  const out: Line[] = [];
  if (original.method !== current.method) out.push(line('~ ', `method: ${original.method} → ${current.method}`, 'warn'));
  const [u0, u1] = [flowUrl(original), flowUrl(current)];
  if (u0 !== u1) out.push(line('~ ', `url: ${u0} → ${u1}`, 'warn'));
  out.push(...headerChanges(original.headers, current.headers), ...bodyChange(original.body, current.body));
  return section('Edited at the breakpoint (original → now)', out);
}

export function responseChanges(original: FlowResponse, current: FlowResponse): Line[] {
  const out: Line[] = [];
  if (original.status !== current.status) out.push(line('~ ', `status: ${original.status} → ${current.status}`, 'warn'));
  out.push(...headerChanges(original.headers, current.headers), ...bodyChange(original.body, current.body));
  return section('Edited at the breakpoint (original → now)', out);
}
