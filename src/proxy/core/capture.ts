import { createHash, type Hash } from 'node:crypto';
import type { BodyCapture } from './flow.js';

/**
 * Tees a streaming body into a bounded capture (DESIGN.md §1.3): every byte is counted, the first
 * `limit` bytes are kept, and once the body outgrows the limit a SHA-256 over the whole body is
 * computed incrementally so the flow still identifies what passed. Bodies within the limit are
 * hashed lazily by whoever needs it (`sha256Of`), keeping the hash off the hot path.
 */
export class BodyCapturer {
  private chunks: Buffer[] = [];
  private kept = 0;
  private size = 0;
  private hash: Hash | null = null;

  constructor(
    private readonly target: BodyCapture,
    private readonly limit: number,
  ) {
    target.state = 'streaming';
  }

  push(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.hash) this.hash.update(chunk);
    else if (this.size > this.limit) {
      // Crossing the limit: start hashing from the first byte.
      this.hash = createHash('sha256');
      for (const c of this.chunks) this.hash.update(c);
      this.hash.update(chunk);
    }
    if (this.kept < this.limit) {
      const take = Math.min(chunk.length, this.limit - this.kept);
      this.chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      this.kept += take;
    }
    this.target.size = this.size;
  }

  /** Seal the capture: `complete` when the body ended normally, `aborted` when it broke. */
  finish(state: 'complete' | 'aborted'): BodyCapture {
    const t = this.target;
    if (t.state !== 'streaming') return t; // already sealed
    t.size = this.size;
    t.bytes = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.kept);
    t.truncated = this.size > this.kept;
    if (this.hash) t.sha256 = this.hash.digest('hex');
    t.state = state;
    this.chunks = [];
    return t;
  }
}

/** Fill a body capture from a whole buffer (local responses, edits). */
export function captureWhole(target: BodyCapture, bytes: Buffer, limit: number): BodyCapture {
  const c = new BodyCapturer(target, limit);
  if (bytes.length) c.push(bytes);
  return c.finish('complete');
}

/** SHA-256 of a body: the recorded one when truncated, else computed from the kept bytes. */
export function sha256Of(body: BodyCapture): string {
  if (body.sha256) return body.sha256;
  const h = createHash('sha256').update(body.bytes ?? Buffer.alloc(0)).digest('hex');
  if (body.state === 'complete') body.sha256 = h;
  return h;
}
