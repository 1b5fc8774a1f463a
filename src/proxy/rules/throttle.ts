import type { Flow } from '../core/flow.js';
import type { Addon, HookContext } from '../core/pipeline.js';
import type { FlowPredicate } from '../filter/index.js';
import { addTag } from './pages.js';

export interface ThrottleRuleOptions {
  /** e.g. `rules[7] throttle`. */
  name: string;
  filterText: string;
  matches: FlowPredicate;
  /** Added before the response head is relayed. @default 0 */
  latencyMs: number;
  /** Cap on body bytes per second, each direction; null for no cap. @default null */
  bytesPerSecond: number | null;
}

/** Simulate a slow network for matching exchanges; the exchange does the waiting. */
export function throttleRule(opts: ThrottleRuleOptions): Addon {
  const { name, filterText, matches, latencyMs, bytesPerSecond } = opts;
  const parts = [latencyMs > 0 ? `+${latencyMs} ms` : null, bytesPerSecond !== null ? formatRate(bytesPerSecond) : null].filter((p) => p !== null);
  return {
    name,
    explain: () => `throttle ${filterText}: ${parts.length ? parts.join(', ') : 'no delay, no cap'}`,
    requestHeaders(flow: Flow, ctx: HookContext): void {
      if (!matches(flow)) return;
      ctx.throttle({ latencyMs, bytesPerSecond });
      addTag(flow.tags, 'throttled');
    },
  };
}

/** `50000` → `48.8 KiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let v = bytesPerSecond;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const shown = u === 0 || v >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
  return `${shown} ${units[u]}`;
}
