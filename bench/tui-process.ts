/**
 * The proxy with its TUI open, in a detached tmux session of fixed size (its own tmux server and
 * socket, so nothing touches a user's tmux). The proxy's PID and port come from the instance.json it
 * writes into its `$PROXYCTL_HOME`; the bench waits until the status bar shows the listen address,
 * so the UI is really drawing while traffic flows.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Scope } from './cleanup.js';
import { binPath, repoRoot } from './env.js';
import { commonArgs, makeHome, nodeFlags, proxyEnv, type ProxyUnderTest } from './proxy-process.js';
import { cpuMicros, mainThreadCpuMicros, rssBytes } from './proc.js';
import { sleep } from './stats.js';

const run = promisify(execFile);

export const TUI_COLUMNS = 120;
export const TUI_ROWS = 40;

function shellQuote(word: string): string {
  return /^[\w./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The process exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // ESRCH or no /proc entry: gone.
    return false;
  }
}

export async function startTuiProxy(scope: Scope, opts: { session: string; cpuProfDir?: string | null }): Promise<ProxyUnderTest> {
  const home = await makeHome(scope, opts.session);
  const socketDir = await mkdtemp(join(tmpdir(), 'proxyctl-bench-tmux-'));
  const socket = join(socketDir, 'tmux.sock');
  const env = proxyEnv(home);
  env['TERM'] = 'xterm-256color';
  // Ink draws nothing when it believes it runs in CI.
  for (const key of Object.keys(env)) if (key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_')) delete env[key];
  const tmux = async (...args: string[]) => (await run('tmux', ['-S', socket, ...args], { env, timeout: 10_000 })).stdout;

  let pid = 0;
  const stop = async () => {
    // SIGTERM first: the proxy flushes its session (and a --cpu-prof profile) on SIGTERM, not on
    // the SIGHUP that ending the tmux server would send.
    if (pid > 0 && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 200 && alive(pid); i++) await sleep(50);
    }
    await tmux('kill-server').catch(() => {
      // Already gone.
    });
    if (pid > 0) {
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    await rm(socketDir, { recursive: true, force: true });
  };
  scope.defer(stop);

  const command = ['exec', process.execPath, ...nodeFlags(opts.cpuProfDir), binPath, 'start', '--port', '0', ...commonArgs(opts.session)].map(shellQuote).join(' ');
  await tmux('new-session', '-d', '-s', 'bench', '-x', String(TUI_COLUMNS), '-y', String(TUI_ROWS), '-c', repoRoot, command);

  const deadline = Date.now() + 30_000;
  let port = 0;
  for (;;) {
    try {
      const inst = JSON.parse(await readFile(join(home, 'instance.json'), 'utf8')) as { url: string; pid: number };
      const m = /:(\d+)$/.exec(inst.url);
      if (m) {
        pid = inst.pid;
        port = Number(m[1]);
        const screen = await tmux('capture-pane', '-p', '-t', 'bench');
        if (screen.includes(`127.0.0.1:${port}`)) break;
      }
    } catch {
      // instance.json not written yet (or half written): poll again.
    }
    if (Date.now() > deadline) {
      const screen = await tmux('capture-pane', '-p', '-t', 'bench').catch(() => '(no screen)');
      throw new Error(`the TUI did not come up within 30 s; screen:\n${screen}`);
    }
    await sleep(100);
  }
  const ca = await readFile(join(home, 'ca', 'ca.pem'), 'utf8');
  return {
    pid,
    port,
    home,
    ca,
    cpuMicros: () => cpuMicros(pid),
    mainThreadCpuMicros: () => mainThreadCpuMicros(pid),
    rssBytes: () => rssBytes(pid),
    flowsFinished: () => null,
    stop,
  };
}
