import type { Flow } from '../core/flow.js';
import { CONTINUE, hasHook, runHooks, type HookDecision } from '../core/pipeline.js';
import type { ExchangeEnv } from './exchange.js';

/**
 * Run the rules' `requestHeaders` hooks for a flow (HTTP exchange or WebSocket handshake) and tag
 * the flow with the decision. Synchronous `CONTINUE` when no rule has the hook, so the hot path
 * takes no extra turn of the event loop.
 */
export function decideRequest(env: ExchangeEnv, flow: Flow): HookDecision | Promise<HookDecision> {
  const addons = env.deps.addons();
  if (!hasHook(addons, 'requestHeaders')) return CONTINUE;
  return runHooks(addons, 'requestHeaders', flow, { log: (level, message) => env.deps.bus.log(level, message, flow.id) }).then((decision) => {
    if (decision.action !== 'continue' && decision.tag) flow.tags.push(decision.tag);
    return decision;
  });
}
