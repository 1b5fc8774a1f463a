import { describe, expect, it } from 'vitest';
import { LruCache } from '../../../src/ca/lru.js';

describe('LruCache', () => {
  it('evicts the least recently used entry beyond its capacity', () => {
    const lru = new LruCache<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    expect(lru.get('a')).toBe(1); // a is now the most recent; b the least
    lru.set('d', 4);
    expect([...lru.keys()]).toEqual(['c', 'a', 'd']);
    expect(lru.has('b')).toBe(false);
    expect(lru.size).toBe(3);
  });

  it('replaces a value without growing', () => {
    const lru = new LruCache<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('a', 10);
    expect(lru.size).toBe(2);
    expect([...lru.keys()]).toEqual(['b', 'a']);
    expect(lru.get('a')).toBe(10);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses capacity %s', (capacity) => {
    expect(() => new LruCache(capacity)).toThrow(RangeError);
  });
});
