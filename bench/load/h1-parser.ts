/**
 * Incremental HTTP/1.1 response framing for the load generator: finds where each response ends
 * (content-length or chunked), counts body bytes, keeps none of them. Much cheaper than Node's
 * http client, so the generator is less likely to be the bottleneck.
 */

const enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
}

export type OnResponse = (status: number, bodyBytes: number) => void;

export class H1ResponseParser {
  private state = State.Head;
  private partialHead: Buffer | null = null;
  private line = '';
  private remaining = 0;
  private status = 0;
  private bodyBytes = 0;
  /** Set when the bytes did not parse as HTTP/1.1; the connection should be dropped. */
  error: string | null = null;

  constructor(private readonly onResponse: OnResponse) {}

  feed(input: Buffer): void {
    let chunk = input;
    let i = 0;
    while (i < chunk.length && this.error === null) {
      switch (this.state) {
        case State.Head: {
          const buf = this.partialHead ? Buffer.concat([this.partialHead, chunk.subarray(i)]) : chunk.subarray(i);
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) {
            if (buf.length > 64 * 1024) this.error = 'response head over 64 KiB';
            this.partialHead = Buffer.from(buf);
            return;
          }
          this.partialHead = null;
          this.startBody(buf.toString('latin1', 0, end));
          chunk = buf;
          i = end + 4;
          break;
        }
        case State.Body: {
          const take = Math.min(this.remaining, chunk.length - i);
          this.remaining -= take;
          this.bodyBytes += take;
          i += take;
          if (this.remaining === 0) this.complete();
          break;
        }
        case State.ChunkSize: {
          const next = this.readLine(chunk, i);
          if (next < 0) return;
          i = next;
          const size = parseInt(this.takeLine(), 16);
          if (!Number.isFinite(size)) this.error = 'bad chunk size';
          else if (size === 0) this.state = State.Trailers;
          else {
            this.remaining = size;
            this.state = State.ChunkData;
          }
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.remaining, chunk.length - i);
          this.remaining -= take;
          this.bodyBytes += take;
          i += take;
          if (this.remaining === 0) this.state = State.ChunkEnd;
          break;
        }
        case State.ChunkEnd: {
          const next = this.readLine(chunk, i);
          if (next < 0) return;
          i = next;
          this.takeLine();
          this.state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const next = this.readLine(chunk, i);
          if (next < 0) return;
          i = next;
          if (this.takeLine() === '') this.complete();
          break;
        }
        case State.UntilClose:
          this.bodyBytes += chunk.length - i;
          return;
      }
    }
  }

  /** The connection closed: a response framed by the close is complete now. */
  end(): void {
    if (this.state === State.UntilClose) this.complete();
  }

  private startBody(head: string): void {
    if (!head.startsWith('HTTP/1.')) {
      this.error = `not an HTTP/1 response: ${JSON.stringify(head.slice(0, 40))}`;
      return;
    }
    this.status = Number(head.slice(9, 12));
    this.bodyBytes = 0;
    // Interim responses (100 Continue, 103 Early Hints) are followed by the real one.
    if (this.status >= 100 && this.status < 200 && this.status !== 101) return;
    if (this.status === 204 || this.status === 304) {
      this.complete();
      return;
    }
    if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
      this.state = State.ChunkSize;
      return;
    }
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (m) {
      this.remaining = Number(m[1]);
      if (this.remaining === 0) this.complete();
      else this.state = State.Body;
      return;
    }
    this.state = State.UntilClose;
  }

  /** Append up to and including the next LF to `line`; the index after it, or -1 when none yet. */
  private readLine(chunk: Buffer, i: number): number {
    const lf = chunk.indexOf(10, i);
    if (lf < 0) {
      this.line += chunk.toString('latin1', i);
      return -1;
    }
    this.line += chunk.toString('latin1', i, lf + 1);
    return lf + 1;
  }

  private takeLine(): string {
    const text = this.line.replace(/\r?\n$/, '');
    this.line = '';
    const semi = text.indexOf(';');
    return semi < 0 ? text : text.slice(0, semi);
  }

  private complete(): void {
    const status = this.status;
    const bytes = this.bodyBytes;
    this.state = State.Head;
    this.status = 0;
    this.bodyBytes = 0;
    this.onResponse(status, bytes);
  }
}
