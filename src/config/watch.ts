/**
 * Hot reload's eyes: watch a config file and report each saved version, parsed, exactly once.
 *
 * The parent DIRECTORY is watched, not the file: editors save by writing a temporary file and
 * renaming it over the original (vim's `backupcopy=no`, VS Code, JetBrains "safe write"), which
 * leaves a watch on the old inode looking at a deleted file. Events are debounced (one save is
 * several events: truncate, write, rename) and the content is hashed, so `touch` or saving an
 * unchanged buffer reports nothing.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { debuglog } from 'node:util';
import { parseConfigText } from './load.js';
import type { ConfigFile } from './schema.js';

const debug = debuglog('proxyctl');

export interface ConfigWatchHandlers {
  /** A new version of the file parsed and validated; `text` is what was read. */
  onChange(config: ConfigFile, text: string): void;
  /**
   * A new version was refused (not YAML/JSON, schema problems, unreadable), the file was removed,
   * or watching stopped. The caller keeps the config in force. Lines are `path: problem`.
   */
  onInvalid(problems: string[]): void;
  /** A handler threw. @default logged with `util.debuglog('proxyctl')` */
  onError?(err: unknown): void;
}

export interface ConfigWatchOptions {
  /** Quiet time after the last file-system event before the file is read. @default 150 */
  debounceMs?: number;
  /**
   * The text the caller already loaded and put in force; a save with the same content is not
   * reported. When omitted the file is read once, synchronously, when watching starts.
   */
  initialText?: string;
}

export interface ConfigWatcher {
  /** Stop watching: closes the directory watch and clears the pending timer; no callback runs after. */
  close(): void;
  /** Forget the last content seen, so saving the same text again is reported (after a refusal). */
  forget(): void;
}

/**
 * Watch `path` until `close()`. Handlers are called one at a time, never concurrently, and a handler
 * that throws does not stop the watcher. Nothing is ever thrown into the event loop.
 *
 * A removed file is reported once (`FILE: file was removed; keeping the config in force`); when it
 * comes back it is read and reported again, even with the content it had before.
 *
 * @throws only synchronously, if the directory cannot be watched at all (it does not exist).
 */
export function watchConfigFile(path: string, handlers: ConfigWatchHandlers, opts: ConfigWatchOptions = {}): ConfigWatcher {
  const full = resolve(path);
  const dir = dirname(full);
  const name = basename(full);
  const debounceMs = opts.debounceMs ?? 150;

  /** Hash of the last version put in force or reported; null when the file is missing. */
  let lastHash: string | null = null;
  /** The removal was reported already (one message per removal, not one per event). */
  let removed = false;
  if (opts.initialText !== undefined) lastHash = hash(opts.initialText);
  else {
    try {
      lastHash = hash(readFileSync(full, 'utf8'));
    } catch (err) {
      // Missing or unreadable now: the first version that can be read will be reported.
      debug('config watch: initial read of %s failed: %s', full, (err as NodeJS.ErrnoException).code);
    }
  }

  // A symlinked config (a Kubernetes ConfigMap mount: `proxy.yaml -> ..data/proxy.yaml`) changes by
  // swapping a sibling link, so events name `..data`, never the file: then every event counts.
  let anyName = false;
  try {
    anyName = lstatSync(full).isSymbolicLink();
  } catch {
    // Missing: not a symlink as far as we can tell; the name filter applies.
  }

  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let reading = false;
  let again = false;

  const safeCall = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      try {
        if (handlers.onError) handlers.onError(err);
        else debug('config watch: handler threw: %s', err instanceof Error ? (err.stack ?? err.message) : String(err));
      } catch {
        // onError itself threw: nothing left to tell, and the watcher must not die of it.
      }
    }
  };

  const check = async (): Promise<void> => {
    if (reading) {
      // One read at a time, so versions are reported in order; read again when this one is done.
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        await checkOnce();
      } while (again && !closed);
    } finally {
      reading = false;
    }
  };

  const checkOnce = async (): Promise<void> => {
    let text: string;
    try {
      text = await readFile(full, 'utf8');
    } catch (err) {
      if (closed) return;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        lastHash = null;
        if (!removed) {
          removed = true;
          safeCall(() => handlers.onInvalid([`${path}: file was removed; keeping the config in force`]));
        }
        return;
      }
      // Unreadable (EACCES, EISDIR …): report each new kind of failure once.
      const h = `error:${code ?? ''}`;
      if (h === lastHash) return;
      lastHash = h;
      removed = false;
      safeCall(() => handlers.onInvalid([`${path}: cannot read: ${code ?? (err as Error).message}; keeping the config in force`]));
      return;
    }
    if (closed) return;
    removed = false;
    const h = hash(text);
    if (h === lastHash) return;
    lastHash = h;
    const parsed = parseConfigText(text, path);
    if (parsed.ok) safeCall(() => handlers.onChange(parsed.config, text));
    else safeCall(() => handlers.onInvalid(parsed.problems));
  };

  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      check().catch((err: unknown) => debug('config watch: check failed: %s', String(err)));
    }, debounceMs);
  };

  // Persistent (ref'd) on purpose: a caller that forgets close() then hangs on exit, visibly,
  // instead of leaking a watch for the life of the process.
  const watcher: FSWatcher = watch(dir, (_event, filename) => {
    // `filename` is null on platforms that cannot tell (Node docs, fs.watch "Filename argument"): check.
    if (anyName || filename === null || filename === name) schedule();
  });
  watcher.on('error', (err: NodeJS.ErrnoException) => {
    // The directory itself went away (or the watch broke): say so once and stop.
    if (closed) return;
    stop();
    safeCall(() => handlers.onInvalid([`${path}: stopped watching for changes (${err.code ?? err.message}); keeping the config in force`]));
  });

  function stop(): void {
    closed = true;
    if (timer) clearTimeout(timer);
    timer = null;
    watcher.close();
  }

  return {
    close() {
      if (!closed) stop();
    },
    forget() {
      lastHash = null;
    },
  };
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
