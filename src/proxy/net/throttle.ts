/**
 * The throttle rule's IO half (issue 6): a bandwidth cap applied to a body while it streams, and
 * the added latency. Simulates a slow network per rule; the rule decides the numbers.
 */
import { performance } from 'node:perf_hooks';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through at no more than `bytesPerSecond`, in order, splitting large chunks. A token
 * bucket holding about a tenth of a second's worth lets the first bytes go at once and keeps later
 * slices at ~10 a second. Backpressure is the Transform's own: the next chunk is taken only when the
 * current one has been passed on, so at most one chunk is held here. `destroy()` clears the timer.
 */
export class ThrottleStream extends Transform {
  readonly #rate: number;
  /** Bucket size in bytes: the burst allowed after an idle moment. */
  readonly #capacity: number;
  #tokens: number;
  #lastRefill = performance.now();
  #timer: NodeJS.Timeout | null = null;

  constructor(bytesPerSecond: number) {
    super();
    if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) {
      throw new RangeError(`ThrottleStream: bytesPerSecond must be a positive number, got ${bytesPerSecond}`);
    }
    this.#rate = bytesPerSecond;
    this.#capacity = Math.max(1, Math.ceil(bytesPerSecond / 10));
    this.#tokens = this.#capacity;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#send(chunk, 0, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    callback(error);
  }

  /** Push as much of `chunk` from `offset` as the bucket allows, then wait for the rest. */
  #send(chunk: Buffer, offset: number, callback: TransformCallback): void {
    this.#timer = null;
    if (this.destroyed) return;
    this.#refill();
    const take = Math.min(Math.floor(this.#tokens), chunk.length - offset);
    if (take > 0) {
      this.#tokens -= take;
      this.push(offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take));
      offset += take;
    }
    if (offset >= chunk.length) {
      callback();
      return;
    }
    // Wait for a full bucket (or the remainder, if smaller): fewer, larger slices than byte-by-byte.
    const want = Math.min(chunk.length - offset, this.#capacity);
    const waitMs = Math.max(1, Math.ceil(((want - this.#tokens) / this.#rate) * 1000));
    this.#timer = setTimeout(() => this.#send(chunk, offset, callback), waitMs);
  }

  #refill(): void {
    const now = performance.now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#lastRefill) / 1000) * this.#rate);
    this.#lastRefill = now;
  }
}

/** Wait `ms` (the throttle rule's added latency). Resolves early, and quietly, when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || !(ms > 0)) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
    signal?.addEventListener('abort', done, { once: true });
  });
}
