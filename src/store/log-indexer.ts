import { open } from 'node:fs/promises';
import { idHash, type LogIndex } from './log-index.js';
import { parseRecord } from './session-log.js';

const CHUNK = 1 << 20;
/** Bytes of a line's head kept to find its id: `{"v":1,"id":"` and a 24-character id fit easily. */
const HEAD = 160;
/** The recorder writes `v` then `id` first (session-codec.ts); this reads the id without parsing the line. */
const ID_AT_HEAD = /^\{\s*"v"\s*:\s*\d+\s*,\s*"id"\s*:\s*"([^"\\]{1,120})"/;

export interface IndexLogOptions {
  /** Called for a skipped torn last line. @default process.emitWarning */
  onWarning?: (message: string) => void;
}

/**
 * Index an existing session log into `index` (`proxyctl open`, issue 7): one pass over the file,
 * 1 MiB at a time, recording each line's offset, length and id hash, and parsing nothing but the
 * rare line whose id is not where the recorder puts it. Memory stays at one chunk plus the index,
 * whatever the length of the log; the awaits between chunks keep the event loop breathing.
 *
 * A last line without its newline (a write torn by `kill -9`) is kept when it is a whole record and
 * skipped with a warning when it is not, as `readSession` does. Returns the lines indexed.
 */
export async function indexSessionLog(path: string, index: LogIndex, opts: IndexLogOptions = {}): Promise<number> {
  const warn = opts.onWarning ?? ((m: string) => process.emitWarning(m, 'ProxyctlSessionWarning'));
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    const head = Buffer.allocUnsafe(HEAD);
    let headLen = 0;
    let pos = 0;
    let lineStart = 0;
    let lines = 0;
    /** Lines whose id was not at the head: read whole afterwards. */
    const odd: OddLine[] = [];
    const emit = (end: number) => {
      const length = end - lineStart;
      if (length > 1) {
        const m = ID_AT_HEAD.exec(head.toString('latin1', 0, headLen));
        if (!m) odd.push({ seq: index.end, offset: lineStart, length });
        index.appendRecorded(lineStart, length, m ? idHash(m[1]!) : 0);
        lines++;
      }
      lineStart = end;
      headLen = 0;
    };
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      let i = 0;
      while (i < bytesRead) {
        const nl = chunk.indexOf(0x0a, i);
        const stop = nl === -1 ? bytesRead : nl;
        if (headLen < HEAD) headLen += chunk.copy(head, headLen, i, Math.min(stop, i + HEAD - headLen));
        if (nl === -1) break;
        emit(pos + nl + 1);
        i = nl + 1;
      }
      pos += bytesRead;
    }
    if (lineStart < pos) {
      const tail = Buffer.allocUnsafe(pos - lineStart);
      await fh.read(tail, 0, tail.length, lineStart);
      const parsed = tail.toString('utf8').trim() === '' ? null : parseRecord(path, lineStart, tail);
      if (parsed && !(parsed instanceof Error)) emit(pos);
      else if (parsed) {
        warn(`${path}: skipped a torn last line (${pos - lineStart} bytes at byte ${lineStart}); the process that wrote it was probably killed mid-write`);
      }
    }
    if (odd.length) await fixOddIds(fh, path, index, odd);
    return lines;
  } finally {
    await fh.close();
  }
}

interface OddLine {
  seq: number;
  offset: number;
  length: number;
}

/** Give lines whose id was not at their head (rare: a hand-edited log) the right hash, parsing just those. */
async function fixOddIds(fh: Awaited<ReturnType<typeof open>>, path: string, index: LogIndex, odd: OddLine[]): Promise<void> {
  for (const loc of odd) {
    const bytes = Buffer.allocUnsafe(loc.length);
    await fh.read(bytes, 0, loc.length, loc.offset);
    const parsed = parseRecord(path, loc.offset, bytes);
    // A bad line stays in the index: reading its row reports what is wrong with it.
    if (parsed instanceof Error) continue;
    index.setHash(loc.seq, idHash(parsed.id));
  }
}
