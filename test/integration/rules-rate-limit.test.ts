/**
 * The per-client token-bucket rate limit through the real proxy (issue 6 point 7): each matching
 * request takes a token from its client address's bucket (`burst` at most, refilled at
 * `perSecond`); an empty bucket is answered 429 with `Retry-After` and the flow is tagged
 * `rate-limited`, without reaching the origin.
 *
 * The second client address is 127.0.0.2 (loopback, admitted by the default access lists).
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuleSpec } from '../../src/config/schema.js';
import { curlRequest, header } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';

type RateLimitSpec = Extract<RuleSpec, { type: 'rate-limit' }>;

function rateLimit(filter: string, perSecond: number, burst?: number): RateLimitSpec {
  return { type: 'rate-limit', filter, perSecond, ...(burst === undefined ? {} : { burst }), enabled: true };
}

interface NodeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A keep-alive agent per client address, so rapid requests reuse one connection like a real client. */
function agentFor(localAddress: string, agents: http.Agent[]): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress });
  agents.push(agent);
  return agent;
}

/** One absolute-form GET through the proxy with Node's http client. */
function getViaProxy(proxy: TestProxy, url: string, agent: http.Agent): Promise<NodeResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: proxy.port,
      method: 'GET',
      path: url,
      headers: { host: new URL(url).host },
      agent,
      signal: AbortSignal.timeout(5000),
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function sequence(proxy: TestProxy, url: string, agent: http.Agent, n: number): Promise<NodeResponse[]> {
  const out: NodeResponse[] = [];
  for (let i = 0; i < n; i++) out.push(await getViaProxy(proxy, url, agent));
  return out;
}

describe('rate limit', () => {
  const origins: Origin[] = [];
  const agents: http.Agent[] = [];

  async function origin(): Promise<Origin> {
    const o = await startOrigin();
    origins.push(o);
    return o;
  }

  afterEach(async () => {
    for (const a of agents.splice(0)) a.destroy();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
  });

  it('perSecond 1, burst 2: the third rapid request gets 429 with Retry-After and the rate-limited tag; the origin saw 2', async () => {
    const o = await origin();
    const proxy = await startProxy({ config: { rules: [rateLimit('~u /hello', 1, 2)] } });
    const url = `${o.url}/hello`;
    const agent = agentFor('127.0.0.1', agents);
    const [first, second, third] = await sequence(proxy, url, agent, 3);
    expect(first!.status).toBe(200);
    expect(second!.status).toBe(200);
    expect(third!.status).toBe(429);
    const retryAfter = third!.headers['retry-after'];
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(third!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(third!.headers['cache-control']).toBe('no-store');
    expect(third!.body).toBe(`proxyctl: too many requests (rules[0] rate-limit allows 1/s, burst 2); retry in ${retryAfter} s\n`);
    expect(o.requests).toHaveLength(2);

    const flows = await proxy.waitForFlows(3);
    expect(flows.map((f) => f.response?.status)).toEqual([200, 200, 429]);
    expect(flows.map((f) => f.tags.includes('rate-limited'))).toEqual([false, false, true]);
    expect(flows[2]!.server.address).toBeNull();
    // The rules pane explains the rule.
    expect(proxy.runtime.rules.list.getSnapshot().find((e) => e.id === 'config:0')).toMatchObject({
      type: 'rate-limit',
      explain: 'rate-limit ~u /hello to 1/s per client (burst 2)',
      source: 'config',
      enabled: true,
    });
  });

  it('tokens come back: after Retry-After seconds the client may send again', async () => {
    const o = await origin();
    const proxy = await startProxy({ config: { rules: [rateLimit('~u /hello', 2, 1)] } });
    const url = `${o.url}/hello`;
    const agent = agentFor('127.0.0.1', agents);
    const [a, b] = await sequence(proxy, url, agent, 2);
    expect(a!.status).toBe(200);
    expect(b!.status).toBe(429);
    // 2 tokens/s: the next one is at most 0.5 s away, announced in whole seconds.
    expect(b!.headers['retry-after']).toBe('1');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await getViaProxy(proxy, url, agent)).status).toBe(200);
    expect(o.requests).toHaveLength(2);
  });

  it('two client addresses have separate buckets: 127.0.0.2 is not limited by what 127.0.0.1 used', async () => {
    const o = await origin();
    const proxy = await startProxy({ config: { rules: [rateLimit('~u /hello', 1, 2)] } });
    const url = `${o.url}/hello`;
    const one = agentFor('127.0.0.1', agents);
    const two = agentFor('127.0.0.2', agents);
    expect((await sequence(proxy, url, one, 3)).map((r) => r.status)).toEqual([200, 200, 429]);
    expect((await sequence(proxy, url, two, 3)).map((r) => r.status)).toEqual([200, 200, 429]);
    // 127.0.0.1 is still out of tokens.
    expect((await getViaProxy(proxy, url, one)).status).toBe(429);
    expect(o.requests).toHaveLength(4);
    const flows = await proxy.waitForFlows(7);
    const limited = flows.filter((f) => f.tags.includes('rate-limited'));
    expect(limited.map((f) => f.client.address)).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.1']);
  });

  it('separate connections from one address share the bucket (curl, one connection each)', async () => {
    const o = await origin();
    const proxy = await startProxy({ config: { rules: [rateLimit('~u /hello', 1, 2)] } });
    const statuses: number[] = [];
    let last = null as Awaited<ReturnType<typeof curlRequest>> | null;
    for (let i = 0; i < 3; i++) {
      last = await curlRequest(`${o.url}/hello`, { proxy: proxy.url });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(header(last!.headers, 'retry-after'))).toBeGreaterThanOrEqual(1);
    expect(o.requests).toHaveLength(2);
  });

  it('only requests matching the filter take tokens', async () => {
    const o = await origin();
    const proxy = await startProxy({ config: { rules: [rateLimit('~u /echo', 1, 1)] } });
    const agent = agentFor('127.0.0.1', agents);
    expect((await sequence(proxy, `${o.url}/hello`, agent, 4)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await sequence(proxy, `${o.url}/echo`, agent, 2)).map((r) => r.status)).toEqual([200, 429]);
    const flows = await proxy.waitForFlows(6);
    expect(flows.filter((f) => f.tags.includes('rate-limited')).map((f) => f.request.path)).toEqual(['/echo']);
  });
});
