import { closeSync, openSync, read as readCb, readFileSync, readSync } from 'node:fs';
import { promisify } from 'node:util';
import type { z } from 'zod';
import { formatIssues } from '../config/schema.js';
import type { Flow } from '../proxy/core/flow.js';
import { SESSION_FORMAT_VERSION, storedFlowSchema, type StoredFlow } from './schemas.js';
import type { BodyInSession } from './session-bodies.js';
import { blobsOf, decodeFlow, sha256Hex } from './session-codec.js';
import { SessionError } from './session-errors.js';
import { loadBody } from './session-reader.js';
import { blobPath, flowsLogPath } from './session-paths.js';

const readAsync = promisify(readCb);

/** Where one line of the log is: its byte offset and length (the newline included when there is one). */
export interface LineLocation {
  offset: number;
  length: number;
}

/** Neighbouring lines closer than this are read with one call (the bytes between are skipped). */
const MAX_GAP = 64 * 1024;
/** One read covers at most this much. */
const MAX_RUN = 4 * 1024 * 1024;

/**
 * Positional reads from a session's `flows.jsonl` and `blobs/` (issue 7): the store reads only the
 * lines it is asked for (the rows in view, a flow being opened) by byte offset, never the whole
 * log. Both a synchronous form (for commands like replay, which must answer with the whole flow
 * at once; a line and at most two 4 MiB blobs) and an asynchronous one (rows and bodies for the
 * UI, off the render path) are offered. The log is only appended to, so an offset stays valid.
 */
export class SessionLog {
  readonly path: string;
  private fd: number | null = null;

  constructor(readonly dir: string) {
    this.path = flowsLogPath(dir);
  }

  /** The records at `locs`, in the same order; a line that cannot be read is a SessionError in its place. */
  readSync(locs: readonly LineLocation[]): Array<StoredFlow | SessionError> {
    const out: Array<StoredFlow | SessionError> = new Array(locs.length);
    for (const run of runs(locs)) {
      let buf: Buffer;
      try {
        buf = Buffer.allocUnsafe(run.end - run.start);
        const n = readSync(this.handle(), buf, 0, buf.length, run.start);
        buf = buf.subarray(0, n);
      } catch (err) {
        for (const i of run.items) out[i] = ioError(this.path, err);
        continue;
      }
      for (const i of run.items) out[i] = this.parse(buf, locs[i]!, run.start);
    }
    return out;
  }

  /** `readSync`, with the reads off the event loop. */
  async read(locs: readonly LineLocation[]): Promise<Array<StoredFlow | SessionError>> {
    const out: Array<StoredFlow | SessionError> = new Array(locs.length);
    for (const run of runs(locs)) {
      let buf: Buffer;
      try {
        buf = Buffer.allocUnsafe(run.end - run.start);
        const { bytesRead } = await readAsync(this.handle(), buf, 0, buf.length, run.start);
        buf = buf.subarray(0, bytesRead);
      } catch (err) {
        for (const i of run.items) out[i] = ioError(this.path, err);
        continue;
      }
      for (const i of run.items) out[i] = this.parse(buf, locs[i]!, run.start);
    }
    return out;
  }

  /** A blob's bytes, checked against its hash (BLOB_MISSING, BLOB_CORRUPT). */
  blobSync(hash: string): Buffer {
    let bytes: Buffer;
    try {
      bytes = readFileSync(blobPath(this.dir, hash));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SessionError('BLOB_MISSING', `${this.dir}: body blob ${hash} is missing`);
      throw err;
    }
    if (sha256Hex(bytes) !== hash) throw new SessionError('BLOB_CORRUPT', `${this.dir}: body blob ${hash} does not match its hash`);
    return bytes;
  }

  /** `blobSync`, off the event loop. */
  blob(hash: string): Promise<Buffer> {
    return loadBody(this.dir, hash, true);
  }

  /** The whole flow of a record, bodies read from their blobs. */
  fullFlowSync(record: StoredFlow): Flow {
    const loaded = new Map<string, Buffer>();
    for (const hash of blobsOf(record)) if (!loaded.has(hash)) loaded.set(hash, this.blobSync(hash));
    return decodeFlow(record, (h) => loaded.get(h) ?? null);
  }

  /** `fullFlowSync`, off the event loop. */
  async fullFlow(record: StoredFlow): Promise<Flow> {
    const loaded = new Map<string, Buffer>();
    for (const hash of blobsOf(record)) if (!loaded.has(hash)) loaded.set(hash, await this.blob(hash));
    return decodeFlow(record, (h) => loaded.get(h) ?? null);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private handle(): number {
    this.fd ??= openSync(this.path, 'r');
    return this.fd;
  }

  private parse(buf: Buffer, loc: LineLocation, start: number): StoredFlow | SessionError {
    const from = loc.offset - start;
    if (from + loc.length > buf.length) return new SessionError('CORRUPT_LINE', `${this.path}: the line at byte ${loc.offset} is cut short (the log is shorter than its index)`);
    return parseRecord(this.path, loc.offset, buf.subarray(from, from + loc.length));
  }
}

/**
 * A flow as a list row: everything but body bytes, which stay in the session (marked `inSession`
 * so the UI says "loading" and asks for them, see session-bodies.ts).
 */
export function rowFlow(record: StoredFlow): Flow {
  const flow = decodeFlow(record, null);
  const mark = (stored: StoredFlow['request']['body'], body: Flow['request']['body']) =>
    stored.blob === null ? body : ({ size: body.size, bytes: null, truncated: body.truncated, sha256: body.sha256, state: body.state, inSession: true } as BodyInSession);
  const request = { ...flow.request, body: mark(record.request.body, flow.request.body) };
  const response = flow.response && record.response ? { ...flow.response, body: mark(record.response.body, flow.response.body) } : flow.response;
  return { ...flow, request, response };
}

/** One line's bytes (newline optional) as a zod-checked record, or the CORRUPT_LINE error saying why not. */
export function parseRecord(path: string, offset: number, bytes: Buffer): StoredFlow | SessionError {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? bytes.length - 1 : bytes.length;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8', 0, end));
  } catch (err) {
    return new SessionError('CORRUPT_LINE', `${path}: the line at byte ${offset} is not valid JSON: ${(err as Error).message}`);
  }
  const v = (value as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v > SESSION_FORMAT_VERSION) {
    return new SessionError('CORRUPT_LINE', `${path}: the line at byte ${offset} is in session format ${v}, written by a newer proxyctl (this one reads ${SESSION_FORMAT_VERSION})`);
  }
  const parsed = storedFlowSchema.safeParse(value);
  if (!parsed.success) return new SessionError('CORRUPT_LINE', `${path}: the line at byte ${offset} is not a flow record: ${formatIssues(parsed.error as z.ZodError).slice(0, 3).join('; ')}`);
  return parsed.data;
}

function ioError(path: string, err: unknown): SessionError {
  return new SessionError('NOT_FOUND', `${path}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
}

interface Run {
  start: number;
  end: number;
  /** Indexes into the caller's list. */
  items: number[];
}

/** Group locations into runs of neighbouring bytes, each read with one call. */
function runs(locs: readonly LineLocation[]): Run[] {
  const order = locs.map((_, i) => i).sort((a, b) => locs[a]!.offset - locs[b]!.offset);
  const out: Run[] = [];
  let cur: Run | null = null;
  for (const i of order) {
    const { offset, length } = locs[i]!;
    const end = offset + length;
    if (cur && offset - cur.end <= MAX_GAP && end - cur.start <= MAX_RUN) {
      cur.end = Math.max(cur.end, end);
      cur.items.push(i);
    } else {
      cur = { start: offset, end, items: [i] };
      out.push(cur);
    }
  }
  return out;
}
