/** Hashes of recent small bodies (issue 9): a repeated body is compared, never misnamed. */
import { describe, expect, it } from 'vitest';
import { RecentHashes } from '../../../src/store/recent-hashes.js';
import { sha256Hex } from '../../../src/store/session-codec.js';

describe('RecentHashes', () => {
  it('gives the SHA-256 of every body: repeated, distinct of the same length, large', () => {
    const h = new RecentHashes();
    const bodies = [Buffer.from('aaaa'), Buffer.from('aaaa'), Buffer.from('aaab'), Buffer.from('baaa'), Buffer.alloc(10_000, 1), Buffer.alloc(0), Buffer.from('aaaa')];
    expect(bodies.map((b) => h.hashOf(b))).toEqual(bodies.map((b) => sha256Hex(b)));
  });

  it('keeps its own copy: a buffer changed after it was hashed does not change what a match means', () => {
    const h = new RecentHashes();
    const buf = Buffer.from('same');
    const first = h.hashOf(buf);
    buf.write('diff');
    expect(h.hashOf(buf)).toBe(sha256Hex(Buffer.from('diff')));
    expect(h.hashOf(Buffer.from('same'))).toBe(first);
  });

  it('stays right past its bounds (many lengths, many bodies of one length)', () => {
    const h = new RecentHashes();
    const bodies = Array.from({ length: 300 }, (_, i) => Buffer.from(`body-${i}`.padEnd(8 + (i % 90), '.')));
    for (let round = 0; round < 2; round++) for (const b of bodies) expect(h.hashOf(b)).toBe(sha256Hex(b));
  });
});
