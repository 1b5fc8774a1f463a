import type { Flow } from '../../proxy/core/flow.js';
import type { LocalResponse } from '../../proxy/core/pipeline.js';

/** Whole seconds, short: `0s`, `12s`, `2m05s`, `1h02m`. */
export function formatWait(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * How long a paused flow has waited and, when its breakpoint has a timeout, what happens when:
 * `⏸ 12s`, `⏸ 12s → continue in 18s`, `⏸ 1m05s → abort in 0s`. Null for a flow that is not paused.
 */
export function pauseLabel(flow: Pick<Flow, 'phase' | 'pause'>, now: number): string | null {
  if (flow.phase !== 'request-paused' && flow.phase !== 'response-paused') return null;
  const p = flow.pause;
  if (!p) return '⏸';
  const waited = `⏸ ${formatWait(now - p.since)}`;
  if (p.deadline === null) return waited;
  // Round the remaining time up, so the countdown reaches 0s only when the policy applies.
  return `${waited} → ${p.onTimeout} in ${formatWait(Math.ceil(Math.max(0, p.deadline - now) / 1000) * 1000)}`;
}

/** The stage a flow is paused at, or null. */
export function pausedStage(flow: Pick<Flow, 'phase'>): 'request' | 'response' | null {
  return flow.phase === 'request-paused' ? 'request' : flow.phase === 'response-paused' ? 'response' : null;
}

/**
 * The respond prompt: `STATUS [CONTENT-TYPE] [BODY…]`, e.g. `404`, `204`, `200 text/plain hello`,
 * `200 application/json {"a":1}`. The second word is a content type when it contains a `/`;
 * everything after it is the body as typed.
 */
export function parseRespondSpec(text: string): { ok: true; response: LocalResponse } | { ok: false; error: string } {
  const m = /^\s*(\S+)(?:\s+(\S+))?(?:\s(.*))?$/s.exec(text);
  if (!m) return { ok: false, error: 'type a status, e.g. 404 or 200 text/plain hello' };
  const [, code, second, rest] = m as unknown as [string, string, string | undefined, string | undefined];
  if (!/^\d{3}$/.test(code) || Number(code) < 200 || Number(code) > 599) return { ok: false, error: `the status must be 200–599, got ${code}` };
  let contentType: string | null = null;
  let body = '';
  if (second !== undefined && second.includes('/')) {
    contentType = second;
    body = rest ?? '';
  } else if (second !== undefined) {
    body = rest === undefined ? second : `${second} ${rest}`;
  }
  if (body !== '' && contentType === null) contentType = 'text/plain; charset=utf-8';
  const headers: Array<[string, string]> = contentType ? [['Content-Type', contentType]] : [];
  return { ok: true, response: { status: Number(code), headers, body } };
}

/** Stages of the intercept prompt's optional prefix. */
const STAGE_PREFIX: Readonly<Record<string, Array<'request' | 'response'>>> = {
  'req:': ['request'],
  'res:': ['response'],
  'both:': ['request', 'response'],
};

/**
 * The intercept prompt's text: an optional `req:` (the default), `res:` or `both:` prefix saying
 * where matching flows pause, then the filter expression (empty turns intercepting off).
 */
export function parseInterceptSpec(text: string): { filter: string; on: Array<'request' | 'response'> } {
  const t = text.trim();
  for (const [prefix, on] of Object.entries(STAGE_PREFIX)) {
    if (t.toLowerCase().startsWith(prefix)) return { filter: t.slice(prefix.length).trim(), on };
  }
  return { filter: t, on: ['request'] };
}
