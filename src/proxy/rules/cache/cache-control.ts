/**
 * `Cache-Control` parsing (RFC 9111 §5.2), tolerant of what senders really produce: directive
 * names in any case, quoted or bare arguments (with backslash escapes), empty list members,
 * several field lines and repeated directives. It never throws.
 */
import type { HeaderPairs } from '../../core/flow.js';

/** Directives by lowercased name, each with every argument it was given (null: none), in order. */
export type Directives = ReadonlyMap<string, ReadonlyArray<string | null>>;

/**
 * A delta-seconds directive (`max-age=60`): its value in seconds, `'absent'`, `'bare'` (named
 * without an argument, e.g. `max-stale`), or `'invalid'` (not a non-negative integer, or repeated
 * with different values: RFC 9111 §4.2.1 lets a cache treat such a response as stale, and we do).
 */
export type DeltaSeconds = number | 'absent' | 'bare' | 'invalid';

/** Delta-seconds that do not fit are taken as 2^31 (RFC 9111 §1.2.2). */
export const MAX_DELTA_SECONDS = 2 ** 31;

/** Parse one or more `Cache-Control` field values. */
export function parseCacheControl(fieldValues: string | readonly string[]): Directives {
  const out = new Map<string, Array<string | null>>();
  for (const value of typeof fieldValues === 'string' ? [fieldValues] : fieldValues) {
    for (const [name, arg] of splitDirectives(value)) {
      const args = out.get(name);
      if (args) args.push(arg);
      else out.set(name, [arg]);
    }
  }
  return out;
}

/** The directives of every `Cache-Control` field line of a message. */
export function cacheControlOf(headers: HeaderPairs): Directives {
  return parseCacheControl(fieldValues(headers, 'cache-control'));
}

/** Every value of a field, in order (one per field line). */
export function fieldValues(headers: HeaderPairs, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const [k, v] of headers) if (k.length === lower.length && k.toLowerCase() === lower) out.push(v);
  return out;
}

/** The value of a delta-seconds directive; see {@link DeltaSeconds}. */
export function deltaSeconds(d: Directives, name: string): DeltaSeconds {
  const args = d.get(name);
  if (!args) return 'absent';
  let seconds: number | undefined;
  let bare = false;
  for (const arg of args) {
    if (arg === null) {
      bare = true;
      continue;
    }
    const n = parseDeltaSeconds(arg);
    if (n === null || (seconds !== undefined && seconds !== n)) return 'invalid';
    seconds = n;
  }
  if (seconds === undefined) return 'bare';
  return bare ? 'invalid' : seconds;
}

/** `"60"` → 60; digits only (RFC 9111 §1.2.2), capped at 2^31; anything else → null. */
export function parseDeltaSeconds(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n > MAX_DELTA_SECONDS ? MAX_DELTA_SECONDS : n;
}

/**
 * Split a field value into `[name, argument]` pairs. Commas inside a quoted string do not split;
 * an unterminated quote runs to the end of the value.
 */
function* splitDirectives(value: string): Generator<[string, string | null]> {
  const n = value.length;
  let i = 0;
  while (i < n) {
    // Name: up to '=' or ','.
    let start = i;
    while (i < n && value[i] !== '=' && value[i] !== ',') i++;
    const name = value.slice(start, i).trim().toLowerCase();
    let arg: string | null = null;
    if (i < n && value[i] === '=') {
      i++;
      while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
      if (value[i] === '"') {
        i++;
        let text = '';
        while (i < n && value[i] !== '"') {
          if (value[i] === '\\' && i + 1 < n) i++;
          text += value[i];
          i++;
        }
        i++; // the closing quote
        arg = text;
        while (i < n && value[i] !== ',') i++; // ignore junk after the quoted string
      } else {
        start = i;
        while (i < n && value[i] !== ',') i++;
        arg = value.slice(start, i).trim();
      }
    }
    i++; // the comma
    if (name) yield [name, arg];
  }
}
