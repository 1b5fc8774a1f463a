import type { Flow, HeaderPairs } from '../core/flow.js';
import type { Addon, HookDecision } from '../core/pipeline.js';
import type { FlowPredicate } from '../filter/index.js';

export interface MockRuleOptions {
  /** e.g. `rules[4] mock`. */
  name: string;
  filterText: string;
  matches: FlowPredicate;
  status: number;
  /** Response headers. `Content-Type` defaults to `text/plain; charset=utf-8`. @default {} */
  headers: Readonly<Record<string, string>>;
  /** Response body, sent as UTF-8. @default '' */
  body: string;
}

const DEFAULT_CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * Answer matching requests with a fixed response; nothing goes upstream. Runs in the `request`
 * hook (after request breakpoints, so an intercepted request can still be edited first).
 * `Content-Length` and `Transfer-Encoding` given in the rule are dropped: framing is the proxy's
 * job, and a wrong length would hang or cut the client. A 204 or 304 gets no body (RFC 9110 §6.4.1).
 */
export function mockRule(opts: MockRuleOptions): Addon {
  const { name, filterText, matches, status } = opts;
  const headers: HeaderPairs = [];
  for (const [k, v] of Object.entries(opts.headers)) {
    const lower = k.toLowerCase();
    if (lower !== 'content-length' && lower !== 'transfer-encoding') headers.push([k, v]);
  }
  if (!headers.some(([k]) => k.toLowerCase() === 'content-type')) headers.push(['Content-Type', DEFAULT_CONTENT_TYPE]);
  const noBody = status === 204 || status === 304 || status < 200;
  const body = noBody ? Buffer.alloc(0) : Buffer.from(opts.body, 'utf8');
  const contentType = headers.find(([k]) => k.toLowerCase() === 'content-type')![1];
  const mediaType = contentType.split(';')[0]!.trim() || contentType;
  return {
    name,
    explain: () => `mock ${filterText} → ${status} ${mediaType} (${body.length} ${body.length === 1 ? 'byte' : 'bytes'})`,
    request(flow: Flow): HookDecision | void {
      if (!matches(flow)) return;
      // Copies: the exchange may add Content-Length to what it is given.
      return { action: 'respond', tag: 'mocked', response: { status, headers: headers.map(([k, v]) => [k, v]), body } };
    },
  };
}
