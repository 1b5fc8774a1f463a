/**
 * `proxyctl open NAME|FILE` (issue 7), the built CLI: a recorded session browsed in the real TUI
 * without a proxy. The session is made with `proxyctl import` from a small HAR whose URLs point at
 * a local origin (so replay has somewhere to go). The terminal is a detached tmux session of fixed
 * size on a tmux server of its own (`-S` socket in a temporary folder), killed after each test.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SessionRecorder } from '../../src/store/recorder.js';
import { binPath, killAll, runCli } from '../helpers/cli.js';
import { cleanEnv } from '../helpers/curl.js';
import { body, makeFlow } from '../helpers/make-flow.js';

const run = promisify(execFile);
const PROMPT = 'open-shell$ ';

let home = '';
let origin: Server | null = null;
const received: string[] = [];

/** A HAR 1.2 document of three exchanges with the origin; the POST carries a secret. */
function har(port: number): unknown {
  const base = `http://127.0.0.1:${port}`;
  const entry = (i: number, method: string, path: string, status: number, extra: Record<string, unknown> = {}) => ({
    startedDateTime: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
    time: 5,
    request: { method, url: `${base}${path}`, httpVersion: 'HTTP/1.1', headers: [{ name: 'Host', value: `127.0.0.1:${port}` }], ...extra },
    response: { status, statusText: '', httpVersion: 'HTTP/1.1', headers: [{ name: 'Content-Type', value: 'text/plain' }], content: { size: 2, mimeType: 'text/plain', text: 'ok' } },
    timings: { send: 0, wait: 5, receive: 0 },
  });
  return {
    log: {
      version: '1.2',
      creator: { name: 'open.test', version: '1' },
      entries: [
        entry(0, 'GET', '/alpha', 200),
        entry(1, 'POST', '/beta', 201, {
          headers: [
            { name: 'Host', value: `127.0.0.1:${port}` },
            { name: 'Authorization', value: 'Bearer s3cret-token' },
          ],
          postData: { mimeType: 'application/json', text: '{"a":1}' },
        }),
        entry(2, 'GET', '/gamma', 404),
      ],
    },
  };
}

beforeAll(async () => {
  origin = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('replayed');
  });
  await new Promise<void>((resolve) => origin!.listen(0, '127.0.0.1', resolve));
  home = await mkdtemp(join(tmpdir(), 'proxyctl-open-home-'));
  const file = join(home, 'demo.har');
  await writeFile(file, JSON.stringify(har((origin.address() as AddressInfo).port)));
  const imported = await runCli(['import', file, '--session', 'demo'], { home });
  expect(imported.stderr).toBe('');
  expect(imported.code).toBe(0);
});

afterAll(async () => {
  await killAll();
  await new Promise<void>((resolve) => (origin ? origin.close(() => resolve()) : resolve()));
  await rm(home, { recursive: true, force: true });
});

describe('proxyctl open without a terminal', () => {
  it('a missing session exits 2 and lists the sessions there are', async () => {
    const r = await runCli(['open', 'nope'], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no session or file named nope');
    expect(r.stderr).toMatch(/available sessions.*\n\s+demo\s+3 flows/);
    expect(r.stdout).toBe('');
  });

  it('with no sessions at all, says how to make one', async () => {
    const r = await runCli(['open', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no sessions yet');
  });

  it('needs an interactive terminal (exit 2)', async () => {
    const r = await runCli(['open', 'demo'], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('proxyctl open needs an interactive terminal');
    expect(r.stdout).toBe('');
  });
});

// --- in a real terminal ---------------------------------------------------------------------------

let socketDir = '';
let workDir = '';

async function tmux(...args: string[]): Promise<string> {
  const env = cleanEnv({ TERM: 'xterm-256color', PROXYCTL_HOME: home });
  // Ink draws only the last frame under CI markers.
  for (const key of Object.keys(env)) if (key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_')) delete env[key];
  const { stdout } = await run('tmux', ['-S', join(socketDir, 'tmux.sock'), ...args], { env, timeout: 10_000 });
  return stdout;
}

const screen = () => tmux('capture-pane', '-p', '-t', 'open');
const keys = (...k: string[]) => tmux('send-keys', '-t', 'open', ...k);
const type = (text: string) => tmux('send-keys', '-t', 'open', '-l', text);

/** Poll the pane until `check` holds, bounded; the failure shows the last screen. */
async function waitForScreen(check: (s: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await screen();
    if (check(s)) return s;
    if (Date.now() > deadline) throw new Error(`tmux pane never showed ${what} within ${timeoutMs} ms; last screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterEach(async () => {
  if (socketDir) {
    await tmux('kill-server').catch(() => {
      // Already gone: the test quit the shell, or tmux never started.
    });
    await rm(socketDir, { recursive: true, force: true });
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
  socketDir = '';
  workDir = '';
});

describe('proxyctl open in a terminal', () => {
  it('shows the recorded flows read-only; filter, export, replay work; q exits 0', { timeout: 90_000 }, async () => {
    try {
      execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    } catch {
      throw new Error('no tmux for this test: apt-get install tmux');
    }
    socketDir = await mkdtemp(join(tmpdir(), 'proxyctl-open-tmux-'));
    // The export's default file goes to the working directory: a folder of the test's own.
    workDir = await mkdtemp(join(tmpdir(), 'proxyctl-open-cwd-'));
    await tmux('new-session', '-d', '-s', 'open', '-x', '110', '-y', '30', '-c', workDir, 'bash --norc --noprofile');
    await type(`PS1='${PROMPT}'; clear`);
    await keys('Enter');
    await waitForScreen((s) => s.trimEnd() === PROMPT.trim(), 'the shell prompt');
    await type(`node ${binPath} open demo; echo "proxyctl-exit=$?"`);
    await keys('Enter');

    let s = await waitForScreen((x) => x.includes('session demo (read-only)') && x.includes('/gamma'), 'the session in the TUI', 30_000);
    expect(s).toContain('3 flows');
    expect(s).toMatch(/GET\s+200\s.*\/alpha/);
    expect(s).toMatch(/POST\s+201\s.*\/beta/);
    expect(s).not.toContain('req/s');

    // A key that needs a proxy says so.
    await keys('c');
    await waitForScreen((x) => x.includes('not available: this session is opened read-only (no proxy running)'), 'the read-only answer');

    // The view filter.
    await keys('f');
    await waitForScreen((x) => x.includes('filter:'), 'the filter prompt');
    await type('~m POST');
    await keys('Enter');
    s = await waitForScreen((x) => x.includes('1/3 flows'), 'the filtered list');
    expect(s).toContain('/beta');
    expect(s).not.toContain('/alpha');

    // E exports the filtered view (nothing is marked) as HAR to the default file name.
    await keys('E');
    await waitForScreen((x) => x.includes('export 1 flow in view'), 'the export chooser');
    await keys('h');
    await waitForScreen((x) => x.includes('as har to: ./proxyctl-export-'), 'the file-name prompt');
    await keys('Enter');
    s = await waitForScreen((x) => x.includes('exported 1 flow to ./proxyctl-export-'), 'the export result');
    expect(s).toContain('(redacted: Authorization ×1)');
    const files = await readdir(workDir);
    expect(files).toHaveLength(1);
    const exported = JSON.parse(await readFile(join(workDir, files[0]!), 'utf8')) as { log: { entries: Array<{ request: { method: string; url: string } }> } };
    expect(exported.log.entries.map((e) => `${e.request.method} ${new URL(e.request.url).pathname}`)).toEqual(['POST /beta']);

    // r replays the selected flow straight to the origin: a new flow with the origin's answer.
    await keys('r');
    s = await waitForScreen((x) => x.includes('2/4 flows') && /POST\s+200\s.*\/beta/.test(x), 'the replayed flow');
    expect(received).toEqual(['POST /beta']);

    await keys('q');
    // The typed command line holds `proxyctl-exit=$?`; the echoed status has a digit.
    s = await waitForScreen((x) => /proxyctl-exit=\d/.test(x), 'the shell after quitting', 20_000);
    expect(s).toContain('proxyctl-exit=0');
    expect(s).not.toContain('read-only)');
  });

  it('a session bigger than the store holds (20,500 flows > maxFlows 20,000): every flow reachable, read on demand', { timeout: 120_000 }, async () => {
    // Recorded in-process (no network needed for a recording): 20,500 flows of GET /n/i answered `answer i`.
    const recorder = await SessionRecorder.open(home, 'big', { onWarning: () => {} });
    try {
      for (let i = 0; i < 20_500; i++) recorder.record(makeFlow({ id: `big-${String(i).padStart(6, '0')}`, request: { path: `/n/${i}` }, response: { body: body(`answer ${i}`) } }));
    } finally {
      await recorder.close();
    }
    socketDir = await mkdtemp(join(tmpdir(), 'proxyctl-open-tmux-'));
    await tmux('new-session', '-d', '-s', 'open', '-x', '110', '-y', '30', 'bash --norc --noprofile');
    await type(`PS1='${PROMPT}'; clear`);
    await keys('Enter');
    await waitForScreen((s) => s.trimEnd() === PROMPT.trim(), 'the shell prompt');
    await type(`node ${binPath} open big; echo "proxyctl-exit=$?"`);
    await keys('Enter');

    let s = await waitForScreen((x) => x.includes('session big (read-only)') && x.includes('/n/20499'), 'the newest flows', 30_000);
    expect(s).toContain('20500 flows');
    // The oldest flow, far beyond the newest 20,000, read from the session when scrolled to.
    await keys('g');
    s = await waitForScreen((x) => /^>.*\/n\/0 /m.test(x), 'the oldest flow selected');
    await keys('Enter');
    await keys('Tab');
    s = await waitForScreen((x) => x.includes('answer 0'), 'its body, read from its blob');
    await keys('q');
    // The filter covers every flow of the session, scanned in the background.
    await keys('f');
    await waitForScreen((x) => x.includes('filter:'), 'the filter prompt');
    await type('~u "/n/(7|2049[0-9])$"');
    await keys('Enter');
    s = await waitForScreen((x) => x.includes('11/20500 flows') && !x.includes('filtering older flows'), 'the filtered session', 60_000);
    expect(s).toMatch(/\/n\/7\s/);
    expect(s).toContain('/n/20499');

    await keys('q');
    s = await waitForScreen((x) => /proxyctl-exit=\d/.test(x), 'the shell after quitting', 20_000);
    expect(s).toContain('proxyctl-exit=0');
  });
});
