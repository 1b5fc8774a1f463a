import type { Flow } from '../proxy/core/flow.js';
import type { Role } from './theme.js';

/** What the proxy itself did to a flow, as the list's one-cell summary of it. */
export interface ProxyAction {
  /** The flow tag this stands for (`blocked`, `cache:HIT` …). */
  tag: string;
  /** At most `ACTION_WIDTH` columns. */
  label: string;
  role: Role;
  /** One line for the help overlay's legend. */
  help: string;
}

/** Width of the list's action column (the longest label). */
export const ACTION_WIDTH = 5;

/**
 * The tags rules put on flows, most important first: a flow with several shows only the first.
 * Answers the client got from the proxy instead of the server come first (the reason it got no
 * real answer), then where a request was sent elsewhere, then mere slowing down.
 */
export const PROXY_ACTIONS: readonly ProxyAction[] = [
  { tag: 'blocked', label: 'BLK', role: 'error', help: 'blocked by a rule (b on a flow, or block rules)' },
  { tag: 'auth-required', label: 'AUTH', role: 'warn', help: 'refused: proxy authentication required (407)' },
  { tag: 'rate-limited', label: 'LIMIT', role: 'warn', help: 'refused by a rate limit (429)' },
  { tag: 'mocked', label: 'MOCK', role: 'accent', help: 'answered by a mock rule' },
  { tag: 'map-local', label: 'MAP-L', role: 'accent', help: 'answered from a local file (map-local)' },
  { tag: 'command', label: 'CMD', role: 'accent', help: 'answered by a local command' },
  { tag: 'cache:HIT', label: 'HIT', role: 'ok', help: 'answered from the response cache' },
  { tag: 'cache:STALE', label: 'STALE', role: 'warn', help: 'answered from the cache with a stale copy' },
  { tag: 'cache:REVALIDATED', label: 'REVAL', role: 'info', help: 'cached copy revalidated with the server (304)' },
  { tag: 'cache:MISS', label: 'MISS', role: 'warn', help: 'only-if-cached and nothing stored: the cache answered 504' },
  { tag: 'map-remote', label: 'MAP-R', role: 'info', help: 'sent to another server (map-remote)' },
  { tag: 'throttled', label: 'SLOW', role: 'muted', help: 'slowed down by a throttle rule' },
];

const BY_TAG = new Map(PROXY_ACTIONS.map((a, i) => [a.tag, { action: a, rank: i }]));

/** The most important thing the proxy did to this flow, or null when it just passed it through. */
export function flowAction(flow: Flow): ProxyAction | null {
  let best: { action: ProxyAction; rank: number } | undefined;
  for (const t of flow.tags) {
    const hit = BY_TAG.get(t);
    if (hit && (!best || hit.rank < best.rank)) best = hit;
  }
  return best?.action ?? null;
}

/** The action a single tag stands for (to colour it in the detail view's tag line). */
export function tagAction(tag: string): ProxyAction | undefined {
  return BY_TAG.get(tag)?.action;
}
