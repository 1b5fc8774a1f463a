/**
 * Reverse mode, balancing: real backends on 127.0.0.1 count the requests they get through the
 * proxy, for each algorithm (round-robin, smooth weighted, least connections, client-IP hash).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { holdOpen, request, startBackend, type BackendEcho, type TestBackend } from '../helpers/backends.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';
import type { ConfigFile } from '../../src/config/schema.js';

let backends: TestBackend[] = [];

afterEach(async () => {
  for (const b of backends) b.releaseHolds();
  await stopAllProxies();
  await Promise.all(backends.map((b) => b.close()));
  backends = [];
});

async function start(n: number): Promise<TestBackend[]> {
  const names = ['a', 'b', 'c', 'd'];
  backends = await Promise.all(names.slice(0, n).map((name) => startBackend(name)));
  return backends;
}

/** Send requests one after the other; the backend names that answered, in order. */
async function sequence(proxy: TestProxy, n: number, opts: Parameters<typeof request>[2] = {}): Promise<string> {
  let out = '';
  for (let i = 0; i < n; i++) {
    const r = await request(proxy.port, `/item/${i}`, opts);
    expect(r.status).toBe(200);
    out += (JSON.parse(r.body) as BackendEcho).backend;
  }
  return out;
}

function reverseConfig(reverse: NonNullable<ConfigFile['reverse']>): ConfigFile {
  return { mode: 'reverse', reverse };
}

describe('reverse mode balancing', () => {
  it('round-robin over --mode reverse:URL,URL,URL; the flows show the backend as server and the client’s Host', async () => {
    const [a, b, c] = await start(3);
    const proxy = await startProxy({ flags: { mode: `reverse:${a!.url},${b!.url},${c!.url}` } });
    const got = await sequence(proxy, 30, { host: 'shop.local' });
    expect(got).toBe('abc'.repeat(10));
    for (const be of [a!, b!, c!]) {
      expect(be.hits).toHaveLength(10);
      expect(be.hits.every((h) => h.headers.host === 'shop.local')).toBe(true);
    }
    const flows = await proxy.waitForFlows(30);
    const first = flows[0]!;
    expect([first.server.host, first.server.port]).toEqual(['127.0.0.1', a!.port]);
    expect([first.request.scheme, first.request.host, first.request.port, first.request.path]).toEqual(['http', '127.0.0.1', a!.port, '/item/0']);
    expect(first.request.headers).toContainEqual(['host', 'shop.local']);
    expect(first.response?.status).toBe(200);
    expect(proxy.runtime.backends().map((s) => [s.url, s.requests, s.inFlight, s.healthy])).toEqual([
      [a!.url, 10, 0, true],
      [b!.url, 10, 0, true],
      [c!.url, 10, 0, true],
    ]);
  });

  it('smooth weighted round-robin: 3:1 over 40 requests is exactly 30:10, never more than 3 in a row', async () => {
    const [a, b] = await start(2);
    const proxy = await startProxy({ config: reverseConfig({ balance: 'weighted', backends: [{ url: a!.url, weight: 3 }, { url: b!.url, weight: 1 }] }) });
    const got = await sequence(proxy, 40);
    expect(a!.hits).toHaveLength(30);
    expect(b!.hits).toHaveLength(10);
    expect(got).not.toMatch(/a{4}|bb/);
    expect(proxy.runtime.backends().map((s) => s.weight)).toEqual([3, 1]);
  });

  it('least connections: while one backend holds a request, new ones go to the others; counts are released, also on abort', async () => {
    const [a, b, c] = await start(3);
    const proxy = await startProxy({ flags: { mode: `reverse:${a!.url},${b!.url},${c!.url}` }, config: reverseConfig({ balance: 'least-connections' }) });
    const held = await holdOpen(proxy.port);
    const holder = backends.find((x) => x.name === held.backend)!;
    expect(holder.holding).toBe(1);
    expect(proxy.runtime.backends().find((s) => s.url === holder.url)?.inFlight).toBe(1);
    const got = await sequence(proxy, 10);
    expect(got).not.toContain(holder.name);
    const others = backends.filter((x) => x !== holder);
    expect(others.map((x) => x.hits.length)).toEqual([5, 5]);

    // A second held request goes to a backend with nothing in flight, not to the first holder.
    const held2 = await holdOpen(proxy.port);
    expect(held2.backend).not.toBe(holder.name);
    holder.releaseHolds();
    expect(await held.done).toBe(`holding\nreleased by ${holder.name}`);
    // The client goes away in the middle of the second one: its count must come back too.
    held2.abort();
    await waitFor(() => proxy.runtime.backends().every((s) => s.inFlight === 0), { timeoutMs: 3000, message: 'every in-flight count back to 0' });
    // With nothing in flight the first holder takes its turn again.
    expect(await sequence(proxy, 3)).toContain(holder.name);
  });

  it('ip-hash: the same client address always reaches the same backend; only the clients of a stopped backend move', async () => {
    await start(4);
    const proxy = await startProxy({
      config: reverseConfig({
        balance: 'ip-hash',
        backends: backends.map((b) => ({ url: b.url, weight: 1 })),
        health: { path: '/healthz', intervalMs: 100, timeoutMs: 500, unhealthyAfter: 1, healthyAfter: 1 },
      }),
    });
    const clients = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];
    const placement = new Map<string, string>();
    for (const client of clients) {
      const got = await sequence(proxy, 3, { localAddress: client });
      expect(got).toMatch(/^(a{3}|b{3}|c{3}|d{3})$/);
      placement.set(client, got[0]!);
    }
    const flows = await proxy.waitForFlows(24);
    expect(new Set(flows.map((f) => f.client.address))).toEqual(new Set(clients));
    expect(new Set(placement.values()).size).toBeGreaterThan(1);

    // Stop the backend with the most clients: its clients move, nobody else does.
    const counts = new Map<string, number>();
    for (const b of placement.values()) counts.set(b, (counts.get(b) ?? 0) + 1);
    const busiest = [...counts.entries()].sort((x, y) => y[1] - x[1])[0]![0];
    const victim = backends.find((b) => b.name === busiest)!;
    await victim.stop();
    await waitFor(() => proxy.runtime.backends().find((s) => s.url === victim.url)?.healthy === false, { timeoutMs: 5000, message: `${victim.url} marked down` });
    for (const client of clients) {
      const got = await sequence(proxy, 2, { localAddress: client });
      if (placement.get(client) === busiest) expect(got[0]).not.toBe(busiest);
      else expect(got).toBe(placement.get(client)!.repeat(2));
      expect(got[0]).toBe(got[1]);
    }
    // Back up: its clients come back to it.
    await victim.restart();
    await waitFor(() => proxy.runtime.backends().find((s) => s.url === victim.url)?.healthy === true, { timeoutMs: 5000, message: `${victim.url} healthy again` });
    for (const client of clients) expect(await sequence(proxy, 1, { localAddress: client })).toBe(placement.get(client));
  });
});
