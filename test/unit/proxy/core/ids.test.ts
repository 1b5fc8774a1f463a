import { describe, expect, it } from 'vitest';
import { createIdGenerator } from '../../../../src/proxy/core/ids.js';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const ID = new RegExp(`^[${ALPHABET}]{18}$`);

/** Decode the leading time part (9 base-32 chars of milliseconds). */
function decodeTime(id: string): number {
  let n = 0;
  for (const ch of id.slice(0, 9)) n = n * 32 + ALPHABET.indexOf(ch);
  return n;
}

describe('createIdGenerator', () => {
  it('makes ids of the id alphabet, encoding the clock in the first 9 characters', () => {
    const times = [0, 1, 31, 32, 1_700_000_000_000, Date.UTC(2100, 0, 1)];
    for (const t of times) {
      const id = createIdGenerator(() => t)();
      expect(id).toMatch(ID);
      expect(decodeTime(id)).toBe(t);
    }
  });

  it.each<[string, number[]]>([
    ['same millisecond', [5, 5, 5, 5, 5, 5, 5, 5]],
    ['increasing clock', [1, 2, 3, 40, 1000, 1_700_000_000_000]],
    ['mixed: bursts within one ms, then later', [100, 100, 100, 101, 101, 5000, 5000, 5000]],
    ['across a base-32 digit boundary', [31, 31, 32, 32, 1023, 1024, 32767, 32768]],
  ])('sorts in creation order: %s', (_name, clock) => {
    let i = 0;
    const next = createIdGenerator(() => clock[i++]!);
    const ids = clock.map(() => next());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('stays sorted and unique across counter carries (many ids in one millisecond)', () => {
    const next = createIdGenerator(() => 1_700_000_000_000);
    const ids = Array.from({ length: 40_000 }, next);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) if (!(ids[i - 1]! < ids[i]!)) throw new Error(`not sorted at ${i}: ${ids[i - 1]} !< ${ids[i]}`);
  });

  it('is unique with the real clock', () => {
    const next = createIdGenerator();
    const ids = Array.from({ length: 10_000 }, next);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(Math.abs(decodeTime(ids[0]!) - Date.now())).toBeLessThan(60_000);
  });

  it('gives each generator its own random middle part (two processes rarely collide)', () => {
    const middles = new Set(Array.from({ length: 20 }, () => createIdGenerator(() => 0)().slice(9, 12)));
    // 20 draws from 32768 values: all equal would mean the part is not random at all.
    expect(middles.size).toBeGreaterThan(1);
  });
});
