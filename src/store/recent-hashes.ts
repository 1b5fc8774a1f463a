import { sha256Hex } from './session-codec.js';

/** Bodies up to this size are remembered (larger ones are hashed every time). */
const MAX_BODY = 4 * 1024;
/** Remembered bodies of one length (the newest kept). */
const PER_LENGTH = 4;
/** Distinct lengths remembered (the oldest forgotten first). */
const MAX_LENGTHS = 64;

interface Known {
  bytes: Buffer;
  hash: string;
}

/**
 * SHA-256 of small bodies, remembered by content for the recorder (issue 9). Traffic repeats
 * itself (the same API answer, the same 1 KiB page): comparing a body with the few remembered
 * bodies of its length costs a `memcmp` (~0.1 µs for 1 KiB, measured) where hashing it again costs
 * 1.5-3 µs. A match is byte-for-byte, so the name is exactly the hash; anything else is hashed.
 *
 * Bounded: at most 4 bodies per length, 64 lengths, 4 KiB each (1 MiB at worst, usually far
 * less). Remembered bytes are copies, so a body that is a slice of a large socket buffer does not
 * keep that buffer alive.
 */
export class RecentHashes {
  private readonly byLength = new Map<number, Known[]>();

  /** The hex SHA-256 of `bytes`. */
  readonly hashOf = (bytes: Buffer): string => {
    if (bytes.length > MAX_BODY) return sha256Hex(bytes);
    const same = this.byLength.get(bytes.length);
    if (same) for (const known of same) if (known.bytes.equals(bytes)) return known.hash;
    const hash = sha256Hex(bytes);
    this.remember(bytes.length, same, { bytes: Buffer.from(bytes), hash });
    return hash;
  };

  private remember(length: number, same: Known[] | undefined, known: Known): void {
    if (same) {
      same.unshift(known);
      if (same.length > PER_LENGTH) same.pop();
      return;
    }
    this.byLength.set(length, [known]);
    if (this.byLength.size > MAX_LENGTHS) this.byLength.delete(this.byLength.keys().next().value!);
  }
}
