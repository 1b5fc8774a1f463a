import type { Flow } from '../core/flow.js';
import { CONTINUE, hasHook, runHooks, type HookDecision, type HookName } from '../core/pipeline.js';
import type { ExchangeEnv } from './exchange.js';
import { RuleContext } from './rule-context.js';

/**
 * Run one stage of the rules' hooks for a flow (HTTP exchange or WebSocket handshake) and tag the
 * flow with the decision. Synchronous `CONTINUE` when no rule has the hook, so the hot path takes
 * no extra turn of the event loop. The context is made on first need and reused across stages.
 */
export function decide(env: ExchangeEnv, flow: Flow, hook: HookName, ctx: () => RuleContext): HookDecision | Promise<HookDecision> {
  const addons = env.deps.addons();
  if (!hasHook(addons, hook)) return CONTINUE;
  return runHooks(addons, hook, flow, ctx()).then((decision) => {
    if (decision.action !== 'continue' && decision.tag && !flow.tags.includes(decision.tag)) flow.tags.push(decision.tag);
    return decision;
  });
}

/** The `requestHeaders` stage (shared by exchanges and WebSocket handshakes). */
export function decideRequest(env: ExchangeEnv, flow: Flow, ctx?: () => RuleContext): HookDecision | Promise<HookDecision> {
  return decide(env, flow, 'requestHeaders', ctx ?? (() => new RuleContext(env.deps.bus, flow.id)));
}
