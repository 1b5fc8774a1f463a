import { useEffect, useState } from 'react';

export interface RateSample {
  /** Monotonic milliseconds. */
  time: number;
  /** Flows ever seen at that time. */
  total: number;
}

/** Requests per second over the samples kept (oldest to newest). */
export function rateFrom(samples: readonly RateSample[]): number {
  if (samples.length < 2) return 0;
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const seconds = (last.time - first.time) / 1000;
  if (seconds <= 0) return 0;
  return Math.max(0, (last.total - first.total) / seconds);
}

/**
 * Requests per second for the status bar: `totalSeen` sampled once a second, averaged over the
 * last few seconds. Costs one timer, not a store subscription.
 */
export function useRequestRate(source: { getSnapshot(): { totalSeen: number } }, intervalMs = 1000, window = 5): number {
  const [rate, setRate] = useState(0);
  useEffect(() => {
    const samples: RateSample[] = [{ time: performance.now(), total: source.getSnapshot().totalSeen }];
    const timer = setInterval(() => {
      samples.push({ time: performance.now(), total: source.getSnapshot().totalSeen });
      if (samples.length > window + 1) samples.shift();
      // Rounded so an idle proxy does not re-render the UI every second.
      const next = Math.round(rateFrom(samples) * 10) / 10;
      setRate((old) => (old === next ? old : next));
    }, intervalMs);
    timer.unref?.();
    return () => clearInterval(timer);
  }, [source, intervalMs, window]);
  return rate;
}
