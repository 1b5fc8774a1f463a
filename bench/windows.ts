/**
 * Measurement windows: a side (direct or through the proxy) opens its connections, then the window
 * reads CPU counters (proxy, origin, load generator), runs the load for a fixed time, and reads them
 * again. `interleave` alternates the sides round by round (A B, B A, …) so machine noise lands on both
 * alike, and the report takes medians.
 */
import type { Origins } from './origins.js';
import type { ProxyUnderTest } from './proxy-process.js';
import { selfCpuMicros } from './proc.js';
import { median, MiB } from './stats.js';

/** What a load run produced, whatever generated it. */
export interface RawWindow {
  requests: number;
  errors: number;
  elapsedMs: number;
  bytes: number;
  p50Ms: number;
  p99Ms: number;
  /** Set by generators that run outside this process (wrk); else this process's CPU is used. */
  loadgenCpuMicros?: number;
}

export interface Prepared {
  run(durationMs: number): Promise<RawWindow>;
  close(): void;
}

export interface Side {
  name: string;
  /** Which client generated the load ('wrk', 'node h1', 'node h2'). */
  loadgen: string;
  /** The proxy in the path, if any (its CPU is read around the window). */
  proxy: ProxyUnderTest | null;
  /** Open connections, handshakes, warm-up request: outside the measured window. */
  prepare(): Promise<Prepared>;
}

export interface Window {
  requests: number;
  errors: number;
  elapsedMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  mibPerS: number;
  /** Proxy CPU µs per completed request (null for direct). */
  proxyCpuUsPerReq: number | null;
  /** The part of proxyCpuUsPerReq spent on the proxy's event-loop thread. */
  proxyMainCpuUsPerReq: number | null;
  /** Proxy CPU as a share of one core over the window. */
  proxyCpuCores: number | null;
  /** Load generator CPU as a share of one core: near 1.0 means it was the bottleneck. */
  loadgenCpuCores: number;
  loadgenCpuUsPerReq: number;
  originCpuUsPerReq: number;
}

export async function measure(side: Side, origins: Origins, durationMs: number): Promise<Window> {
  const prepared = await side.prepare();
  try {
    const p0 = side.proxy?.cpuMicros() ?? 0;
    const m0 = side.proxy?.mainThreadCpuMicros() ?? 0;
    const o0 = origins.cpuMicros();
    const s0 = selfCpuMicros();
    const t0 = performance.now();
    const raw = await prepared.run(durationMs);
    const wall = performance.now() - t0;
    const selfUs = selfCpuMicros() - s0;
    const originUs = origins.cpuMicros() - o0;
    const proxyUs = side.proxy ? side.proxy.cpuMicros() - p0 : null;
    const mainUs = side.proxy ? side.proxy.mainThreadCpuMicros() - m0 : null;
    const loadgenUs = raw.loadgenCpuMicros ?? selfUs;
    const n = Math.max(1, raw.requests);
    const secs = raw.elapsedMs / 1000;
    return {
      requests: raw.requests,
      errors: raw.errors,
      elapsedMs: raw.elapsedMs,
      rps: secs > 0 ? raw.requests / secs : 0,
      p50Ms: raw.p50Ms,
      p99Ms: raw.p99Ms,
      mibPerS: secs > 0 ? raw.bytes / MiB / secs : 0,
      proxyCpuUsPerReq: proxyUs === null ? null : proxyUs / n,
      proxyMainCpuUsPerReq: mainUs === null ? null : mainUs / n,
      proxyCpuCores: proxyUs === null ? null : proxyUs / 1000 / wall,
      loadgenCpuCores: loadgenUs / 1000 / wall,
      loadgenCpuUsPerReq: loadgenUs / n,
      originCpuUsPerReq: originUs / n,
    };
  } finally {
    prepared.close();
  }
}

/** The median of each figure over rounds. */
export function medianWindow(ws: readonly Window[]): Window {
  const m = (f: (w: Window) => number | null) => {
    const v = ws.map(f).filter((x): x is number => x !== null);
    return v.length ? median(v) : null;
  };
  return {
    requests: m((w) => w.requests) ?? 0,
    errors: ws.reduce((a, w) => a + w.errors, 0),
    elapsedMs: m((w) => w.elapsedMs) ?? 0,
    rps: m((w) => w.rps) ?? 0,
    p50Ms: m((w) => w.p50Ms) ?? Number.NaN,
    p99Ms: m((w) => w.p99Ms) ?? Number.NaN,
    mibPerS: m((w) => w.mibPerS) ?? 0,
    proxyCpuUsPerReq: m((w) => w.proxyCpuUsPerReq),
    proxyMainCpuUsPerReq: m((w) => w.proxyMainCpuUsPerReq),
    proxyCpuCores: m((w) => w.proxyCpuCores),
    loadgenCpuCores: m((w) => w.loadgenCpuCores) ?? 0,
    loadgenCpuUsPerReq: m((w) => w.loadgenCpuUsPerReq) ?? 0,
    originCpuUsPerReq: m((w) => w.originCpuUsPerReq) ?? 0,
  };
}

export interface Interleaved {
  /** Per side, every measured window in order. */
  windows: Record<string, Window[]>;
  /** Per side, the medians. */
  medians: Record<string, Window>;
}

/**
 * One warm-up window per side that goes through a proxy (its JIT, its upstream pool), then
 * `rounds` rounds alternating the order (A B, B A, A B …).
 */
export async function interleave(sides: Side[], origins: Origins, opts: { rounds: number; windowMs: number; warmupMs: number; log: (s: string) => void }): Promise<Interleaved> {
  const windows: Record<string, Window[]> = {};
  for (const side of sides) {
    windows[side.name] = [];
    if (opts.warmupMs > 0 && side.proxy) await measure(side, origins, opts.warmupMs);
  }
  for (let r = 0; r < opts.rounds; r++) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const w = await measure(side, origins, opts.windowMs);
      windows[side.name]!.push(w);
      opts.log(
        `  round ${r + 1}/${opts.rounds} ${side.name.padEnd(8)} ${w.rps.toFixed(0).padStart(7)} req/s  p50 ${w.p50Ms.toFixed(2)} ms  p99 ${w.p99Ms.toFixed(2)} ms` +
          (w.mibPerS >= 1 ? `  ${w.mibPerS.toFixed(0)} MiB/s` : '') +
          (w.proxyCpuUsPerReq !== null ? `  proxy ${w.proxyCpuUsPerReq.toFixed(1)} µs/req (event loop ${w.proxyMainCpuUsPerReq!.toFixed(1)})` : '') +
          `  loadgen ${(w.loadgenCpuCores * 100).toFixed(0)}% cpu` +
          (w.errors ? `  errors ${w.errors}` : ''),
      );
    }
  }
  const medians: Record<string, Window> = {};
  for (const side of sides) medians[side.name] = medianWindow(windows[side.name]!);
  return { windows, medians };
}

/** A sentence when a load generator ran near a full core (so it, not the proxy, set the pace). */
export function saturationNote(label: string, w: Window): string | null {
  return w.loadgenCpuCores >= 0.9
    ? `${label}: the load generator used ${(w.loadgenCpuCores * 100).toFixed(0)}% of a core, so it may have set the pace; CPU per request is the figure to trust`
    : null;
}
