import { describe, expect, it } from 'vitest';
import { headerValue } from '../../../../src/proxy/core/flow.js';
import type { HookDecision } from '../../../../src/proxy/core/pipeline.js';
import { rateLimitRule, type RateLimitRuleOptions } from '../../../../src/proxy/rules/rate-limit.js';
import { makeFlow } from '../../../helpers/make-flow.js';
import { bodyText, decision, fakeContext, filter } from './rule-kit.js';

/** A rule on an injected clock; `at(ms, address)` sends one request at that time. */
function limiter(opts: Partial<RateLimitRuleOptions> & { perSecond: number }) {
  let t = 0;
  const rule = rateLimitRule({ name: 'rules[6] rate-limit', ...filter('~d api.example'), now: () => t, ...opts });
  const at = (ms: number, address = '127.0.0.1', host = 'api.example'): HookDecision | void => {
    t = ms;
    return decision(rule.requestHeaders!(makeFlow({ request: { host }, client: { address } }), fakeContext()));
  };
  return { rule, at };
}

/** `.` for a request let through, `x` for a 429. */
const outcome = (d: HookDecision | void) => (d === undefined ? '.' : 'x');

describe('rateLimitRule', () => {
  it('explains itself, with the default burst', () => {
    expect(limiter({ perSecond: 10, burst: 20 }).rule.explain()).toBe('rate-limit ~d api.example to 10/s per client (burst 20)');
    expect(limiter({ perSecond: 2.5 }).rule.explain()).toBe('rate-limit ~d api.example to 2.5/s per client (burst 3)');
    expect(limiter({ perSecond: 0.2 }).rule.explain()).toBe('rate-limit ~d api.example to 0.2/s per client (burst 1)');
  });

  it.each<[string, Partial<RateLimitRuleOptions> & { perSecond: number }, number[], string]>([
    // [case, options, request times in ms, outcomes]
    ['a burst, then one per refill', { perSecond: 2, burst: 3 }, [0, 0, 0, 0, 499, 500, 500, 1000], '...xx.x.'],
    ['default burst = ceil(perSecond)', { perSecond: 2 }, [0, 0, 0], '..x'],
    ['steady at exactly the rate', { perSecond: 10, burst: 1 }, [0, 100, 200, 300, 400], '.....'],
    ['faster than the rate', { perSecond: 10, burst: 1 }, [0, 50, 100, 150, 200], '.x.x.'],
    ['refill stops at the burst', { perSecond: 1, burst: 2 }, [0, 10_000, 10_000, 10_000], '...x'],
    ['a slow rate', { perSecond: 0.5, burst: 1 }, [0, 1000, 1999, 2000], '.xx.'],
  ])('%s', (_n, opts, times, expected) => {
    const { at } = limiter(opts);
    expect(times.map((ms) => outcome(at(ms))).join('')).toBe(expected);
  });

  it('answers 429 with Retry-After in whole seconds until a token is back', () => {
    const { at } = limiter({ perSecond: 0.25, burst: 1 }); // one token every 4 s
    at(0);
    const d = at(500);
    expect(d).toMatchObject({ action: 'respond', tag: 'rate-limited', response: { status: 429 } });
    if (!d || d.action !== 'respond') throw new Error('no 429');
    expect(headerValue(d.response.headers, 'retry-after')).toBe('4'); // 3.5 s, rounded up
    expect(headerValue(d.response.headers, 'content-type')).toBe('text/plain; charset=utf-8');
    expect(bodyText(d.response.body)).toMatch(/too many requests/);
    const later = at(3900);
    if (!later || later.action !== 'respond') throw new Error('no 429');
    expect(headerValue(later.response.headers, 'retry-after')).toBe('1'); // 0.1 s: never 0
  });

  it('keeps one bucket per client address (IPv4 and IPv6)', () => {
    const { at } = limiter({ perSecond: 1, burst: 1 });
    expect([at(0, '127.0.0.1'), at(0, '::1'), at(0, '10.0.0.2'), at(0, '127.0.0.1'), at(0, '::1')].map(outcome).join('')).toBe('...xx');
  });

  it('counts only matching requests', () => {
    const { at } = limiter({ perSecond: 1, burst: 1 });
    expect(outcome(at(0, '127.0.0.1', 'other.example'))).toBe('.');
    expect(outcome(at(0, '127.0.0.1', 'other.example'))).toBe('.');
    expect(outcome(at(0))).toBe('.');
    expect(outcome(at(0))).toBe('x');
  });

  it('stays bounded under a scan of many addresses, forgetting idle full buckets first', () => {
    const { rule, at } = limiter({ perSecond: 1, burst: 2, maxClients: 100 });
    at(0, 'busy'); // keeps a partly empty bucket
    for (let i = 0; i < 1000; i++) {
      at(0, `10.0.${i >> 8}.${i & 255}`);
      expect(rule.trackedClients()).toBeLessThanOrEqual(100);
    }
    // Every bucket is busy: the least recently used went, and `busy` was the oldest.
    expect(outcome(at(0, 'busy'))).toBe('.');
    // After 2 s every bucket is full again: the next new address sweeps them all away.
    while (rule.trackedClients() < 100) at(1, `10.2.0.${rule.trackedClients()}`);
    at(2001, 'newcomer');
    expect(rule.trackedClients()).toBe(1);
  });

  it('remembers a client that is being limited across a sweep', () => {
    const { rule, at } = limiter({ perSecond: 0.1, burst: 1, maxClients: 10 });
    at(0, 'limited');
    expect(outcome(at(1, 'limited'))).toBe('x');
    // Nine others are let through and refill fully (each is "full" after 10 s).
    for (let i = 0; i < 9; i++) at(2, `c${i}`);
    at(10_000, 'new'); // triggers a sweep at 10 s: `limited` got its token back too, so all go
    expect(rule.trackedClients()).toBeLessThanOrEqual(10);
    expect(outcome(at(10_000, 'limited'))).toBe('.');
    expect(outcome(at(10_001, 'limited'))).toBe('x');
  });
});
