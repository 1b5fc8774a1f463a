import { flowUrl, type Flow } from '../core/flow.js';
import { connectFlow, type Addon, type ConnectDecision, type ConnectRequest, type HookDecision } from '../core/pipeline.js';
import type { FlowPredicate } from '../filter/index.js';
import { htmlResponse } from './pages.js';

export interface BlockRuleOptions {
  /** Shown in the rules pane, the page and `X-Proxyctl-Blocked`, e.g. `rules[3] block`. */
  name: string;
  /** The filter as written, e.g. `~d ads.example`. */
  filterText: string;
  matches: FlowPredicate;
  /** Status of the block page. @default 403 (set by the schema) */
  status: number;
  /** `respond` answers with a block page; `drop` closes the connection without an answer. */
  action: 'respond' | 'drop';
}

/**
 * Blocklist (DESIGN.md §5): a matching request never leaves the proxy. Runs at `requestHeaders`
 * so a blocked request costs no body read. The decision carries the tag `blocked`; the exchange
 * pushes decision tags onto the flow.
 */
export function blockRule(opts: BlockRuleOptions): Addon {
  const { name, filterText, matches, status, action } = opts;
  return {
    name,
    explain: () => (action === 'drop' ? `drop connections to ${filterText}` : `block ${filterText} with ${status}`),
    // An ignored host's tunnel carries no request the proxy can see: block the CONNECT itself.
    connect(request: ConnectRequest): ConnectDecision | void {
      if (!request.passthrough || !matches(connectFlow(request))) return;
      if (action === 'drop') return { action: 'drop', tag: 'blocked' };
      return {
        action: 'respond',
        tag: 'blocked',
        response: htmlResponse(status, 'Blocked by proxyctl', [`CONNECT ${request.host}:${request.port}`, `was blocked by ${name} (${filterText}).`], [['X-Proxyctl-Blocked', name]]),
      };
    },
    requestHeaders(flow: Flow): HookDecision | void {
      if (!matches(flow)) return;
      if (action === 'drop') return { action: 'drop', tag: 'blocked' };
      const url = flowUrl(flow.request);
      return {
        action: 'respond',
        tag: 'blocked',
        response: htmlResponse(
          status,
          'Blocked by proxyctl',
          [`${flow.request.method} ${url}`, `was blocked by ${name} (${filterText}).`],
          [['X-Proxyctl-Blocked', name]],
        ),
      };
    },
  };
}
