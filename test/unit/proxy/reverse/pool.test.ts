import { afterEach, describe, expect, it } from 'vitest';
import type { LogLevel } from '../../../../src/proxy/core/events.js';
import type { HealthProbe, ProbeResult } from '../../../../src/proxy/reverse/health-probe.js';
import { ReversePool } from '../../../../src/proxy/reverse/pool.js';
import { DEFAULT_PASSIVE, type GroupSettings, type ReverseSettings } from '../../../../src/proxy/reverse/settings.js';
import { waitFor } from '../../../helpers/wait.js';

const A = 'http://127.0.0.1:3001';
const B = 'http://127.0.0.1:3002';

function settings(group: Partial<GroupSettings> = {}, rest: Partial<ReverseSettings> = {}): ReverseSettings {
  return {
    groups: [{ name: 'default', balance: 'round-robin', backends: [{ url: A, weight: 1 }, { url: B, weight: 1 }], health: null, passive: DEFAULT_PASSIVE, ...group }],
    routes: [],
    defaultGroup: 'default',
    forwarded: { enabled: true, anonymize: false },
    hostHeader: 'keep',
    ...rest,
  };
}

const pools: ReversePool[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.stop();
});

function pool(s: ReverseSettings, probe: HealthProbe = async () => ({ ok: true, detail: 'HTTP 200' }), now?: () => number) {
  const log: Array<[LogLevel, string]> = [];
  const p = new ReversePool(s, { log: (level, message) => log.push([level, message]), probe, ...(now ? { now } : {}) });
  pools.push(p);
  return { p, log };
}

function lease(p: ReversePool) {
  const d = p.decide('app.local', '/x', '127.0.0.1');
  if (d.kind !== 'backend') throw new Error(`expected a backend, got ${d.tag}`);
  return d.lease;
}

describe('ReversePool', () => {
  it('counts requests in flight per backend until released (release is idempotent)', () => {
    const { p } = pool(settings());
    const l1 = lease(p);
    const l2 = lease(p);
    expect(p.statuses().map((s) => [s.url, s.inFlight, s.requests])).toEqual([
      [A, 1, 1],
      [B, 1, 1],
    ]);
    l1.release();
    l1.release();
    l2.release();
    expect(p.statuses().map((s) => s.inFlight)).toEqual([0, 0]);
  });

  it('fails over once to another backend, moving the in-flight count', () => {
    const { p } = pool(settings());
    const l = lease(p);
    expect(l.backend.url).toBe(A);
    const next = l.failover();
    expect(next?.url).toBe(B);
    expect(l.failover()).toBeNull();
    expect(p.statuses().map((s) => [s.inFlight, s.requests])).toEqual([
      [0, 1],
      [1, 1],
    ]);
    l.release();
    expect(p.statuses().map((s) => s.inFlight)).toEqual([0, 0]);
  });

  it('marks a backend down after failed requests (logged once), skips it, and 503s when all are down', () => {
    let t = 1_000_000;
    const { p, log } = pool(settings({ passive: { failures: 2, cooldownMs: 4500 } }), undefined, () => t);
    for (let i = 0; i < 4; i++) {
      const l = lease(p);
      if (l.backend.url === A) l.failed('connection refused');
      else l.responded(200);
      l.release();
    }
    expect(p.statuses().map((s) => [s.url, s.healthy, s.failures])).toEqual([
      [A, false, 2],
      [B, true, 0],
    ]);
    expect(log.filter(([, m]) => m.includes('is down'))).toHaveLength(1);
    expect(log[0]![1]).toMatch(/backend http:\/\/127\.0\.0\.1:3001 \(group default\) is down: 2 failed requests in a row: connection refused; tried again in 5 s \(1 of 2 healthy\)/);
    expect(lease(p).backend.url).toBe(B);
    const lb = lease(p);
    lb.responded(503);
    lb.release();
    const lb2 = lease(p);
    lb2.responded(502);
    lb2.release();
    t += 1000;
    const d = p.decide('app.local', '/x', '127.0.0.1');
    expect(d.kind).toBe('answer');
    if (d.kind !== 'answer') return;
    expect(d.tag).toBe('backends-down');
    expect(d.response.status).toBe(503);
    // A went down at t0 with a 4.5 s cool-down; 1 s later the soonest return is in 3.5 s → 4.
    expect(d.response.headers).toContainEqual(['Retry-After', '4']);
    expect(String(d.response.body)).toMatch(/group <b>default<\/b>/);
    expect(String(d.response.body)).toMatch(/HTTP 502/);
  });

  it('takes a backend back after the cool-down when no active check will', async () => {
    const { p, log } = pool(settings({ passive: { failures: 1, cooldownMs: 50 } }));
    const l = lease(p);
    l.failed('connection refused');
    l.release();
    expect(p.statuses()[0]!.healthy).toBe(false);
    await waitFor(() => p.statuses()[0]!.healthy, { timeoutMs: 2000, message: 'backend A back after its cool-down' });
    expect(log.map(([, m]) => m).filter((m) => m.includes('healthy again'))).toHaveLength(1);
  });

  it('runs active checks on the interval until stopped, and brings a backend back through them', async () => {
    const results = new Map<string, ProbeResult>([[`${A}/healthz`, { ok: false, detail: 'HTTP 500' }]]);
    const asked: string[] = [];
    const probe: HealthProbe = async (url) => {
      asked.push(url);
      return results.get(url) ?? { ok: true, detail: 'HTTP 200' };
    };
    const { p, log } = pool(settings({ health: { path: '/healthz', intervalMs: 20, timeoutMs: 100, unhealthyAfter: 2, healthyAfter: 2 } }), probe);
    p.start();
    await waitFor(() => !p.statuses()[0]!.healthy, { timeoutMs: 2000, message: 'A marked down by its checks' });
    expect(p.statuses()[0]!.reason).toMatch(/HTTP 500/);
    expect(p.statuses()[1]!.healthy).toBe(true);
    results.delete(`${A}/healthz`);
    await waitFor(() => p.statuses()[0]!.healthy, { timeoutMs: 2000, message: 'A back after good checks' });
    expect(log.map(([l, m]) => `${l} ${m.slice(0, 60)}`).filter((m) => m.includes(A))).toHaveLength(2);
    p.stop();
    const n = asked.length;
    await new Promise((r) => setTimeout(r, 80));
    expect(asked.length).toBe(n);
  });

  it('answers 404 when no route matches and there is no default', () => {
    const { p } = pool(settings({}, { routes: [{ host: 'api.local', pathPrefix: '/', group: 'default', stripPrefix: false }], defaultGroup: null }));
    const d = p.decide('web.local', '/x', '127.0.0.1');
    expect(d.kind === 'answer' && [d.tag, d.response.status]).toEqual(['no-route', 404]);
    expect(p.decide('api.local', '/x', '127.0.0.1').kind).toBe('backend');
  });
});
