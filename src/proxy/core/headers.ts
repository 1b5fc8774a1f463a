import type { HeaderPairs } from './flow.js';

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): meaningful only for one connection, never forwarded.
 * `proxy-connection` is the pre-standard variant some clients still send; `transfer-encoding`
 * framing is redone by each hop; `proxy-authorization` is consumed by us (never forwarded).
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'transfer-encoding',
  'upgrade',
]);

/** Parse a Node `rawHeaders` array (`[k1, v1, k2, v2 …]`) into pairs. */
export function pairsFromRaw(raw: readonly string[]): HeaderPairs {
  const out: HeaderPairs = new Array(raw.length >> 1);
  for (let i = 0, j = 0; i < raw.length; i += 2, j++) out[j] = [raw[i]!, raw[i + 1]!];
  return out;
}

/** Flatten pairs into a Node raw header array, accepted by `writeHead` and `http.request`. */
export function rawFromPairs(pairs: HeaderPairs): string[] {
  const out: string[] = new Array(pairs.length * 2);
  for (let i = 0; i < pairs.length; i++) {
    out[2 * i] = pairs[i]![0];
    out[2 * i + 1] = pairs[i]![1];
  }
  return out;
}

/** Names listed in `Connection:` fields, lowercased (they are hop-by-hop too). */
export function connectionTokens(headers: HeaderPairs): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of headers) {
    if (k.length === 10 && k.toLowerCase() === 'connection') {
      for (const t of v.split(',')) {
        const tok = t.trim().toLowerCase();
        if (tok) out.add(tok);
      }
    }
  }
  return out;
}

export interface StripOptions {
  /** Keep `TE: trailers` (allowed end to end, RFC 9113 §8.2.2). */
  keepTeTrailers?: boolean;
  /** Keep `Upgrade` and `Connection: upgrade` (for a WebSocket handshake that is relayed). */
  keepUpgrade?: boolean;
}

/** Remove hop-by-hop fields, keeping the order and case of everything else. */
export function stripHopByHop(headers: HeaderPairs, opts: StripOptions = {}): HeaderPairs {
  const named = connectionTokens(headers);
  const out: HeaderPairs = [];
  for (const pair of headers) {
    const lower = pair[0].toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) {
      if (opts.keepTeTrailers && lower === 'te' && pair[1].trim().toLowerCase() === 'trailers') {
        out.push(pair);
        continue;
      }
      if (opts.keepUpgrade && (lower === 'upgrade' || lower === 'connection')) {
        out.push(lower === 'connection' ? [pair[0], 'Upgrade'] : pair);
        continue;
      }
      continue;
    }
    out.push(pair);
  }
  return out;
}

/** Replace (or append) a header, keeping the position of the first existing one. */
export function setHeader(headers: HeaderPairs, name: string, value: string): HeaderPairs {
  const lower = name.toLowerCase();
  const out: HeaderPairs = [];
  let done = false;
  for (const pair of headers) {
    if (pair[0].toLowerCase() === lower) {
      if (!done) out.push([pair[0], value]);
      done = true;
    } else out.push(pair);
  }
  if (!done) out.push([name, value]);
  return out;
}

export function removeHeader(headers: HeaderPairs, name: string): HeaderPairs {
  const lower = name.toLowerCase();
  return headers.filter(([k]) => k.toLowerCase() !== lower);
}

export function hasHeader(headers: HeaderPairs, name: string): boolean {
  const lower = name.toLowerCase();
  return headers.some(([k]) => k.toLowerCase() === lower);
}
