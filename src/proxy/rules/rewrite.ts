import { isUtf8 } from 'node:buffer';
import type { Flow, HeaderPairs } from '../core/flow.js';
import type { Addon, BodyTransform, HookContext } from '../core/pipeline.js';
import type { FlowPredicate } from '../filter/index.js';
import { addTag } from './pages.js';

export type RewritePart = 'request-header' | 'response-header' | 'request-body' | 'response-body';

export interface RewriteRuleOptions {
  /** e.g. `rules[5] rewrite`. */
  name: string;
  filterText: string;
  matches: FlowPredicate;
  part: RewritePart;
  /**
   * Header parts: tested against each header name (always case-insensitive). Body parts: replaced
   * everywhere in the body (always global).
   */
  match: RegExp;
  /** Header parts only: what to replace inside the values of the matching headers. */
  value: RegExp | null;
  /** The replacement (`$1` refers to a group); null removes the headers or deletes the matches. */
  replace: string | null;
}

/**
 * Change headers or bodies of matching exchanges. Request parts act in the `request` hook (after
 * request breakpoints, so an edited request is rewritten too), response parts in
 * `responseHeaders`. Bodies are changed whole, as text: UTF-8 when the bytes are valid UTF-8,
 * otherwise Latin-1, so bytes that are not text pass through unchanged.
 */
export function rewriteRule(opts: RewriteRuleOptions): Addon {
  const { name, filterText, matches, part, replace } = opts;
  const header = part === 'request-header' || part === 'response-header';
  const nameRe = withFlags(opts.match, 'i', 'gy');
  const valueRe = opts.value ? withFlags(opts.value, 'g', 'y') : null;
  const bodyRe = withFlags(opts.match, 'g', 'y');
  const explain = `rewrite ${part} ${filterText}: ${header ? explainHeader(nameRe, valueRe, replace) : explainBody(bodyRe, replace)}`;

  const transform: BodyTransform = (body, flow) => {
    const out = rewriteBody(body, bodyRe, replace);
    if (out === body) return body;
    addTag(flow.tags, 'rewritten');
    return out;
  };

  const rewriteHeadersOf = (flow: Flow, which: 'request' | 'response'): void => {
    const msg = which === 'request' ? flow.request : flow.response;
    if (!msg) return;
    const changed = rewriteHeaders(msg.headers, nameRe, valueRe, replace);
    if (changed === null) return;
    msg.headers = changed;
    addTag(flow.tags, 'rewritten');
  };

  const addon: Addon = { name, explain: () => explain };
  if (part === 'request-header' || part === 'request-body') {
    addon.request = (flow: Flow, ctx: HookContext): void => {
      if (!matches(flow)) return;
      if (part === 'request-header') rewriteHeadersOf(flow, 'request');
      else ctx.transformRequestBody(transform);
    };
  } else {
    addon.responseHeaders = (flow: Flow, ctx: HookContext): void => {
      if (!matches(flow)) return;
      if (part === 'response-header') rewriteHeadersOf(flow, 'response');
      else ctx.transformResponseBody(transform);
    };
  }
  return addon;
}

/**
 * Rewrite the headers whose name matches `nameRe`: with `replace` null they are removed (only
 * those whose value matches `valueRe`, when given); otherwise their value becomes `replace`, or
 * the `valueRe` matches inside it are replaced. Returns null when nothing changed.
 */
export function rewriteHeaders(headers: HeaderPairs, nameRe: RegExp, valueRe: RegExp | null, replace: string | null): HeaderPairs | null {
  let changed = false;
  const out: HeaderPairs = [];
  for (const pair of headers) {
    const [k, v] = pair;
    if (!nameRe.test(k)) {
      out.push(pair);
      continue;
    }
    if (replace === null) {
      if (valueRe === null || test(valueRe, v)) changed = true;
      else out.push(pair);
      continue;
    }
    const next = valueRe === null ? replace : v.replace(valueRe, replace);
    if (next !== v) changed = true;
    out.push([k, next]);
  }
  return changed ? out : null;
}

/** Replace every match of `re` (global) in the body; returns the same Buffer when nothing matched. */
export function rewriteBody(body: Buffer, re: RegExp, replace: string | null): Buffer {
  const encoding: BufferEncoding = isUtf8(body) ? 'utf8' : 'latin1';
  const text = body.toString(encoding);
  // In Latin-1 mode one char is one byte: the replacement goes in as its UTF-8 bytes.
  const replacement = replace === null ? '' : encoding === 'utf8' ? replace : Buffer.from(replace, 'utf8').toString('latin1');
  const out = text.replace(re, replacement);
  return out === text ? body : Buffer.from(out, encoding);
}

/** `re` with the flags in `add` and without those in `remove`. */
function withFlags(re: RegExp, add: string, remove: string): RegExp {
  let flags = re.flags;
  for (const f of remove) flags = flags.replace(f, '');
  for (const f of add) if (!flags.includes(f)) flags += f;
  return new RegExp(re.source, flags);
}

/** `RegExp.test` without the `lastIndex` state of a global regex. */
function test(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  return re.test(text);
}

function explainHeader(nameRe: RegExp, valueRe: RegExp | null, replace: string | null): string {
  const names = `headers /${nameRe.source}/`;
  if (replace === null) return valueRe ? `remove ${names} whose value matches /${valueRe.source}/` : `remove ${names}`;
  return valueRe ? `in ${names} replace /${valueRe.source}/ with ${JSON.stringify(replace)}` : `set ${names} to ${JSON.stringify(replace)}`;
}

function explainBody(re: RegExp, replace: string | null): string {
  return replace === null ? `delete /${re.source}/` : `replace /${re.source}/ with ${JSON.stringify(replace)}`;
}
