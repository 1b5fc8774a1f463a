import type { EventBus } from '../bus.js';
import type { LogLevel } from '../core/events.js';
import type { Flow } from '../core/flow.js';
import type { BodyTransform, HookContext, ThrottleSpec } from '../core/pipeline.js';

/** A request for the whole response body, once sent (see HookContext.observeResponseBody). */
export interface BodyObserver {
  maxBytes: number;
  fn: (body: Buffer | null, flow: Flow) => void;
}

/**
 * What the rules asked of one exchange besides their decisions: throttling, body transforms and
 * body observers. Made only when some rule has a hook to run, so plain traffic pays nothing.
 */
export class RuleContext implements HookContext {
  throttleSpec: ThrottleSpec | null = null;
  requestTransforms: BodyTransform[] = [];
  responseTransforms: BodyTransform[] = [];
  observers: BodyObserver[] = [];

  constructor(
    private readonly bus: EventBus,
    private readonly flowId: string | undefined,
  ) {}

  log(level: LogLevel, message: string): void {
    this.bus.log(level, message, this.flowId);
  }

  /** Several throttle rules may match: the longest latency and the smallest bandwidth win. */
  throttle(spec: ThrottleSpec): void {
    const prev = this.throttleSpec;
    if (!prev) {
      this.throttleSpec = { ...spec };
      return;
    }
    const bps = [prev.bytesPerSecond, spec.bytesPerSecond].filter((b): b is number => b !== null);
    this.throttleSpec = { latencyMs: Math.max(prev.latencyMs, spec.latencyMs), bytesPerSecond: bps.length ? Math.min(...bps) : null };
  }

  transformRequestBody(fn: BodyTransform): void {
    this.requestTransforms.push(fn);
  }

  transformResponseBody(fn: BodyTransform): void {
    this.responseTransforms.push(fn);
  }

  observeResponseBody(maxBytes: number, fn: (body: Buffer | null, flow: Flow) => void): void {
    this.observers.push({ maxBytes, fn });
  }

  /** Run the response observers safely (a failing one is logged, never thrown into traffic). */
  notifyObservers(body: Buffer | null, flow: Flow): void {
    for (const o of this.observers) {
      try {
        o.fn(body !== null && body.length <= o.maxBytes ? body : null, flow);
      } catch (err) {
        this.log('error', `a rule failed while observing the response body: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.observers = [];
  }

  /** Apply body transforms in order; a failing one is logged and skipped. */
  applyTransforms(fns: readonly BodyTransform[], body: Buffer, flow: Flow): Buffer {
    let out = body;
    for (const fn of fns) {
      try {
        out = fn(out, flow);
      } catch (err) {
        this.log('error', `a body rewrite failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return out;
  }
}
