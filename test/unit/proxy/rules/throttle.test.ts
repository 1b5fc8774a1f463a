import { describe, expect, it } from 'vitest';
import { formatRate, throttleRule } from '../../../../src/proxy/rules/throttle.js';
import { makeFlow } from '../../../helpers/make-flow.js';
import { fakeContext, filter } from './rule-kit.js';

const rule = (latencyMs: number, bytesPerSecond: number | null) => throttleRule({ name: 'rules[7] throttle', ...filter('~d cdn.example'), latencyMs, bytesPerSecond });

describe('throttleRule', () => {
  it.each<[number, number | null, string]>([
    [300, 50_000, 'throttle ~d cdn.example: +300 ms, 48.8 KiB/s'],
    [0, 1000, 'throttle ~d cdn.example: 1000 B/s'],
    [250, null, 'throttle ~d cdn.example: +250 ms'],
    [0, null, 'throttle ~d cdn.example: no delay, no cap'],
  ])('explains %i ms, %s B/s', (latency, rate, line) => {
    expect(rule(latency, rate).explain()).toBe(line);
  });

  it('asks the exchange to slow matching flows down, tagging them once', () => {
    const ctx = fakeContext();
    const flow = makeFlow({ request: { host: 'cdn.example' } });
    rule(300, 50_000).requestHeaders!(flow, ctx);
    rule(100, null).requestHeaders!(flow, ctx);
    expect(ctx.throttles).toEqual([{ latencyMs: 300, bytesPerSecond: 50_000 }, { latencyMs: 100, bytesPerSecond: null }]);
    expect(flow.tags).toEqual(['throttled']);
  });

  it('leaves other flows alone', () => {
    const ctx = fakeContext();
    const flow = makeFlow();
    expect(rule(300, 1).requestHeaders!(flow, ctx)).toBeUndefined();
    expect(ctx.throttles).toEqual([]);
    expect(flow.tags).toEqual([]);
  });

  it.each<[number, string]>([
    [1, '1 B/s'],
    [1023, '1023 B/s'],
    [1024, '1 KiB/s'],
    [1536, '1.5 KiB/s'],
    [200 * 1024, '200 KiB/s'],
    [5 * 1024 * 1024, '5 MiB/s'],
  ])('formatRate(%i) = %s', (n, s) => {
    expect(formatRate(n)).toBe(s);
  });
});
