/**
 * Breakpoints in the real TUI (issue 5): `node bin/proxyctl.js start --port 0` in a detached tmux
 * session (120x40, as in tui-tmux.test.ts), an intercept filter set with `i`, a request paused on
 * its way, edited with `e` in $EDITOR (a sed script) and resumed by that edit — a good edit
 * resumes the flow directly, no `a` needed. The origin records what it received.
 * Needs the built CLI (dist/), tmux and curl.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
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
let editorScript = '';
let tempHome: TempHome | null = null;
let origin: Server | null = null;
const received: IncomingHttpHeaders[] = [];

/** The tmux server's environment: no proxies, no CI markers (Ink draws nothing in CI), our editor. */
function terminalEnv(): NodeJS.ProcessEnv {
  const env = cleanEnv({ TERM: 'xterm-256color', PROXYCTL_HOME: home, EDITOR: editorScript });
  delete env.VISUAL;
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

/** Literal text (no key-name lookup). */
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

describe.skipIf(!hasTmux)('breakpoints in the TUI (tmux)', () => {
  beforeEach(async () => {
    socket = `proxyctl-e2e-bp-${process.pid}-${Date.now()}`;
    tempHome = await makeTempHome();
    home = tempHome.home;
    editorScript = join(home, 'edit.sh');
    await writeFile(editorScript, `#!/bin/sh\nsed -i 's/^X-Test: original/X-Test: edited/' "$1"\n`);
    await chmod(editorScript, 0o755);
    received.length = 0;
    origin = createServer((req, res) => {
      received.push(req.headers);
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`echo ${req.headers['x-test'] ?? '-'}\n`);
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

  it('pauses a matching request, edits it in $EDITOR and resumes it edited', { timeout: 90_000 }, async () => {
    const originPort = (origin!.address() as AddressInfo).port;
    await tmux('new-session', '-d', '-s', 'e2e', '-x', '120', '-y', '40', '-c', repoRoot, 'bash --norc --noprofile');
    await type(`PS1='${PROMPT}'; clear`);
    await keys('Enter');
    await waitForPane((s) => s.trimEnd() === PROMPT.trim(), 'the shell prompt');
    await type('node bin/proxyctl.js start --port 0');
    await keys('Enter');
    const started = await waitForPane((s) => /regular 127\.0\.0\.1:\d+/.test(s), 'the status bar with the listen address', 30_000);
    const port = Number(/regular 127\.0\.0\.1:(\d+)/.exec(started)![1]);

    await keys('i');
    await waitForPane((s) => s.includes('intercept:'), 'the intercept prompt');
    await type('~u /echo');
    await keys('Enter');
    await waitForPane((s) => s.includes('intercept ~u /echo'), 'the intercept filter in the status bar');

    // In the background: the request waits at the breakpoint until the edit resumes it.
    const pending = curl(['-sS', '-x', `http://127.0.0.1:${port}`, '-H', 'X-Test: original', `http://127.0.0.1:${originPort}/echo`], { timeoutMs: 40_000 });
    let screen = await waitForPane((s) => /\/echo ⏸ \d+s/.test(s) && s.includes('1 paused'), 'the paused /echo flow');
    expect(screen).toContain('PAU');
    expect(received).toHaveLength(0);

    await keys('e');
    screen = await waitForPane((s) => s.includes('resumed with the edited request'), 'the edit applied');
    const done = await pending;
    expect(done.code).toBe(0);
    expect(done.stdout.toString()).toBe('echo edited\n');
    expect(received).toHaveLength(1);
    expect(received[0]!['x-test']).toBe('edited');
    await waitForPane((s) => /GET\s+200\s+127\.0\.0\.1\s+\/echo/.test(s) && !s.includes('paused'), 'the finished /echo flow');

    // The detail view shows what the edit changed.
    await keys('Enter');
    screen = await waitForPane((s) => s.includes('Edited at the breakpoint'), 'the edit summary');
    expect(screen).toContain('~ X-Test: original → edited');
  });
});
