import { closeSync, createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { EventBus } from '../proxy/bus.js';
import { formatAccessLine, type AccessLogFormat } from './access-log.js';

/** The access log file cannot be opened for appending: refused at start (exit 2). */
export class AccessLogOpenError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
  ) {
    super(`access log ${path}: cannot open for appending (${code})`);
    this.name = 'AccessLogOpenError';
  }
}

/** Where the lines go: stdout (headless) or a file we opened (and close). */
export interface AccessLogTarget {
  stream: Writable;
  /** A file we opened: ended (and waited for) on close. stdout is left open. */
  owned: boolean;
  /** For messages. */
  name: string;
}

/**
 * Open (creating it if missing) `path` for appending, synchronously so that a path that cannot be
 * written is refused before the proxy listens, with the reason (ENOENT, EISDIR, EACCES …).
 */
export function openAccessLogFile(path: string): AccessLogTarget {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o644);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new AccessLogOpenError(path, e.code ?? e.message);
  }
  try {
    return { stream: createWriteStream(path, { fd, flags: 'a' }), owned: true, name: path };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

export interface AccessLogOptions {
  /**
   * Called right before each batch of lines is written: the session recorder's `writePending`, so
   * a printed line always means its flow is in the session, whatever the order the two were
   * attached in (recorder.ts). @default none
   */
  beforeWrite?: () => void;
}

export interface AccessLogWriter {
  /** Write what is pending, stop listening, and (for a file) end it and wait until it is written. */
  close(): Promise<void>;
}

/**
 * One access-log line per finished flow (`--log-format text|json`), to stdout or a file, in the
 * TUI as well as headless. Lines are batched per event-loop turn: one write for many flows
 * instead of one each (a write to a file or pipe is a system call, and under load it was the
 * largest single cost). A failing file (disk full) is reported once on the event log and
 * abandoned; the proxy goes on.
 */
export function attachAccessLog(bus: EventBus, target: AccessLogTarget, format: AccessLogFormat, opts: AccessLogOptions = {}): AccessLogWriter {
  const { stream } = target;
  let pending = '';
  let broken = false;
  const flush = () => {
    if (pending === '' || broken) return;
    opts.beforeWrite?.();
    stream.write(pending);
    pending = '';
  };
  stream.on('error', (err: Error) => {
    if (broken) return;
    broken = true;
    pending = '';
    bus.log('error', `access log ${target.name}: ${err.message}; no more lines are written to it`);
  });
  const detach = bus.on('flow-end', (e) => {
    if (broken) return;
    if (pending === '') setImmediate(flush);
    pending += `${formatAccessLine(e.flow, format)}\n`;
  });
  let closing: Promise<void> | null = null;
  return {
    close() {
      closing ??= (async () => {
        detach();
        flush();
        if (!target.owned) return;
        if (broken) {
          stream.destroy();
          return;
        }
        await new Promise<void>((resolve) => {
          stream.once('error', () => resolve());
          stream.end(() => resolve());
        });
      })();
      return closing;
    },
  };
}
