import { sha256Of } from '../proxy/core/capture.js';
import { flowUrl, type Flow, type HeaderPairs } from '../proxy/core/flow.js';
import { sha256Hex } from '../store/session-codec.js';

/**
 * Server replay matching (`proxyctl serve`), without IO: which recorded flow answers a request.
 *
 * A request matches a recorded one when the method, the URL and the body bytes are the same.
 * Options loosen or tighten that: `ignoreQuery` compares URLs without their query; `matchHeaders`
 * also requires the recorded request headers (less framing fields and `ignoreHeaders`) to be
 * equal. Headers do not match by default: clients differ in User-Agent, Accept-Encoding and
 * cookies far more often than in what they ask for.
 *
 * Identical requests are answered in recorded order; once the recorded answers are used up, the
 * last one is repeated. A request that matches nothing gets a miss naming the closest recorded
 * requests (same method, host and path with another query or body; else same path with another
 * method; else same host).
 */
export interface MatchOptions {
  /** Compare URLs without their query string. @default false */
  ignoreQuery?: boolean;
  /** Require equal request headers too. @default false */
  matchHeaders?: boolean;
  /** Header names left out of header matching (any case). @default [] */
  ignoreHeaders?: readonly string[];
}

export interface ReplayRequest {
  method: string;
  /** Absolute URL: `https://api.example/a?b=1`. */
  url: string;
  headers: HeaderPairs;
  body: Buffer;
}

export interface Closest {
  flow: Flow;
  /** What differs, in words: `query differs`, `body differs`, `method differs`, `other path`. */
  why: string;
}

export type MatchResult =
  | { kind: 'hit'; flow: Flow; /** 1-based: which of the identical recorded requests answered. */ answer: number; of: number }
  | { kind: 'miss'; closest: Closest[] };

/** Fields that describe the connection or the framing, never what was asked for. */
const UNMATCHED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'upgrade']);

interface Entry {
  flow: Flow;
  method: string;
  url: URL;
  bodyHash: string;
  key: string;
}

export class ReplayIndex {
  private readonly entries: Entry[] = [];
  private readonly byKey = new Map<string, Entry[]>();
  private readonly served = new Map<string, number>();
  private readonly ignored: Set<string>;

  constructor(
    flows: Iterable<Flow>,
    private readonly opts: MatchOptions = {},
  ) {
    this.ignored = new Set((opts.ignoreHeaders ?? []).map((h) => h.toLowerCase()));
    for (const flow of flows) {
      if (!isServable(flow)) continue;
      const url = new URL(flowUrl(flow.request));
      const method = flow.request.method.toUpperCase();
      const bodyHash = sha256Of(flow.request.body);
      const entry: Entry = { flow, method, url, bodyHash, key: this.key(method, url, bodyHash, flow.request.headers) };
      this.entries.push(entry);
      const list = this.byKey.get(entry.key);
      if (list) list.push(entry);
      else this.byKey.set(entry.key, [entry]);
    }
  }

  /** Recorded requests that can be answered. */
  get size(): number {
    return this.entries.length;
  }

  match(req: ReplayRequest): MatchResult {
    const method = req.method.toUpperCase();
    const url = new URL(req.url);
    const bodyHash = sha256Hex(req.body);
    const key = this.key(method, url, bodyHash, req.headers);
    const list = this.byKey.get(key);
    if (list) {
      const n = this.served.get(key) ?? 0;
      this.served.set(key, n + 1);
      const i = Math.min(n, list.length - 1);
      return { kind: 'hit', flow: list[i]!.flow, answer: i + 1, of: list.length };
    }
    return { kind: 'miss', closest: this.closest(method, url, bodyHash) };
  }

  private key(method: string, url: URL, bodyHash: string, headers: HeaderPairs): string {
    const target = `${url.protocol}//${url.host}${url.pathname}${this.opts.ignoreQuery ? '' : url.search}`;
    const parts = [method, target, bodyHash];
    if (this.opts.matchHeaders) parts.push(this.headerKey(headers));
    return parts.join('\n');
  }

  /** Headers as a canonical string: lowercased names, sorted, repeated values joined in order. */
  private headerKey(headers: HeaderPairs): string {
    const byName = new Map<string, string[]>();
    for (const [k, v] of headers) {
      const name = k.toLowerCase();
      if (name.startsWith(':') || UNMATCHED_HEADERS.has(name) || this.ignored.has(name)) continue;
      const values = byName.get(name);
      if (values) values.push(v.trim());
      else byName.set(name, [v.trim()]);
    }
    return [...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}: ${v.join(', ')}`).join('\n');
  }

  private closest(method: string, url: URL, bodyHash: string): Closest[] {
    const samePath = (e: Entry) => e.url.host === url.host && e.url.pathname === url.pathname && e.url.protocol === url.protocol;
    const tiers: Array<Array<Closest>> = [[], [], []];
    for (const e of this.entries) {
      if (e.method === method && samePath(e)) {
        const why = [e.url.search !== url.search && !this.opts.ignoreQuery ? 'query differs' : '', e.bodyHash !== bodyHash ? 'body differs' : '']
          .filter(Boolean)
          .join(', ');
        tiers[0]!.push({ flow: e.flow, why: why || 'headers differ' });
      } else if (samePath(e)) tiers[1]!.push({ flow: e.flow, why: `method differs (${e.method})` });
      else if (e.url.host === url.host) tiers[2]!.push({ flow: e.flow, why: 'same host, other path' });
    }
    const best = tiers.find((t) => t.length > 0) ?? [];
    // One line per distinct recorded request is enough to show what is there.
    const seen = new Set<string>();
    return best.filter((c) => {
      const k = `${c.flow.request.method} ${flowUrl(c.flow.request)} ${c.why}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    }).slice(0, 5);
  }

  /** Hosts that have recorded answers (for the miss message when nothing is close). */
  hosts(): string[] {
    return [...new Set(this.entries.map((e) => e.url.host))].sort();
  }
}

/** Only finished HTTP exchanges with a final response can be replayed. */
export function isServable(flow: Flow): boolean {
  return flow.kind === 'http' && flow.phase === 'done' && flow.response !== null && flow.response.status >= 200 && flow.request.method !== 'CONNECT';
}

/** The 404 body for a miss: what was looked for and which recorded requests were closest. */
export function describeMiss(req: ReplayRequest, closest: Closest[], hosts: string[]): string {
  const lines = ['proxyctl serve: no recorded response for', `  ${req.method.toUpperCase()} ${req.url}  (request body ${req.body.length} bytes)`];
  if (closest.length) {
    lines.push('closest recorded requests:');
    for (const c of closest) lines.push(`  ${c.flow.request.method} ${flowUrl(c.flow.request)}  (${c.why})`);
  } else {
    lines.push(hosts.length ? `nothing recorded for this host; recorded hosts: ${hosts.join(', ')}` : 'the recording has no HTTP exchanges to answer with');
  }
  return `${lines.join('\n')}\n`;
}
