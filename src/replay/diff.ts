/**
 * How a replayed response body differs from the recorded one. Pure: bytes and parsed JSON in,
 * a description of the difference out.
 *
 * JSON bodies are compared as values, so key order and whitespace do not count, and the result
 * lists the paths that changed (`$.items[2].price`). Anything else is compared byte for byte.
 */

/** One difference between two JSON values. */
export type JsonChange =
  | { kind: 'changed'; path: string; before: unknown; after: unknown }
  | { kind: 'added'; path: string; after: unknown }
  | { kind: 'removed'; path: string; before: unknown };

/** The outcome of comparing two bodies. */
export type BodyDiff =
  /** Equal bytes, or equal JSON values (`json: true`: the bytes differ only in order or spacing). */
  | { kind: 'same'; json: boolean }
  /** Both JSON, values differ; `changes` is never empty. */
  | { kind: 'json'; changes: JsonChange[] }
  /** Bytes differ; `firstDifference` is the offset of the first byte that is not equal. */
  | { kind: 'bytes'; recordedSize: number; replayedSize: number; firstDifference: number }
  /** Only digests were available (a recording that kept the head of a large body); they differ. */
  | { kind: 'digest'; recordedSize: number; replayedSize: number }
  /** Nothing to compare against, e.g. a HAR saved without bodies. */
  | { kind: 'not-compared'; reason: string };

type Parsed = { ok: true; value: unknown } | { ok: false };

function parseJson(bytes: Buffer): Parsed {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = text.trimStart()[0];
  // Only documents (objects and arrays) are diffed structurally; a bare string or number compares as bytes.
  if (first !== '{' && first !== '[') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    // Not JSON after all (a truncated or malformed body): bytes it is.
    return { ok: false };
  }
}

/**
 * Compare two bodies (already content-decoded). When both parse as JSON documents they are
 * compared as values, whatever their Content-Type says (plenty of servers send JSON as text/plain);
 * otherwise byte for byte.
 */
export function compareBodies(a: Buffer, b: Buffer): BodyDiff {
  if (a.equals(b)) return { kind: 'same', json: false };
  const pa = parseJson(a);
  const pb = pa.ok ? parseJson(b) : ({ ok: false } as const);
  if (pa.ok && pb.ok) {
    const changes = diffJson(pa.value, pb.value);
    return changes.length ? { kind: 'json', changes } : { kind: 'same', json: true };
  }
  return { kind: 'bytes', recordedSize: a.length, replayedSize: b.length, firstDifference: firstDifference(a, b) };
}

/** Offset of the first differing byte (the shorter length when one is a prefix of the other). */
export function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

const IDENTIFIER_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `$.a`, `$["a b"]`, `$[3]`: JSONPath-style, readable and unambiguous. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return IDENTIFIER_RE.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

type Kind = 'object' | 'array' | 'scalar';

function kindOf(v: unknown): Kind {
  if (Array.isArray(v)) return 'array';
  return v !== null && typeof v === 'object' ? 'object' : 'scalar';
}

/**
 * Every path at which `b` differs from `a`, depth first, in `a`'s key order followed by keys only
 * `b` has. Objects are compared by key (order ignored), arrays by index. A value whose type
 * changed (object → array, number → string) is one change at its path.
 */
export function diffJson(a: unknown, b: unknown, path = '$'): JsonChange[] {
  const out: JsonChange[] = [];
  walk(a, b, path, out);
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: JsonChange[]): void {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) {
    out.push({ kind: 'changed', path, before: a, after: b });
    return;
  }
  if (ka === 'scalar') {
    // JSON.parse yields only null, booleans, finite numbers and strings here: === is equality.
    if (a !== b) out.push({ kind: 'changed', path, before: a, after: b });
    return;
  }
  if (ka === 'array') {
    const xa = a as unknown[];
    const xb = b as unknown[];
    const n = Math.min(xa.length, xb.length);
    for (let i = 0; i < n; i++) walk(xa[i], xb[i], childPath(path, i), out);
    for (let i = n; i < xa.length; i++) out.push({ kind: 'removed', path: childPath(path, i), before: xa[i] });
    for (let i = n; i < xb.length; i++) out.push({ kind: 'added', path: childPath(path, i), after: xb[i] });
    return;
  }
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  for (const key of Object.keys(oa)) {
    const p = childPath(path, key);
    if (Object.hasOwn(ob, key)) walk(oa[key], ob[key], p, out);
    else out.push({ kind: 'removed', path: p, before: oa[key] });
  }
  for (const key of Object.keys(ob)) if (!Object.hasOwn(oa, key)) out.push({ kind: 'added', path: childPath(path, key), after: ob[key] });
}
