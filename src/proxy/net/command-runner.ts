/**
 * The command responder's process driver (issue 6). A rule maps a request to a local program given
 * as an argument array: the request body goes to its stdin, its stdout streams back as produced,
 * its stderr becomes bounded lines for the event log, and the program never outlives a timeout, a
 * client disconnect or shutdown. The exchange decides what the outcome means for the flow.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { debuglog } from 'node:util';
import { StderrLines } from './stderr-lines.js';

export { STDERR_LIMITS } from './stderr-lines.js';

const debug = debuglog('proxyctl');

/** Why the run was ended by us rather than by the program. */
export type CommandKillReason = 'timeout' | 'client-gone' | 'shutdown';

export interface CommandOptions {
  /** Bound on the whole run, counted from spawn; when it passes the program is killed (`'timeout'`). */
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL when killing. @default 2000 */
  killGraceMs?: number;
  /** Working directory of the program. @default the proxy's own */
  cwd?: string;
}

export interface CommandResult {
  /** The program's exit status; `null` when it died by a signal or never started. */
  exitCode: number | null;
  /** The signal that ended the program, e.g. `'SIGTERM'`, `'SIGKILL'`; `null` on a normal exit. */
  signal: NodeJS.Signals | null;
  /** Why the program could not be started, e.g. `'spawn nosuchprog ENOENT'`; `null` when it started. */
  spawnError: string | null;
  /** Set when `kill()` (or the timeout) ended the run before it finished on its own. */
  killedFor: CommandKillReason | null;
  /** From spawn to the program's exit (or to the spawn failure). */
  durationMs: number;
}

export interface CommandRun {
  /**
   * The program's input. Never errors for the program's sake: once the program has closed its
   * stdin or exited, further bytes are discarded (see `programInput`).
   */
  stdin: Writable;
  /**
   * The program's output, with backpressure, chunks as the program writes them. Ends when the
   * program's stdout ends (empty after a spawn failure). `kill()` destroys it without an error, so a consumer sees a premature close
   * and must abort, not complete, the response.
   */
  stdout: Readable;
  /** Stderr as lines (bounded, see `STDERR_LIMITS`). Lines produced before the first listener are held for it. */
  onStderrLine(fn: (line: string) => void): void;
  /** SIGTERM now, SIGKILL after `killGraceMs` if still alive. Idempotent; the first reason is kept. */
  kill(reason: CommandKillReason): void;
  /** The program's PID once spawned (for the event log); `undefined` if it never started. */
  readonly pid: number | undefined;
  /**
   * Resolves once, after the program exited, `stdout` was read to its end (or destroyed) and stderr
   * closed. Never rejects. Consume `stdout` (or `kill()`) before relying on it: an unread stdout
   * holds it until the timeout. After a spawn failure it resolves at once (stdout is empty).
   */
  readonly result: Promise<CommandResult>;
}

/** How long a killed program's stderr may stay open after it exited (a grandchild can hold the pipe). */
const STDIO_LINGER_MS = 250;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Start `argv` (no shell: nothing is ever interpolated into a command line). Never throws for a
 * program that cannot be started: the failure is reported as `result.spawnError`.
 */
/** Process groups exist (and are what `kill` signals) everywhere but Windows. */
const GROUPS = process.platform !== 'win32';

export function runCommand(argv: readonly string[], opts: CommandOptions): CommandRun {
  if (!(opts.timeoutMs > 0)) throw new RangeError(`runCommand: timeoutMs must be > 0, got ${opts.timeoutMs}`);
  return new ProcessRun(argv, opts);
}

class ProcessRun implements CommandRun {
  readonly stdin: Writable;
  readonly stdout = new PassThrough();
  readonly result: Promise<CommandResult>;
  pid: number | undefined;

  readonly #graceMs: number;
  readonly #startedAt = performance.now();
  readonly #stderr = new StderrLines();
  #child: ChildProcess | null = null;
  #resolve!: (result: CommandResult) => void;
  #exitCode: number | null = null;
  #signal: NodeJS.Signals | null = null;
  #spawnError: string | null = null;
  #killedFor: CommandKillReason | null = null;
  #durationMs = 0;
  #exited = false;
  #stdoutDone = false;
  #stderrDone = false;
  #finished = false;
  #timeout: NodeJS.Timeout | null = null;
  #grace: NodeJS.Timeout | null = null;
  #linger: NodeJS.Timeout | null = null;

  constructor(argv: readonly string[], opts: CommandOptions) {
    this.result = new Promise((resolve) => (this.#resolve = resolve));
    this.#graceMs = Math.min(Math.max(0, opts.killGraceMs ?? 2000), MAX_TIMER_MS);
    const [file, ...args] = argv;
    let child: ChildProcess;
    try {
      if (!file) throw new Error('spawn: empty argv');
      // Its own process group (POSIX), so a kill reaches what it started too (`sh -c 'a | b'`).
      child = spawn(file, args, { shell: false, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true, cwd: opts.cwd, detached: GROUPS });
    } catch (err) {
      // Node throws synchronously for arguments it refuses outright (a NUL byte, a bad cwd type);
      // for the caller that is the same outcome as ENOENT.
      this.stdin = programInput(null);
      this.#failSpawn(err instanceof Error ? err.message : String(err));
      return;
    }
    this.#child = child;
    this.pid = child.pid;
    this.stdin = programInput(child.stdin);
    this.#timeout = setTimeout(() => this.kill('timeout'), Math.min(opts.timeoutMs, MAX_TIMER_MS));

    let spawned = false;
    child.once('spawn', () => (spawned = true));
    child.on('error', (err) => {
      // Before 'spawn' this is the start failure (ENOENT, EACCES …); later only a failed kill().
      if (!spawned && !this.#exited) this.#failSpawn(err.message);
      else debug('command %s (pid %d): %s', file, child.pid, err.message);
    });
    child.once('exit', (code, signal) => this.#onExit(code, signal));

    const out = child.stdout!;
    out.on('error', (err) => {
      // A pipe read error: the output is incomplete, so cut the response like a kill does.
      debug('command %s stdout: %s', file, err.message);
      this.stdout.destroy();
    });
    out.pipe(this.stdout);
    // `result` waits for the consumer to have read the output to its end (or for it to be
    // destroyed), so a caller may end its response when `result` resolves without losing a byte.
    const stdoutDone = () => {
      this.#stdoutDone = true;
      this.#maybeFinish();
    };
    this.stdout.once('end', stdoutDone);
    this.stdout.once('close', () => {
      // The consumer gave up on the output: stop reading it so the run can finish (the program
      // gets EPIPE on its next write). Killing it stays the caller's decision (it knows why).
      if (!out.readableEnded) out.destroy();
      stdoutDone();
    });

    const err = child.stderr!;
    err.on('data', (chunk: Buffer) => this.#stderr.push(chunk));
    err.on('error', (e) => debug('command %s stderr: %s', file, e.message));
    err.once('close', () => {
      this.#stderr.end();
      this.#stderrDone = true;
      this.#maybeFinish();
    });
  }

  onStderrLine(fn: (line: string) => void): void {
    this.#stderr.listen(fn);
  }

  kill(reason: CommandKillReason): void {
    if (this.#finished) return;
    this.#killedFor ??= reason;
    // The output is cut: destroy (not end) it, so nobody takes a truncated output for a whole one.
    this.stdout.destroy();
    this.#child?.stdout?.destroy();
    if (this.#exited) {
      // The leader is gone; what it started may still be running in its group.
      this.#signal_('SIGKILL');
      this.#cutStderr();
      return;
    }
    this.#signal_('SIGTERM');
    this.#grace ??= setTimeout(() => this.#signal_('SIGKILL'), this.#graceMs);
  }

  /** Signal the program's whole process group (POSIX), else the program alone. */
  #signal_(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (GROUPS && pid !== undefined) {
      try {
        process.kill(-pid, signal);
        return;
      } catch {
        // ESRCH: the group is already empty; nothing left to stop.
        return;
      }
    }
    if (!this.#exited) this.#child?.kill(signal);
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#exitCode = code;
    this.#signal = signal;
    this.#durationMs = performance.now() - this.#startedAt;
    if (this.#grace) clearTimeout(this.#grace);
    if (this.#killedFor !== null) this.#cutStderr();
    this.#maybeFinish();
  }

  /**
   * A killed program's last words usually follow within milliseconds; but a grandchild that
   * inherited the pipe can hold it open for ever, so after a short linger the pipe is closed.
   */
  #cutStderr(): void {
    this.#linger ??= setTimeout(() => this.#child?.stderr?.destroy(), STDIO_LINGER_MS);
  }

  #failSpawn(message: string): void {
    this.#spawnError = message;
    this.#exited = true;
    this.#durationMs = performance.now() - this.#startedAt;
    const child = this.#child;
    if (child) {
      child.stdout?.unpipe(this.stdout);
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    // Nothing was ever written to stdout: it is over already, whether or not anyone reads it.
    this.stdout.end();
    this.#stdoutDone = true;
    this.#stderrDone = true;
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#finished || !this.#exited || !this.#stdoutDone || !this.#stderrDone) return;
    this.#finished = true;
    for (const timer of [this.#timeout, this.#grace, this.#linger]) if (timer) clearTimeout(timer);
    this.#stderr.end();
    this.#resolve({
      exitCode: this.#exitCode,
      signal: this.#signal,
      spawnError: this.#spawnError,
      killedFor: this.#killedFor,
      durationMs: this.#durationMs,
    });
  }
}

/**
 * The writable handed to the caller for the program's stdin. A program may legitimately ignore
 * its input (or stop reading half-way) and exit: writing to its closed pipe then fails with EPIPE
 * (or ECONNRESET on Windows). That is not a failure of the run — the exit code says how it went —
 * so the error is swallowed and the rest of the body is discarded, which lets the caller's
 * `pipeline(request, stdin)` complete instead of erroring or stalling on a `'drain'` that never comes.
 */
function programInput(sink: Writable | null): Writable {
  let gone = sink === null;
  let waiting: (() => void) | null = null;
  const release = () => {
    const cb = waiting;
    waiting = null;
    cb?.();
  };
  if (sink) {
    sink.on('error', (err: NodeJS.ErrnoException) => {
      // Swallowed on purpose, see above.
      debug('command stdin: %s', err.code ?? err.message);
      gone = true;
      release();
    });
    sink.on('close', () => {
      gone = true;
      release();
    });
    sink.on('drain', release);
  }
  return new Writable({
    write(chunk: Buffer, _encoding, cb) {
      if (gone || !sink || sink.destroyed || sink.writableEnded) return cb();
      if (sink.write(chunk)) return cb();
      waiting = () => cb();
    },
    final(cb) {
      if (!gone && sink && !sink.writableEnded) sink.end();
      cb();
    },
    destroy(err, cb) {
      waiting = null;
      if (sink && !sink.destroyed) sink.destroy();
      cb(err);
    },
  });
}
