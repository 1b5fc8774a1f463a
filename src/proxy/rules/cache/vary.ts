/**
 * Secondary cache keys (RFC 9111 §4.1): a stored response may only be reused for a request whose
 * fields named in the response's `Vary` match those of the request that caused it to be stored.
 */
import { createHash } from 'node:crypto';
import type { HeaderPairs } from '../../core/flow.js';
import { fieldValues } from './cache-control.js';

/**
 * The request fields a stored response was selected by, in order: lowercased name and normalized
 * value (null: the field was absent).
 */
export type SelectingHeaders = ReadonlyArray<readonly [name: string, value: string | null]>;

/**
 * Fields every stored response varies on although no `Vary` names them. A private cache may store
 * responses to requests with `Authorization` (RFC 9111 §3.5 restricts only shared caches), but one
 * proxy often carries several users or test tokens; serving one user's response to another would
 * be a debugging trap. Their values are kept only as a SHA-256 fingerprint, never in clear.
 */
export const IMPLICIT_VARY: readonly string[] = ['authorization'];

/** The field names of a response's `Vary`, lowercased and without duplicates, or `'*'`. */
export function varyNames(responseHeaders: HeaderPairs): string[] | '*' {
  const out: string[] = [];
  for (const value of fieldValues(responseHeaders, 'vary')) {
    for (const item of value.split(',')) {
      const name = item.trim().toLowerCase();
      if (name === '*') return '*';
      if (name && !out.includes(name)) out.push(name);
    }
  }
  return out;
}

/** Snapshot the selecting fields of a request: those named in `Vary`, then the implicit ones. */
export function selectingHeaders(names: readonly string[], requestHeaders: HeaderPairs): SelectingHeaders {
  const all = [...names];
  for (const n of IMPLICIT_VARY) if (!all.includes(n)) all.push(n);
  return all.map((name) => [name, normalizedField(requestHeaders, name)] as const);
}

/** Does a request present the same selecting fields as the one a response was stored for? (§4.1) */
export function varyMatches(selecting: SelectingHeaders, requestHeaders: HeaderPairs): boolean {
  for (const [name, value] of selecting) if (normalizedField(requestHeaders, name) !== value) return false;
  return true;
}

/**
 * A field's value normalized as §4.1 allows: field lines combined, whitespace around list
 * commas removed, ends trimmed. No case folding: we cannot know which fields are case-insensitive.
 */
function normalizedField(headers: HeaderPairs, name: string): string | null {
  const values = fieldValues(headers, name);
  if (values.length === 0) return null;
  const combined = values
    .join(',')
    .split(',')
    .map((s) => s.trim().replace(/\s+/g, ' '))
    .join(',');
  return IMPLICIT_VARY.includes(name) ? `sha256:${createHash('sha256').update(combined).digest('hex')}` : combined;
}
