/**
 * The real TUI in a real terminal: `node bin/proxyctl.js start --port 0 …` typed into a shell inside a
 * detached tmux session of fixed size, driven with `send-keys` and read back with `capture-pane`.
 * Needs the built CLI (dist/) and tmux.
 *
 * Each session gets a tmux server of its own (`-S` with a socket in a temporary folder), so nothing leaks into a user's tmux, and
 * `kill-server` ends the shell and the proxy with it. Every session started here is tracked: call
 * `killAllTuis()` in afterEach so none outlives its test (it also makes sure the proxy process is
 * gone, and removes the temporary `$PROXYCTL_HOME`).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { instancePath } from '../../src/browser/instance.js';
import { binPath, repoRoot } from './cli.js';
import { cleanEnv } from './curl.js';
import { makeTempHome } from './test-ca.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/** The shell prompt set in the session, so a test can tell when the shell is back. */
export const PROMPT = 'e2e-shell$ ';
/** The one tmux session on each test's own tmux server. */
const SESSION = 'e2e';

export interface TuiOptions {
  /** Arguments after `start --port 0`. @default [] */
  args?: string[];
  /** Extra environment for the terminal (e.g. `EDITOR`), over the cleaned one. */
  env?: NodeJS.ProcessEnv;
  /**
   * `$PROXYCTL_HOME`. When omitted, a fresh temporary home holding the fixture CA is used (start-up
   * makes no RSA key) and removed on `kill()`. A home passed in is the caller's to remove.
   */
  home?: string;
  /** @default 120 */
  columns?: number;
  /** @default 40 */
  rows?: number;
  /** Bound for the TUI to come up (status bar drawn, instance.json written). @default 30000 */
  startTimeoutMs?: number;
}

export interface Tui {
  /** The proxy's port (instance.json, checked against the status bar). */
  port: number;
  /** `http://127.0.0.1:PORT`, for `curl -x`. */
  proxyUrl: string;
  /** The proxyctl process (instance.json). */
  pid: number;
  /** `$PROXYCTL_HOME` in use. */
  home: string;
  /** The command line typed into the shell. */
  commandLine: string;
  /** The first screen that showed the status bar with the listen address. */
  started: string;
  /** The pane as plain text, one line per terminal row. */
  screen(): Promise<string>;
  /** Keys by tmux name (`Enter`, `Tab`, `Space`, `q` …), in order. */
  keys(...keys: string[]): Promise<void>;
  /** Literal text (no key-name lookup: `~d` stays `~d`). */
  type(text: string): Promise<void>;
  /**
   * Poll the pane until it contains `text`, matches it, or `check` holds; resolves with that screen.
   * Bounded: the failure names `what` and shows the last screen.
   */
  waitForScreen(check: string | RegExp | ((screen: string) => boolean), what?: string, timeoutMs?: number): Promise<string>;
  /** End the tmux server, make sure the proxy exited, remove a temporary home. Idempotent. */
  kill(): Promise<void>;
}

let tmuxChecked = false;

/** Fail loudly when tmux is missing: these tests are never skipped. */
function requireTmux(): void {
  if (tmuxChecked) return;
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('no tmux for the end-to-end TUI tests: apt-get install tmux');
  }
  tmuxChecked = true;
}

/** The environment for the tmux server: no proxies, and no CI markers (Ink draws nothing in CI). */
function terminalEnv(home: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = cleanEnv({ TERM: 'xterm-256color', ...extra, PROXYCTL_HOME: home });
  for (const key of Object.keys(env)) if (key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_')) delete env[key];
  // $VISUAL wins over $EDITOR: a test that sets EDITOR must get exactly that.
  if (extra['EDITOR'] !== undefined && extra['VISUAL'] === undefined) delete env['VISUAL'];
  return env;
}

const running = new Set<Tui>();

/** One word for bash: as is when it is plain, else single-quoted. */
function shellQuote(word: string): string {
  return /^[\w./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The process exists and is not a zombie (orphans wait for init to reap them, which may be slow in a container). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone.
    return false;
  }
  try {
    // /proc/PID/stat: "PID (comm) STATE …"; comm may hold spaces and parentheses, so split at the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // No /proc (macOS) or it went away meanwhile: kill(0) said it was there.
    return true;
  }
}

/**
 * Start the TUI: a shell in a detached `columns`×`rows` tmux session, `proxyctl start --port 0
 * ...args` typed into it, and resolve once the status bar shows the listen address from instance.json.
 */
export async function startTui(opts: TuiOptions = {}): Promise<Tui> {
  requireTmux();
  const columns = opts.columns ?? 120;
  const rows = opts.rows ?? 40;
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const temp = opts.home === undefined ? await makeTempHome() : null;
  const home = opts.home ?? temp!.home;
  // A socket of our own (-S) in a folder of our own: tmux leaves the socket file behind on
  // kill-server, and the folder goes with the session.
  const socketDir = await mkdtemp(join(tmpdir(), 'proxyctl-tmux-'));
  const socket = join(socketDir, 'tmux.sock');
  const env = terminalEnv(home, opts.env ?? {});

  const tmux = async (...args: string[]): Promise<string> => {
    const { stdout } = await run('tmux', ['-S', socket, ...args], { env, timeout: 10_000 });
    return stdout;
  };
  const screen = () => tmux('capture-pane', '-p', '-t', SESSION);
  const keys = async (...k: string[]) => {
    await tmux('send-keys', '-t', SESSION, ...k);
  };
  const type = async (text: string) => {
    await tmux('send-keys', '-t', SESSION, '-l', text);
  };
  const waitForScreen: Tui['waitForScreen'] = async (check, what, timeoutMs = 15_000) => {
    const test = typeof check === 'string' ? (s: string) => s.includes(check) : check instanceof RegExp ? (s: string) => check.test(s) : check;
    const label = what ?? (typeof check === 'function' ? 'the expected screen' : String(check));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await screen();
      if (test(s)) return s;
      if (Date.now() > deadline) throw new Error(`tmux pane never showed ${label} within ${timeoutMs} ms; last screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  let pid = 0;
  let killed: Promise<void> | null = null;
  const kill = () => {
    killed ??= (async () => {
      running.delete(tui);
      await tmux('kill-server').catch(() => {
        // Already gone (the test ended it, or it never started).
      });
      // The shell's SIGHUP ends proxyctl; should it linger, end it here rather than leak it.
      if (pid > 0) {
        const gone = await waitFor(() => !alive(pid), { timeoutMs: 5000, intervalMs: 50 }).then(
          () => true,
          () => false,
        );
        if (!gone) {
          process.kill(pid, 'SIGKILL');
          await waitFor(() => !alive(pid), { timeoutMs: 5000, intervalMs: 50, message: `proxyctl (pid ${pid}) to exit after SIGKILL` });
        }
      }
      await rm(socketDir, { recursive: true, force: true });
      await temp?.cleanup();
    })();
    return killed;
  };

  // Relative to the session's working directory (the repository) when it can be: shorter on screen.
  const bin = relative(repoRoot, binPath).startsWith('..') ? binPath : relative(repoRoot, binPath);
  const commandLine = ['node', bin, 'start', '--port', '0', ...(opts.args ?? [])].map(shellQuote).join(' ');
  const tui: Tui = {
    port: 0,
    proxyUrl: '',
    pid: 0,
    home,
    commandLine,
    started: '',
    screen,
    keys,
    type,
    waitForScreen,
    kill,
  };
  running.add(tui);

  try {
    await tmux('new-session', '-d', '-s', SESSION, '-x', String(columns), '-y', String(rows), '-c', repoRoot, 'bash --norc --noprofile');
    // Interactive bash may ignore PS1 from the environment; set a prompt the tests can recognise.
    await type(`PS1='${PROMPT}'; clear`);
    await keys('Enter');
    await waitForScreen((s) => s.trimEnd() === PROMPT.trim(), 'the shell prompt');
    await type(commandLine);
    await keys('Enter');

    // instance.json is written once the proxy listens, before the UI draws.
    const instance = await waitFor(
      async () => {
        const parsed = JSON.parse(await readFile(instancePath(home), 'utf8')) as { url?: unknown; pid?: unknown };
        return typeof parsed.url === 'string' && typeof parsed.pid === 'number' ? { url: parsed.url, pid: parsed.pid } : null;
      },
      { timeoutMs: startTimeoutMs, intervalMs: 50, message: instancePath(home) },
    ).catch(async (err: Error) => {
      throw new Error(`proxyctl did not start: ${err.message}; last screen:\n${await screen().catch(() => '(no screen)')}`);
    });
    pid = instance.pid;
    const m = /^http:\/\/127\.0\.0\.1:(\d+)$/.exec(instance.url);
    if (!m) throw new Error(`instance.json names ${instance.url}, not http://127.0.0.1:PORT`);
    const port = Number(m[1]);
    // The status bar names the listen address: "regular 127.0.0.1:PORT".
    const started = await waitForScreen((s) => s.includes(`regular 127.0.0.1:${port}`), `the status bar with the listen address 127.0.0.1:${port}`, startTimeoutMs);
    Object.assign(tui, { port, proxyUrl: `http://127.0.0.1:${port}`, pid, started });
    return tui;
  } catch (err) {
    await kill();
    throw err;
  }
}

/** Kill every TUI session started by this module that is still running. */
export async function killAllTuis(): Promise<void> {
  await Promise.all([...running].map((t) => t.kill()));
}
