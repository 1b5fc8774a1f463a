/**
 * Sortable flow ids: 9 chars of base-32 milliseconds, 3 random chars per process, then a 6-char
 * per-process counter.
 * Lexicographic order equals creation order within one process, which is all the store needs.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function encode(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = ALPHABET[n % 32] + out;
    n = Math.floor(n / 32);
  }
  return out;
}

export function createIdGenerator(now: () => number = Date.now): () => string {
  let counter = 0;
  const prefix = encode(Math.floor(Math.random() * 32 ** 3), 3);
  return () => `${encode(now(), 9)}${prefix}${encode(counter++ % 32 ** 6, 6)}`;
}
