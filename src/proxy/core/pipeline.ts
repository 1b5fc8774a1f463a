import type { Flow, HeaderPairs } from './flow.js';
import type { LogLevel } from './events.js';

/** A response made up by proxyctl itself (block page, mock, cache hit …). */
export interface LocalResponse {
  status: number;
  statusText?: string;
  headers: HeaderPairs;
  body: Buffer | string;
}

export type HookDecision =
  | { action: 'continue' }
  /** Answer the client with this response; nothing goes upstream. */
  | { action: 'respond'; response: LocalResponse; tag?: string }
  /** Close the client connection without an answer. */
  | { action: 'drop'; tag?: string };

export const CONTINUE: HookDecision = Object.freeze({ action: 'continue' });

export interface HookContext {
  log(level: LogLevel, message: string): void;
}

type HookResult = HookDecision | void | Promise<HookDecision | void>;

/**
 * A rule of the pipeline (DESIGN.md §5). Hooks may change the flow they are given (headers, target)
 * and return a decision. They never see sockets and never branch on the HTTP version.
 */
export interface Addon {
  readonly name: string;
  /** One line for the rules pane, e.g. `block ~d ads.example with 403`. */
  explain(): string;
  requestHeaders?(flow: Flow, ctx: HookContext): HookResult;
  responseHeaders?(flow: Flow, ctx: HookContext): HookResult;
  error?(flow: Flow, ctx: HookContext): void;
}

export type HookName = 'requestHeaders' | 'responseHeaders';

/**
 * Run one hook across the addons in order, each safe-called: an exception is logged and the
 * pipeline goes on. The first decision other than `continue` wins.
 */
export async function runHooks(addons: readonly Addon[], hook: HookName, flow: Flow, ctx: HookContext): Promise<HookDecision> {
  for (const addon of addons) {
    const fn = addon[hook];
    if (!fn) continue;
    try {
      const result = await fn.call(addon, flow, ctx);
      if (result && result.action !== 'continue') return result;
    } catch (err) {
      ctx.log('error', `rule ${addon.name} failed in ${hook}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return CONTINUE;
}

/** True when any addon has the hook (lets the hot path skip the async machinery). */
export function hasHook(addons: readonly Addon[], hook: HookName): boolean {
  for (const a of addons) if (a[hook]) return true;
  return false;
}
