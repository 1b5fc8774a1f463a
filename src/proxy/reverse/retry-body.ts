import { PassThrough, type Readable } from 'node:stream';

/** Request body bytes kept for a possible retry while the backend connection is being made. */
export const RETRY_BODY_LIMIT = 1024 * 1024;

/**
 * Keeps what a request body sends while the connection to the backend is being made, so that if it
 * fails (nothing reached the backend) the body can go to another one. Recording stops at the
 * connection (`connected()`: from then on bytes are on their way) or past the limit (no retry).
 */
export class RetryBody {
  /** What was read so far; null once a replay is impossible (or done). */
  private chunks: Buffer[] | null = [];
  private size = 0;

  constructor(
    private readonly source: Readable,
    private readonly limit = RETRY_BODY_LIMIT,
  ) {
    source.on('data', this.onData);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.size += chunk.length;
    if (this.size > this.limit) this.giveUp();
    else this.chunks?.push(chunk);
  };

  /** The backend connection is up: the body is being delivered, a retry is no longer possible. */
  connected(): void {
    this.giveUp();
  }

  /** Whether replay() can still give the whole body. */
  get canReplay(): boolean {
    return this.chunks !== null;
  }

  /**
   * A stream with what was read so far followed by the rest of the body; null when the body cannot
   * be replayed. The source is detached from the failed attempt's request first.
   */
  replay(): Readable | null {
    const chunks = this.chunks;
    if (!chunks) return null;
    this.giveUp();
    const pass = new PassThrough();
    for (const c of chunks) pass.write(c);
    this.source.unpipe();
    if (this.source.readableEnded) pass.end();
    else this.source.pipe(pass);
    return pass;
  }

  private giveUp(): void {
    this.source.off('data', this.onData);
    this.chunks = null;
  }
}
