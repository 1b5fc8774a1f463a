import { appendFile, open, readdir, stat, truncate } from 'node:fs/promises';
import { storedFlowSchema } from './schemas.js';
import { blobsDir, flowsLogPath } from './session-paths.js';

const CHUNK = 1 << 20;

export interface LogTail {
  /** Complete lines (flows) in the log after the repair. */
  lines: number;
  /** Size of the log after the repair. */
  size: number;
  /** Bytes of a torn last line that were cut off (0 when the log ended with a newline). */
  cut: number;
}

/**
 * Count the lines of a session log and repair its end, so that appending starts on a line of its
 * own: a last line without its newline is kept (newline added) when it is a whole, valid record,
 * and cut off when it is torn (a write interrupted by a crash). One pass, 1 MiB at a time.
 */
export async function repairLogTail(path: string): Promise<LogTail> {
  const { lines, size, lastNewlineEnd } = await countLines(path);
  if (size === lastNewlineEnd) return { lines, size, cut: 0 };
  if (isWholeRecord(await readTail(path, lastNewlineEnd, size))) {
    await appendFile(path, '\n');
    return { lines: lines + 1, size: size + 1, cut: 0 };
  }
  await truncate(path, lastNewlineEnd);
  return { lines, size: lastNewlineEnd, cut: size - lastNewlineEnd };
}

async function readTail(path: string, from: number, to: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    await fh.read(buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

function isWholeRecord(text: string): boolean {
  try {
    return storedFlowSchema.safeParse(JSON.parse(text)).success;
  } catch {
    return false; // not JSON: torn
  }
}

/** Newline-terminated lines in a file, its size, and the offset just after its last newline. */
export async function countLines(path: string): Promise<{ lines: number; size: number; lastNewlineEnd: number }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = 0;
    let lines = 0;
    let lastNewlineEnd = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
      let i = buf.indexOf(0x0a, 0);
      while (i !== -1 && i < bytesRead) {
        lines++;
        lastNewlineEnd = pos + i + 1;
        i = buf.indexOf(0x0a, i + 1);
      }
      pos += bytesRead;
    }
    return { lines, size: pos, lastNewlineEnd };
  } finally {
    await fh.close();
  }
}

export interface SessionUsage {
  flowCount: number;
  logBytes: number;
  blobBytes: number;
}

/** What a session directory holds, counted from the files (for a missing or stale index entry). */
export async function sessionDiskUsage(dir: string): Promise<SessionUsage> {
  let flowCount = 0;
  let logBytes = 0;
  try {
    const counted = await countLines(flowsLogPath(dir));
    flowCount = counted.lines;
    logBytes = counted.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let blobBytes = 0;
  let names: string[] = [];
  try {
    names = await readdir(blobsDir(dir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const name of names) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    blobBytes += (await stat(`${blobsDir(dir)}/${name}`)).size;
  }
  return { flowCount, logBytes, blobBytes };
}
