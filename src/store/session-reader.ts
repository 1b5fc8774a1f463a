import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { formatIssues } from '../config/schema.js';
import type { Flow } from '../proxy/core/flow.js';
import { SESSION_FORMAT_VERSION, storedFlowSchema, type StoredFlow } from './schemas.js';
import { blobsOf, decodeFlow, sha256Hex } from './session-codec.js';
import { SessionError } from './session-errors.js';
import { blobPath, flowsLogPath, sessionDir } from './session-paths.js';

export interface ReadSessionOptions {
  /**
   * Load each flow's body bytes from its blobs as the flow is yielded. Without it, `bytes` is null
   * wherever something was captured (listing a session needs no bodies). @default true
   */
  bodies?: boolean;
  /** Check that every loaded blob hashes to its name (`BLOB_CORRUPT` otherwise). @default true */
  verifyBlobs?: boolean;
  /** Called for a skipped torn last line. @default process.emitWarning */
  onWarning?: (message: string) => void;
}

/**
 * Read a session back, one flow at a time, in the order the flows finished.
 *
 * Streaming, with eager bodies per flow: the log is read line by line and each flow's bodies are
 * loaded from their blobs just before it is yielded, so memory holds one flow's bodies at a time
 * however long the session is (a 200k-flow session is never loaded whole). Callers that keep the
 * flows keep their bodies; pass `bodies: false` and use `loadBody` to load them on demand instead.
 *
 * A last line without its newline that does not parse is a write torn by a crash: it is skipped
 * with a warning. Any other bad line is refused with `SessionError` CORRUPT_LINE naming the file,
 * the line and the field.
 */
export function readSession(home: string, name: string, opts: ReadSessionOptions = {}): AsyncGenerator<Flow> {
  return readSessionDir(sessionDir(home, name), opts);
}

/** `readSession` for a session directory given by path. */
export async function* readSessionDir(dir: string, opts: ReadSessionOptions = {}): AsyncGenerator<Flow> {
  const bodies = opts.bodies ?? true;
  const verify = opts.verifyBlobs ?? true;
  const cache = new BlobCache();
  for await (const record of readSessionRecords(dir, opts)) {
    if (!bodies) {
      yield decodeFlow(record, null);
      continue;
    }
    const loaded = new Map<string, Buffer>();
    for (const hash of blobsOf(record)) {
      if (loaded.has(hash)) continue;
      let bytes = cache.get(hash);
      if (!bytes) {
        bytes = await loadBody(dir, hash, verify);
        cache.put(hash, bytes);
      }
      loaded.set(hash, bytes);
    }
    yield decodeFlow(record, (hash) => loaded.get(hash) ?? null);
  }
}

/**
 * Recently loaded small blobs, so a body that repeats (the same API answer a thousand times) is
 * read and hashed once per read-through. Bounded in bytes; large blobs are never kept.
 */
class BlobCache {
  private readonly map = new Map<string, Buffer>();
  private bytes = 0;
  constructor(
    private readonly maxBytes = 8 * 1024 * 1024,
    private readonly maxBlob = 256 * 1024,
  ) {}

  get(hash: string): Buffer | undefined {
    const hit = this.map.get(hash);
    if (hit) {
      // Refresh its place: Map order is the LRU order.
      this.map.delete(hash);
      this.map.set(hash, hit);
    }
    return hit;
  }

  put(hash: string, bytes: Buffer): void {
    if (bytes.length > this.maxBlob) return;
    this.map.set(hash, bytes);
    this.bytes += bytes.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.length;
    }
  }
}

/** All flows of a session in an array (small sessions, tests). */
export async function readSessionFlows(home: string, name: string, opts: ReadSessionOptions = {}): Promise<Flow[]> {
  const out: Flow[] = [];
  for await (const flow of readSession(home, name, opts)) out.push(flow);
  return out;
}

/** The bytes of one blob of the session in `dir`. */
export async function loadBody(dir: string, hash: string, verify = true): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(blobPath(dir, hash));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SessionError('BLOB_MISSING', `${dir}: body blob ${hash} is missing`);
    throw err;
  }
  if (verify && sha256Hex(bytes) !== hash) throw new SessionError('BLOB_CORRUPT', `${dir}: body blob ${hash} does not match its hash`);
  return bytes;
}

/** The zod-checked records of a session log, in order (no bodies). */
export async function* readSessionRecords(dir: string, opts: Pick<ReadSessionOptions, 'onWarning'> = {}): AsyncGenerator<StoredFlow> {
  const path = flowsLogPath(dir);
  const warn = opts.onWarning ?? ((m: string) => process.emitWarning(m, 'ProxyctlSessionWarning'));
  try {
    await access(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SessionError('NOT_FOUND', `no session log at ${path}`);
    throw err;
  }
  for await (const line of readLines(path)) {
    const record = parseLine(path, line, warn);
    if (record) yield record;
  }
}

/** Parse one line; null for a blank line or a skipped torn last line. */
export function parseLine(path: string, line: LogLine, warn: (m: string) => void): StoredFlow | null {
  if (line.text.trim() === '') return null;
  const torn = (why: string): null => {
    warn(`${path}:${line.number}: skipped a torn last line (${why}); the process that wrote it was probably killed mid-write`);
    return null;
  };
  let value: unknown;
  try {
    value = JSON.parse(line.text);
  } catch (err) {
    if (!line.terminated) return torn('not complete JSON');
    throw new SessionError('CORRUPT_LINE', `${path}:${line.number}: not valid JSON: ${(err as Error).message}`);
  }
  const v = (value as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v > SESSION_FORMAT_VERSION) {
    throw new SessionError('CORRUPT_LINE', `${path}:${line.number}: written in session format ${v} by a newer proxyctl (this one reads ${SESSION_FORMAT_VERSION})`);
  }
  const parsed = storedFlowSchema.safeParse(value);
  if (!parsed.success) {
    const issues = formatIssues(parsed.error as z.ZodError);
    if (!line.terminated) return torn(issues[0]!);
    throw new SessionError('CORRUPT_LINE', `${path}:${line.number}: not a flow record: ${issues.slice(0, 3).join('; ')}`);
  }
  return parsed.data;
}

export interface LogLine {
  /** 1-based line number. */
  number: number;
  text: string;
  /** False for a last line without its newline. */
  terminated: boolean;
}

/** Lines of a file, streamed: only the current line is held, however long the file. */
async function* readLines(path: string): AsyncGenerator<LogLine> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let pending: Buffer[] = [];
  let number = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    let nl = chunk.indexOf(0x0a, start);
    while (nl !== -1) {
      pending.push(chunk.subarray(start, nl));
      const text = (pending.length === 1 ? pending[0]! : Buffer.concat(pending)).toString('utf8');
      pending = [];
      yield { number: ++number, text, terminated: true };
      start = nl + 1;
      nl = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length) yield { number: ++number, text: Buffer.concat(pending).toString('utf8'), terminated: false };
}
