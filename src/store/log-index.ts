/**
 * Where each flow of the store lives in the session log, by arrival sequence number: the byte
 * offset and length of its line in `flows.jsonl`, and a 32-bit hash of its id (to find a flow by id
 * without keeping the id). Three typed arrays, 16 bytes a flow and no object per flow, so a
 * 200,000-flow session costs about 3 MiB here however long its lines are (issue 7).
 *
 * Sequences are dense: slot `i` is sequence `base + i`. A flow not (yet) recorded has offset -1.
 * Offsets are float64 (exact up to 2^53), so logs beyond 4 GiB are fine.
 */
export class LogIndex {
  private base = 0;
  private size = 0;
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private hashes = new Uint32Array(1024);

  /** Sequence of the first slot. */
  get first(): number {
    return this.base;
  }

  /** One past the last sequence with a slot. */
  get end(): number {
    return this.base + this.size;
  }

  /** Bytes the arrays take (for the memory report). */
  get byteLength(): number {
    return this.offsets.byteLength + this.lengths.byteLength + this.hashes.byteLength;
  }

  /** Give sequence `seq` (the next one) a slot: not recorded yet, with the id's hash. */
  append(seq: number, id: string): void {
    if (seq !== this.end) throw new Error(`log index: expected sequence ${this.end}, got ${seq}`);
    this.push(-1, 0, idHash(id));
  }

  /** Append a recorded line whose id hash is already known (indexing an existing log). */
  appendRecorded(offset: number, length: number, hash: number): void {
    this.push(offset, length, hash);
  }

  /** Note where sequence `seq`'s line was written. */
  setLocation(seq: number, offset: number, length: number): void {
    const i = seq - this.base;
    if (i < 0 || i >= this.size) return;
    this.offsets[i] = offset;
    this.lengths[i] = length;
  }

  /** Correct the id hash of `seq` (an indexed line whose id was not where the recorder puts it). */
  setHash(seq: number, hash: number): void {
    const i = seq - this.base;
    if (i >= 0 && i < this.size) this.hashes[i] = hash;
  }

  /** Byte offset of the line of `seq`, or -1 when it is not recorded (or has no slot). */
  offsetOf(seq: number): number {
    const i = seq - this.base;
    return i >= 0 && i < this.size ? this.offsets[i]! : -1;
  }

  /** Length in bytes of the line of `seq` (newline included); 0 when not recorded. */
  lengthOf(seq: number): number {
    const i = seq - this.base;
    return i >= 0 && i < this.size && this.offsets[i]! >= 0 ? this.lengths[i]! : 0;
  }

  /**
   * Sequences in `[from, to)` whose id hashes like `id`, newest first. Usually one; a hash
   * collision gives more, and the caller checks the id on the flow itself. A linear pass over a
   * typed array: about a millisecond for 200,000 flows, and only on commands (replay, mark).
   */
  candidates(id: string, from: number, to: number): number[] {
    const h = idHash(id);
    const out: number[] = [];
    const lo = Math.max(from, this.base) - this.base;
    const hi = Math.min(to, this.end) - this.base;
    for (let i = hi - 1; i >= lo; i--) if (this.hashes[i] === h) out.push(this.base + i);
    return out;
  }

  /** Forget every slot; the next appended sequence is `base`. */
  reset(base: number): void {
    this.base = base;
    this.size = 0;
    this.offsets = new Float64Array(1024);
    this.lengths = new Uint32Array(1024);
    this.hashes = new Uint32Array(1024);
  }

  private push(offset: number, length: number, hash: number): void {
    if (this.size === this.offsets.length) this.grow();
    this.offsets[this.size] = offset;
    this.lengths[this.size] = length;
    this.hashes[this.size] = hash;
    this.size++;
  }

  private grow(): void {
    // Doubling keeps appends amortized O(1); the old arrays become garbage at once.
    const n = this.offsets.length * 2;
    const offsets = new Float64Array(n);
    offsets.set(this.offsets);
    const lengths = new Uint32Array(n);
    lengths.set(this.lengths);
    const hashes = new Uint32Array(n);
    hashes.set(this.hashes);
    this.offsets = offsets;
    this.lengths = lengths;
    this.hashes = hashes;
  }
}

/** FNV-1a over the id's UTF-16 code units: cheap, and ids are short ASCII. */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
