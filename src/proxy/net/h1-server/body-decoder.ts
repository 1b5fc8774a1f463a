import type { HeaderPairs } from '../../core/flow.js';
import { HttpParseError } from '../../core/http-syntax.js';
import type { RequestFraming } from './request-head.js';
import { MESSAGE_BREAKING, TOKEN } from '../../core/http-syntax.js';

const CRLF = Buffer.from('\r\n');
const CRLF2 = Buffer.from('\r\n\r\n');
const MAX_CHUNK_LINE = 4096;
/** A field name (RFC 9110 §5.1); trailer fields follow the same syntax as header fields (§6.5). */

const enum State {
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  Done,
}

/**
 * Reads a request body framed by Content-Length or chunked coding (RFC 9112 §7.1) out of what the
 * socket delivers, handing on slices (never copies) of the data and the trailer fields at the end.
 * Bytes past the end of the body belong to the next request: `feed` says where it stopped.
 */
export class BodyDecoder {
  private state: State;
  private remaining = 0;
  /** A chunk-size line or trailer section split across reads. */
  private pending: Buffer | null = null;

  constructor(
    framing: Exclude<RequestFraming, { kind: 'none' }>,
    private readonly maxTrailerBytes: number,
    private readonly onData: (chunk: Buffer) => void,
    private readonly onEnd: (trailers: HeaderPairs) => void,
  ) {
    if (framing.kind === 'length') {
      this.state = State.Length;
      this.remaining = framing.length;
    } else this.state = State.ChunkSize;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Decode from `buf` at `pos`; returns the offset where the body ended (or buf.length). Throws HttpParseError. */
  feed(input: Buffer, start: number): number {
    let buf = input;
    let pos = start;
    if (this.pending) {
      buf = Buffer.concat([this.pending, input.subarray(start)]);
      pos = 0;
      this.pending = null;
    }
    // Offsets in `buf` map back to `input` by this shift (only when a pending part was prepended).
    const shift = buf === input ? 0 : input.length - buf.length;
    while (pos < buf.length && this.state !== State.Done) {
      switch (this.state) {
        case State.Length:
        case State.ChunkData: {
          const take = Math.min(this.remaining, buf.length - pos);
          this.remaining -= take;
          const chunk = buf.subarray(pos, pos + take);
          pos += take;
          if (this.remaining === 0) this.state = this.state === State.Length ? State.Done : State.ChunkDataEnd;
          this.onData(chunk);
          if (this.state === State.Done) this.onEnd([]);
          break;
        }
        case State.ChunkSize: {
          const eol = buf.indexOf(CRLF, pos);
          if (eol < 0) {
            if (buf.length - pos > MAX_CHUNK_LINE) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'chunk size line too long');
            this.pending = buf.subarray(pos);
            return input.length;
          }
          const line = buf.toString('latin1', pos, eol);
          const semi = line.indexOf(';');
          const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', `invalid chunk size: ${JSON.stringify(line.slice(0, 32))}`);
          const size = parseInt(hex, 16);
          pos = eol + 2;
          if (size === 0) this.state = State.Trailers;
          else {
            this.remaining = size;
            this.state = State.ChunkData;
          }
          break;
        }
        case State.ChunkDataEnd: {
          if (buf.length - pos < 2) {
            this.pending = buf.subarray(pos);
            return input.length;
          }
          if (buf[pos] !== 13 || buf[pos + 1] !== 10) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'chunk data not followed by CRLF');
          pos += 2;
          this.state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          if (buf.length - pos < 2) {
            this.pending = buf.subarray(pos);
            return input.length;
          }
          if (buf[pos] === 13 && buf[pos + 1] === 10) {
            pos += 2;
            this.state = State.Done;
            this.onEnd([]);
            break;
          }
          const end = buf.indexOf(CRLF2, pos);
          if (end < 0) {
            if (buf.length - pos > this.maxTrailerBytes) throw new HttpParseError('HPE_HEADER_OVERFLOW', `trailers exceed ${this.maxTrailerBytes} bytes`);
            this.pending = buf.subarray(pos);
            return input.length;
          }
          const trailers: HeaderPairs = [];
          for (const l of buf.toString('latin1', pos, end).split('\r\n')) {
            const colon = l.indexOf(':');
            if (colon <= 0 || !TOKEN.test(l.slice(0, colon)) || MESSAGE_BREAKING.test(l)) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', `invalid trailer line: ${JSON.stringify(l.slice(0, 64))}`);
            trailers.push([l.slice(0, colon), l.slice(colon + 1).trim()]);
          }
          pos = end + 4;
          this.state = State.Done;
          this.onEnd(trailers);
          break;
        }
      }
    }
    return pos + shift;
  }
}
