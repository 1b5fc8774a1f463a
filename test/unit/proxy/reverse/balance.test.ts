import { describe, expect, it } from 'vitest';
import { createBalancer, type Candidate } from '../../../../src/proxy/reverse/balance/balancer.js';
import { IpHash } from '../../../../src/proxy/reverse/balance/ip-hash.js';

const URLS = ['http://a', 'http://b', 'http://c', 'http://d'];

function candidates(weights: number[], opts: { down?: number[]; inFlight?: number[] } = {}): Candidate[] {
  return weights
    .map((weight, index) => ({ index, weight, inFlight: opts.inFlight?.[index] ?? 0, key: URLS[index]! }))
    .filter((c) => !(opts.down ?? []).includes(c.index));
}

function picks(kind: Parameters<typeof createBalancer>[0], weights: number[], n: number, opts: { down?: number[]; client?: (i: number) => string } = {}): number[] {
  const b = createBalancer(kind, weights.length);
  return Array.from({ length: n }, (_, i) => b.pick(candidates(weights, opts), opts.client?.(i) ?? '127.0.0.1'));
}

const name = (i: number) => 'abcd'[i];

describe('round-robin', () => {
  it('takes each backend in turn', () => {
    expect(picks('round-robin', [1, 1, 1], 7).map(name).join('')).toBe('abcabca');
  });

  it('gives a down backend’s turn to the next one without shifting the others', () => {
    expect(picks('round-robin', [1, 1, 1], 6, { down: [1] }).map(name).join('')).toBe('acacac');
  });
});

describe('smooth weighted round-robin', () => {
  it.each<[number[], string]>([
    // The nginx example: 5:1:1 spreads the heavy backend's turns.
    [[5, 1, 1], 'aabacaa'],
    [[3, 1], 'aaba'],
    [[1, 1], 'ab'],
    [[2, 3], 'babab'],
  ])('weights %j give the period %s', (weights, period) => {
    const n = period.length;
    expect(picks('weighted', weights, n * 3).map(name).join('')).toBe(period.repeat(3));
  });

  it('is exact over whole periods: 3:1 over 40 requests is 30:10', () => {
    const got = picks('weighted', [3, 1], 40);
    expect(got.filter((i) => i === 0)).toHaveLength(30);
    expect(got.filter((i) => i === 1)).toHaveLength(10);
  });

  it('is not bursty: 9:1 never sends the light backend two in a row, nor the heavy one more than 9', () => {
    const seq = picks('weighted', [9, 1], 100).map(name).join('');
    expect(seq).not.toMatch(/bb/);
    expect(seq).not.toMatch(/a{10}/);
  });

  it('shares among the usable backends while one is down', () => {
    const got = picks('weighted', [2, 1, 1], 8, { down: [0] });
    expect(got.filter((i) => i === 1)).toHaveLength(4);
    expect(got.filter((i) => i === 2)).toHaveLength(4);
  });
});

describe('least connections', () => {
  it('chooses the backend with the fewest requests in flight', () => {
    const b = createBalancer('least-connections', 3);
    expect(b.pick(candidates([1, 1, 1], { inFlight: [2, 0, 1] }), 'x')).toBe(1);
    expect(b.pick(candidates([1, 1, 1], { inFlight: [0, 3, 3] }), 'x')).toBe(0);
  });

  it('rotates among ties so sequential requests spread evenly', () => {
    expect(picks('least-connections', [1, 1, 1], 6).map(name).join('')).toBe('abcabc');
  });

  it('weighs the count: 2 in flight on weight 4 beats 1 on weight 1', () => {
    const b = createBalancer('least-connections', 2);
    expect(b.pick(candidates([4, 1], { inFlight: [2, 1] }), 'x')).toBe(0);
  });
});

describe('ip-hash (weighted rendezvous)', () => {
  const clients = Array.from({ length: 2000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`);

  it('keeps a client on the same backend', () => {
    const b = new IpHash();
    const first = clients.slice(0, 50).map((c) => b.pick(candidates([1, 1, 1]), c));
    const again = clients.slice(0, 50).map((c) => b.pick(candidates([1, 1, 1]), c));
    expect(again).toEqual(first);
  });

  it('spreads clients over the backends', () => {
    const b = new IpHash();
    const counts = [0, 0, 0, 0];
    for (const c of clients) counts[b.pick(candidates([1, 1, 1, 1]), c)]!++;
    for (const n of counts) expect(n).toBeGreaterThan(clients.length / 4 - 150);
  });

  it('moves only the clients of a backend that went down, and brings them back', () => {
    const b = new IpHash();
    const before = clients.map((c) => b.pick(candidates([1, 1, 1, 1]), c));
    const during = clients.map((c) => b.pick(candidates([1, 1, 1, 1], { down: [2] }), c));
    const after = clients.map((c) => b.pick(candidates([1, 1, 1, 1]), c));
    let moved = 0;
    before.forEach((was, i) => {
      if (was === 2) {
        expect(during[i]).not.toBe(2);
        moved++;
      } else expect(during[i]).toBe(was);
    });
    expect(moved).toBeGreaterThan(0);
    expect(after).toEqual(before);
  });

  it('honours weights: 3:1 gives about three quarters to the first', () => {
    const b = new IpHash();
    const first = clients.filter((c) => b.pick(candidates([3, 1]), c) === 0).length;
    expect(first / clients.length).toBeGreaterThan(0.7);
    expect(first / clients.length).toBeLessThan(0.8);
  });
});

describe('retry picks', () => {
  it.each(['round-robin', 'weighted', 'least-connections'] as const)('%s: a retry pick does not take a turn', (kind) => {
    const b = createBalancer(kind, 3);
    const all = candidates([1, 1, 1]);
    expect(b.pick(all, 'x')).toBe(0);
    // Backend 1's turn: it fails; the retry goes to 2 without taking 2's own turn.
    expect(b.pick(all, 'x')).toBe(1);
    expect(b.pick(candidates([1, 1, 1], { down: [1] }), 'x', true)).toBe(2);
    expect(b.pick(all, 'x')).toBe(2);
    expect(b.pick(all, 'x')).toBe(0);
  });
});
