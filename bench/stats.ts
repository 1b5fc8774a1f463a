/** Small statistics helpers: percentiles over recorded latencies, medians over interleaved rounds. */

/** A growable list of samples (milliseconds), cheap to append to on the hot path of a load generator. */
export class Samples {
  private data = new Float64Array(1024);
  private n = 0;

  push(value: number): void {
    if (this.n === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = value;
  }

  get count(): number {
    return this.n;
  }

  /** Percentiles (0–100) by nearest rank over a sorted copy; NaN when empty. */
  percentiles(...ps: number[]): number[] {
    if (this.n === 0) return ps.map(() => Number.NaN);
    const sorted = this.data.slice(0, this.n).sort();
    return ps.map((p) => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1))]!);
  }

  max(): number {
    let m = Number.NaN;
    for (let i = 0; i < this.n; i++) if (!(this.data[i]! <= m)) m = this.data[i]!;
    return m;
  }
}

/** Median of finite numbers; NaN when there are none. */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** `a / b`, or null when either side is missing or b is zero. */
export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

export const MiB = 1024 * 1024;
/** Memory targets are stated in MB; we read them as 10^6 bytes (the stricter reading). */
export const MB = 1_000_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
