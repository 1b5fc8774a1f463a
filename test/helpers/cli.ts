/**
 * The built CLI as a child process (bin/proxyctl.js → dist/). `startCli` runs headless
 * `proxyctl start --no-tui --port 0` and resolves on the ready line, which the contract makes the
 * first stdout line (DESIGN.md §7): `proxyctl listening on http://HOST:PORT`.
 *
 * Every child is tracked; call `killAll()` in afterEach so no process outlives its test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from './curl.js';

/** The repository root (where bin/ and dist/ live). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The CLI entry; `PROXYCTL_TEST_BIN` points the helpers at another build (or a stub, to test them). */
export const binPath = process.env['PROXYCTL_TEST_BIN'] ?? join(repoRoot, 'bin', 'proxyctl.js');

export const READY_LINE = /^proxyctl listening on http:\/\/(\[[^\]]+\]|[^:/\s]+):(\d+)\s*$/;

export interface CliOptions {
  /** Extra environment, over the cleaned process environment (no proxy variables). */
  env?: NodeJS.ProcessEnv;
  /**
   * `$PROXYCTL_HOME`. When omitted, a fresh temporary directory is used and removed when the process
   * is stopped or finishes (`runCli`): pass your own to inspect it afterwards.
   */
  home?: string;
  /** Bound for the ready line (`startCli`) or the whole run (`runCli`). @default 15000 */
  timeoutMs?: number;
  /** stdin for `runCli`. */
  input?: string | Buffer;
}

export interface CliProcess {
  port: number;
  /** As printed (IPv6 without brackets). */
  host: string;
  /** `http://HOST:PORT` as printed. */
  url: string;
  /** The `$PROXYCTL_HOME` in use. */
  home: string;
  /** stdout lines after the ready line, in order (grows while the process runs). */
  readonly lines: string[];
  /** All stderr so far. */
  readonly stderr: string;
  /** Resolve with the first line at index >= `from` matching `re` (already printed or still to come). */
  waitForLine(re: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Send `signal`, wait for the exit (SIGKILL after 10 s). Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves on exit. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  child: ChildProcess;
}

interface Tracked {
  child: ChildProcess;
  exited: Promise<unknown>;
  tempHome: string | null;
}

const running = new Set<Tracked>();

/** SIGKILL every child started by this module that is still running, and remove temp homes. */
export async function killAll(): Promise<void> {
  const all = [...running];
  running.clear();
  for (const t of all) if (t.child.exitCode === null && t.child.signalCode === null) t.child.kill('SIGKILL');
  await Promise.all(all.map((t) => t.exited));
  for (const t of all) if (t.tempHome) rmSync(t.tempHome, { recursive: true, force: true });
}

function checkBuilt(): void {
  if (!existsSync(binPath)) throw new Error(`${binPath} is missing: the CLI tests run the built CLI (npm run build)`);
}

function spawnCli(args: string[], opts: CliOptions): Tracked & { home: string } {
  checkBuilt();
  const tempHome = opts.home === undefined ? mkdtempSync(join(tmpdir(), 'proxyctl-home-')) : null;
  const home = opts.home ?? tempHome!;
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd: repoRoot,
    env: cleanEnv({ NO_COLOR: '1', ...opts.env, PROXYCTL_HOME: home }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // Spawn failures (no node?) end up here as exit(null) via 'error'.
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const tracked: Tracked = { child, exited, tempHome };
  running.add(tracked);
  return { ...tracked, home };
}

/** Start `proxyctl start --no-tui --port 0 ...args` and wait for its ready line. */
export async function startCli(args: string[] = [], opts: CliOptions = {}): Promise<CliProcess> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const t = spawnCli(['start', '--no-tui', '--port', '0', ...args], opts);
  const child = t.child;
  const exited = t.exited as Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  child.stdin!.end();
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => (stderr += s));

  const lines: string[] = [];
  const lineWaiters = new Set<() => void>();
  let first: string | null = null;
  let onFirst: (() => void) | null = null;
  const rl = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (first === null) {
      first = line;
      onFirst?.();
      return;
    }
    lines.push(line);
    for (const w of [...lineWaiters]) w();
  });

  const fail = async (why: string): Promise<never> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const exit = await exited;
    settle(t);
    // Let the last stderr bytes arrive (they are usually the reason).
    await new Promise((r) => setImmediate(r));
    throw new Error(`proxyctl ${args.join(' ')}: ${why} (exit code ${exit.code}, signal ${exit.signal})\nstderr:\n${stderr || '(empty)'}`);
  };

  const ready = await new Promise<'ready' | 'exit' | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    onFirst = () => {
      clearTimeout(timer);
      resolve('ready');
    };
    void exited.then(() => {
      clearTimeout(timer);
      resolve(first === null ? 'exit' : 'ready');
    });
  });
  if (ready === 'timeout') return fail(`no ready line within ${timeoutMs} ms`);
  if (ready === 'exit' || first === null) return fail('exited before printing the ready line');
  const firstLine: string = first;
  const m = READY_LINE.exec(firstLine);
  if (!m) return fail(`first stdout line is not the ready line: ${JSON.stringify(firstLine)}`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2]);

  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  return {
    port,
    host,
    url: `http://${m[1]}:${port}`,
    home: t.home,
    lines,
    get stderr() {
      return stderr;
    },
    exited,
    child,
    waitForLine(re, waitMs = 5000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (let i = from; i < lines.length; i++) {
            if (re.test(lines[i]!)) {
              done();
              resolve(lines[i]!);
              return;
            }
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`proxyctl exited while waiting for a line matching ${re}; lines:\n${lines.join('\n')}\nstderr:\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no stdout line matching ${re} within ${waitMs} ms; lines:\n${lines.join('\n')}\nstderr:\n${stderr}`));
        }, waitMs);
        const done = () => {
          clearTimeout(timer);
          lineWaiters.delete(check);
        };
        lineWaiters.add(check);
        void exited.then(check);
        check();
      });
    },
    stop(signal = 'SIGTERM') {
      if (stopping) return stopping;
      stopping = (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill(signal);
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          const res = await exited;
          clearTimeout(timer);
          settle(t);
          return res;
        }
        settle(t);
        return exited;
      })();
      return stopping;
    },
  };
}

function settle(t: Tracked): void {
  for (const r of running) {
    if (r.child === t.child) {
      running.delete(r);
      if (r.tempHome) rmSync(r.tempHome, { recursive: true, force: true });
    }
  }
}

/** Run a one-shot command (`proxyctl ca path`, `proxyctl config check FILE` …) to completion. */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string; home: string }> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const t = spawnCli(args, opts);
  const child = t.child;
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (s: string) => (stdout += s));
  child.stderr!.on('data', (s: string) => (stderr += s));
  child.stdin!.on('error', () => {
    // The command may exit without reading stdin; its exit code is what the test checks.
  });
  child.stdin!.end(opts.input ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  // 'close' (not 'exit') so that all output has been read.
  const code = await new Promise<number | null>((resolve) => {
    child.once('close', (c) => resolve(c));
    child.once('error', () => resolve(null));
  });
  clearTimeout(timer);
  settle(t);
  if (timedOut) throw new Error(`proxyctl ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  return { code, stdout, stderr, home: t.home };
}
