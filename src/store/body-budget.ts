/**
 * The store's body byte budget (issue 7): how many captured bytes the held flows have, and in
 * which order bytes may be let go of when there are too many. Only flows recorded in the session
 * are queued (their bytes can be read back), in the order they were recorded: the oldest finished
 * flows go first. The store decides, per queued sequence, whether it can still let go (the flow
 * may have been evicted, or be without bytes by now).
 */
export class BodyBudget {
  /** Captured bytes held. */
  bytes = 0;
  private queue: number[] = [];
  private head = 0;

  constructor(
    /** Bytes allowed. */
    readonly max: number,
    /** Queue entries beyond which those of evicted flows are dropped (about twice the ring). */
    private readonly compactAt: number,
  ) {}

  get over(): boolean {
    return this.bytes > this.max;
  }

  /** `seq` was recorded: its bytes may be let go of, after those queued before it. */
  push(seq: number, oldestHeld: number): void {
    this.queue.push(seq);
    // Sequences of flows evicted before their turn are dead weight: drop them now and then.
    if (this.queue.length - this.head > this.compactAt) {
      this.queue = this.queue.slice(this.head).filter((s) => s >= oldestHeld);
      this.head = 0;
    }
  }

  /**
   * While over the budget, offer queued sequences oldest first to `release`, which lets go of that
   * flow's bytes and returns how many (0 when it cannot: evicted, in flight, already without).
   */
  enforce(release: (seq: number) => number): void {
    while (this.bytes > this.max && this.head < this.queue.length) this.bytes -= release(this.queue[this.head++]!);
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.bytes = 0;
    this.queue = [];
    this.head = 0;
  }
}
