/**
 * The proxy under test as a separate process, exactly as a user runs it headless:
 * `node bin/proxyctl.js start --no-tui --port 0 --session NAME --resolve '*=127.0.0.1'`, with a
 * temporary `$PROXYCTL_HOME` holding the fixture CA and `NODE_EXTRA_CA_CERTS` pointing at the origin
 * CA (so upstream certificates are verified, as by default; no `--insecure`).
 *
 * Its stdout is the ready line, then one access-log line per finished flow: the bench counts the
 * lines, which tells how many flows the proxy finished (and so recorded).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scope } from './cleanup.js';
import { binPath, cleanEnv, fixtureCa, originCaPath, repoRoot } from './env.js';
import { cpuMicros, mainThreadCpuMicros, rssBytes } from './proc.js';
import { sleep } from './stats.js';

/** The common face of a headless proxy and one running its TUI in tmux. */
export interface ProxyUnderTest {
  pid: number;
  port: number;
  /** `$PROXYCTL_HOME`; its `ca/ca.pem` is the root clients must trust. */
  home: string;
  /** The proxy's root certificate (PEM). */
  ca: string;
  cpuMicros(): number;
  /** CPU time of the event-loop thread only (see proc.ts). */
  mainThreadCpuMicros(): number;
  rssBytes(): number;
  /** Flows finished so far (access-log lines), or null when the proxy prints none (TUI). */
  flowsFinished(): number | null;
  stop(): Promise<void>;
}

export interface ProxyStartOptions {
  /** Session name, also used for the temporary home's name. */
  session: string;
  /** Write a V8 CPU profile of the proxy into this folder (`node --cpu-prof`). */
  cpuProfDir?: string | null;
  /** More `start` arguments. */
  args?: string[];
}

/** A temporary `$PROXYCTL_HOME` with the fixture CA (dir 0700, key 0600), removed with the scope. */
export async function makeHome(scope: Scope, name: string): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), `proxyctl-bench-${name}-`));
  scope.defer(() => rm(home, { recursive: true, force: true }));
  await mkdir(join(home, 'ca'), { mode: 0o700 });
  await copyFile(fixtureCa.cert, join(home, 'ca', 'ca.pem'));
  await copyFile(fixtureCa.key, join(home, 'ca', 'ca.key'));
  await chmod(join(home, 'ca', 'ca.key'), 0o600);
  return home;
}

/** Node flags for `--cpu-prof DIR`. */
export function nodeFlags(cpuProfDir: string | null | undefined): string[] {
  return cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
}

/** Arguments every proxy under test gets: every name resolves to loopback (the origins). */
export function commonArgs(session: string): string[] {
  return ['--session', session, '--resolve', '*=127.0.0.1'];
}

export function proxyEnv(home: string): NodeJS.ProcessEnv {
  return cleanEnv({ PROXYCTL_HOME: home, NODE_EXTRA_CA_CERTS: originCaPath });
}

/**
 * Counts lines appended to a file, reading only what was added since the last call. The proxy's
 * stdout goes to a file rather than a pipe: a pipe the bench is slow to drain would block the proxy
 * (stdout writes to pipes are synchronous on Linux) and couple its speed to the load generator's.
 */
class LineCounter {
  private offset = 0;
  private count = 0;
  private readonly buf = Buffer.alloc(1 << 20);
  /** The first line, once complete. */
  first: string | null = null;
  private head = '';

  constructor(private readonly fd: number) {}

  lines(): number {
    for (;;) {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, this.offset);
      if (n <= 0) return this.count;
      this.offset += n;
      let i = 0;
      if (this.first === null) {
        const nl = this.buf.indexOf(10);
        this.head += this.buf.toString('utf8', 0, nl < 0 || nl >= n ? n : nl);
        if (nl < 0 || nl >= n) continue;
        this.first = this.head;
        this.count = 1;
        i = nl + 1;
      }
      for (let j = this.buf.indexOf(10, i); j >= 0 && j < n; j = this.buf.indexOf(10, j + 1)) this.count++;
    }
  }
}

export async function startProxy(scope: Scope, opts: ProxyStartOptions): Promise<ProxyUnderTest> {
  const home = await makeHome(scope, opts.session);
  const logPath = join(home, 'stdout.log');
  const out = openSync(logPath, 'w+');
  scope.defer(() => closeSync(out));
  const counter = new LineCounter(out);
  const argv = [...nodeFlags(opts.cpuProfDir), binPath, 'start', '--no-tui', '--port', '0', ...commonArgs(opts.session), ...(opts.args ?? [])];
  const child = spawn(process.execPath, argv, { cwd: repoRoot, env: proxyEnv(home), stdio: ['ignore', out, 'pipe'] });
  let exited = false;
  const exit = new Promise<void>((r) =>
    child.once('exit', () => {
      exited = true;
      r();
    }),
  );
  const stop = async () => {
    if (exited) return;
    // SIGTERM: the proxy finishes in-flight flows, flushes the session (and a CPU profile) and exits.
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exit;
    clearTimeout(timer);
  };
  scope.defer(stop);

  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const deadline = Date.now() + 20_000;
  while (counter.lines() === 0) {
    if (exited) throw new Error(`proxy exited (code ${child.exitCode}) before it was ready; stderr: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`proxy did not print its ready line within 20 s; stderr: ${stderr}`);
    await sleep(20);
  }
  const m = /^proxyctl listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(counter.first ?? '');
  if (!m) throw new Error(`unexpected first line from the proxy: ${counter.first}`);
  const pid = child.pid!;
  const ca = await readFile(join(home, 'ca', 'ca.pem'), 'utf8');
  return {
    pid,
    port: Number(m[1]),
    home,
    ca,
    cpuMicros: () => cpuMicros(pid),
    mainThreadCpuMicros: () => mainThreadCpuMicros(pid),
    rssBytes: () => rssBytes(pid),
    // One access-log line per finished flow, after the ready line.
    flowsFinished: () => counter.lines() - 1,
    stop,
  };
}
