/**
 * Waiting without sleeping: poll a condition or wait for an event, always bounded, and say what was
 * awaited when the bound is hit (a bare "timeout" in a failing test wastes the reader's time).
 */
import type { EventEmitter } from 'node:events';

export interface WaitForOptions {
  /** @default 5000 */
  timeoutMs?: number;
  /** @default 10 */
  intervalMs?: number;
  /** What is being awaited, for the timeout message. */
  message?: string;
}

/**
 * Resolve with the first truthy value of `predicate` (sync or async), polled every `intervalMs`.
 * A throwing predicate counts as "not yet"; its last error is quoted if the wait times out.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, opts: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const intervalMs = opts.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      last = await predicate();
      lastError = undefined;
      if (last) return last as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
  const what = opts.message ?? (predicate.toString().slice(0, 200) || 'condition');
  const why = lastError !== undefined ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}` : `last value: ${describe(last)}`;
  throw new Error(`waitFor timed out after ${timeoutMs} ms waiting for ${what} (${why})`);
}

/**
 * Resolve with the arguments of the next `event` on `emitter`. Rejects after `timeoutMs`, and on an
 * `'error'` event meanwhile (unless `'error'` is what is awaited).
 */
export function once(emitter: EventEmitter, event: string | symbol, timeoutMs = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      if (event !== 'error') emitter.off('error', onError);
    };
    const onEvent = (...args: unknown[]) => {
      cleanup();
      resolve(args);
    };
    const onError = (err: unknown) => {
      cleanup();
      reject(new Error(`error while waiting for '${String(event)}': ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${String(event)}' on ${emitter.constructor?.name ?? 'emitter'}`));
    }, timeoutMs);
    emitter.on(event, onEvent);
    if (event !== 'error') emitter.on('error', onError);
  });
}

/** Bound any promise: reject with `what` named if it does not settle within `timeoutMs`. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(value: unknown): string {
  try {
    const s = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
    return s.length > 200 ? `${s.slice(0, 200)}…` : s;
  } catch {
    // Circular or exotic values: fall back to the plain conversion.
    return String(value);
  }
}
