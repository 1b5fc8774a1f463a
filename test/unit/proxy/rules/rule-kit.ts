import { parseFilter, type FlowPredicate } from '../../../../src/proxy/filter/index.js';
import type { LogLevel } from '../../../../src/proxy/core/events.js';
import type { BodyTransform, HookContext, HookDecision, LocalResponse, ThrottleSpec } from '../../../../src/proxy/core/pipeline.js';

/** A HookContext that records what the hooks asked of it. */
export interface FakeContext extends HookContext {
  logs: Array<[LogLevel, string]>;
  throttles: ThrottleSpec[];
  requestTransforms: BodyTransform[];
  responseTransforms: BodyTransform[];
}

export function fakeContext(): FakeContext {
  const ctx: FakeContext = {
    logs: [],
    throttles: [],
    requestTransforms: [],
    responseTransforms: [],
    log: (level, message) => void ctx.logs.push([level, message]),
    throttle: (spec) => void ctx.throttles.push(spec),
    transformRequestBody: (fn) => void ctx.requestTransforms.push(fn),
    transformResponseBody: (fn) => void ctx.responseTransforms.push(fn),
    observeResponseBody: () => {},
  };
  return ctx;
}

/** Compile a filter expression for a rule under test (throws on a bad one). */
export function filter(text: string): { filterText: string; matches: FlowPredicate } {
  const r = parseFilter(text);
  if (!r.ok) throw new Error(`bad test filter ${text}: ${r.error.message}`);
  return { filterText: text, matches: r.predicate };
}

/** The body of a local response as text. */
export function bodyText(body: Buffer | string): string {
  return typeof body === 'string' ? body : body.toString('utf8');
}

/** A hook's result, which these rules give synchronously. */
export function decision(result: HookDecision | void | Promise<HookDecision | void>): HookDecision | void {
  if (result instanceof Promise) throw new Error('expected a synchronous decision');
  return result;
}

/** The local response of a `respond` decision (fails the test otherwise). */
export function responseOf(result: HookDecision | void | Promise<HookDecision | void>): LocalResponse {
  const d = decision(result);
  if (!d || d.action !== 'respond') throw new Error(`expected a respond decision, got ${JSON.stringify(d)}`);
  return d.response;
}
