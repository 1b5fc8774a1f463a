import { debuglog } from 'node:util';

const debug = debuglog('proxyctl');

/** The event log must not be flooded by a chatty program. */
export const STDERR_LIMITS = {
  /** A longer line is cut and marked. */
  maxLineBytes: 8192,
  /** Lines reported per run; the rest become one `… N more lines` summary. */
  maxLines: 200,
} as const;

export /**
 * Splits stderr bytes into lines (LF or CRLF), bounded in line length and line count. Works on
 * bytes so a multi-byte character split across chunks is decoded whole.
 */
class StderrLines {
  #listeners: Array<(line: string) => void> = [];
  /** Lines produced before anyone listened; bounded by `maxLines` like everything else. */
  #held: string[] = [];
  #parts: Buffer[] = [];
  #partBytes = 0;
  #cutBytes = 0;
  #reported = 0;
  #suppressed = 0;
  #ended = false;

  listen(fn: (line: string) => void): void {
    this.#listeners.push(fn);
    if (this.#listeners.length === 1) for (const line of this.#held.splice(0)) this.#deliver(line);
  }

  push(chunk: Buffer): void {
    if (this.#ended) return;
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      this.#append(chunk.subarray(start, nl === -1 ? chunk.length : nl));
      if (nl === -1) return;
      this.#flushLine();
      start = nl + 1;
    }
  }

  /** Flush a last unterminated line and the summary of what was left out. Idempotent. */
  end(): void {
    if (this.#ended) return;
    if (this.#partBytes > 0 || this.#cutBytes > 0) this.#flushLine();
    this.#ended = true;
    if (this.#suppressed > 0) this.#out(`… ${this.#suppressed} more line${this.#suppressed === 1 ? '' : 's'}`);
  }

  #append(piece: Buffer): void {
    const room = STDERR_LIMITS.maxLineBytes - this.#partBytes;
    if (piece.length <= room) {
      if (piece.length > 0) this.#parts.push(piece);
      this.#partBytes += piece.length;
      return;
    }
    if (room > 0) this.#parts.push(piece.subarray(0, room));
    this.#partBytes += Math.max(room, 0);
    this.#cutBytes += piece.length - Math.max(room, 0);
  }

  #flushLine(): void {
    let line = Buffer.concat(this.#parts, this.#partBytes).toString('utf8');
    if (this.#cutBytes > 0) {
      // The cut may split a multi-byte character: drop the replacement character it decodes to.
      line = `${line.replace(/\uFFFD$/, '')} … [line cut: ${this.#cutBytes} more bytes]`;
    } else if (line.endsWith('\r')) {
      line = line.slice(0, -1);
    }
    this.#parts = [];
    this.#partBytes = 0;
    this.#cutBytes = 0;
    if (this.#reported >= STDERR_LIMITS.maxLines) {
      this.#suppressed++;
      return;
    }
    this.#reported++;
    this.#out(line);
  }

  #out(line: string): void {
    if (this.#listeners.length === 0) this.#held.push(line);
    else this.#deliver(line);
  }

  #deliver(line: string): void {
    for (const fn of this.#listeners) {
      try {
        fn(line);
      } catch (err) {
        // A listener bug must not become an uncaught exception inside a stream 'data' handler.
        debug('command stderr listener threw: %s', err instanceof Error ? err.message : String(err));
      }
    }
  }
}
