/**
 * The real TUI in a real terminal: `node bin/proxyctl.js start --port 0` inside a detached tmux
 * session (120x40), driven with `send-keys` and read back with `capture-pane`. Needs the built CLI
 * (dist/), tmux and curl.
 *
 * Each test gets a tmux server of its own (`-L`), so nothing leaks into a user's tmux and
 * `kill-server` in afterEach ends the proxy with it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, curl } from '../helpers/curl.js';
import { makeTempHome, type TempHome } from '../helpers/test-ca.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const PROMPT = 'e2e-shell$ ';

let socket = '';
let home = '';
let tempHome: TempHome | null = null;
let origin: Server | null = null;

/** The environment for the tmux server: no proxies, and no CI markers (Ink draws nothing in CI). */
function terminalEnv(): NodeJS.ProcessEnv {
  const env = cleanEnv({ TERM: 'xterm-256color', PROXYCTL_HOME: home });
  for (const key of Object.keys(env)) if (key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_')) delete env[key];
  return env;
}

async function tmux(...args: string[]): Promise<string> {
  const { stdout } = await run('tmux', ['-L', socket, ...args], { env: terminalEnv() });
  return stdout;
}

async function pane(): Promise<string> {
  return tmux('capture-pane', '-p', '-t', 'e2e');
}

/** Poll the pane until `check` holds, bounded; the failure shows the last screen. */
async function waitForPane(check: (screen: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let screen = '';
  for (;;) {
    screen = await pane();
    if (check(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`tmux pane never showed ${what} within ${timeoutMs} ms; last screen:\n${screen}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function keys(...k: string[]): Promise<void> {
  await tmux('send-keys', '-t', 'e2e', ...k);
}

/** Literal text (no key-name lookup: `~d` stays `~d`). */
async function type(text: string): Promise<void> {
  await tmux('send-keys', '-t', 'e2e', '-l', text);
}

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    // No tmux on this machine: the suite is skipped below.
    return false;
  }
})();

describe.skipIf(!hasTmux)('TUI in tmux', () => {
  beforeEach(async () => {
    socket = `proxyctl-e2e-${process.pid}-${Date.now()}`;
    // A home holding the pregenerated fixture CA: start-up makes no RSA key.
    tempHome = await makeTempHome();
    home = tempHome.home;
    origin = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Origin': 'e2e-origin' });
      res.end(`hello from ${req.url}\n`);
    });
    await new Promise<void>((resolve) => origin!.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    await tmux('kill-server').catch(() => {
      // Already gone (the test ended it, or it never started).
    });
    await new Promise<void>((resolve) => (origin ? origin.close(() => resolve()) : resolve()));
    origin = null;
    await tempHome?.cleanup();
    tempHome = null;
  });

  it('shows flows live, opens one, filters, and restores the terminal on q', { timeout: 90_000 }, async () => {
    const originPort = (origin!.address() as AddressInfo).port;
    await tmux('new-session', '-d', '-s', 'e2e', '-x', '120', '-y', '40', '-c', repoRoot, 'bash --norc --noprofile');
    // Interactive bash may ignore PS1 from the environment; set a prompt the test can recognise.
    await type(`PS1='${PROMPT}'; clear`);
    await keys('Enter');
    await waitForPane((s) => s.trimEnd() === PROMPT.trim(), 'the shell prompt');
    await type('node bin/proxyctl.js start --port 0');
    await keys('Enter');

    // The status bar names the listen address: "regular 127.0.0.1:PORT".
    const started = await waitForPane((s) => /regular 127\.0\.0\.1:\d+/.test(s), 'the status bar with the listen address', 30_000);
    const port = Number(/regular 127\.0\.0\.1:(\d+)/.exec(started)![1]);
    expect(started).toContain('0 flows');

    const hello = await curl(['-x', `http://127.0.0.1:${port}`, `http://127.0.0.1:${originPort}/hello`]);
    expect(hello.code).toBe(0);
    expect(hello.stdout.toString()).toBe('hello from /hello\n');
    // The row may first show the flow in flight (status …); wait for the finished one.
    let screen = await waitForPane((s) => /GET\s+200\s+127\.0\.0\.1\s+\/hello/.test(s), 'the finished /hello flow');
    expect(screen).toContain('1 flow');

    // Enter opens the flow: the request tab lists its headers.
    await keys('Enter');
    screen = await waitForPane((s) => s.includes('[Request]') && s.includes('Headers ('), 'the request headers');
    expect(screen).toMatch(/User-Agent\s+curl\//);
    await keys('Tab');
    screen = await waitForPane((s) => s.includes('[Response]'), 'the response tab');
    expect(screen).toMatch(/X-Origin\s+e2e-origin/);
    expect(screen).toContain('hello from /hello');
    await keys('q');
    await waitForPane((s) => s.includes('q:quit'), 'the list again');

    // A second flow, then a filter that keeps only the first.
    const other = await curl(['-x', `http://127.0.0.1:${port}`, `http://127.0.0.1:${originPort}/other`]);
    expect(other.code).toBe(0);
    await waitForPane((s) => s.includes('/other') && s.includes('2 flows'), 'the /other flow');
    await keys('f');
    await waitForPane((s) => s.includes('filter:'), 'the filter prompt');
    await type('~u hello');
    await keys('Enter');
    screen = await waitForPane((s) => s.includes('1/2 flows'), 'the filtered list');
    expect(screen).toContain('/hello');
    expect(screen).not.toContain('/other');
    expect(screen).toContain('filter ~u hello');

    // q quits: the alternate screen is left and the shell prompt is back.
    await keys('q');
    screen = await waitForPane((s) => !s.includes('flows │') && s.trimEnd().endsWith(PROMPT.trim()), 'the shell prompt after quitting', 20_000);
    expect(screen).toContain('node bin/proxyctl.js start --port 0');
    expect(screen).not.toContain('q:quit');
  });
});
