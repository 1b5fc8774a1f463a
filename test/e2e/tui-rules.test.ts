/**
 * Rules in the real TUI (issue 6): `node bin/proxyctl.js start --port 0` in a detached tmux session
 * (120x40, test/helpers/tmux.ts), real requests with curl through it, an origin that counts what
 * reaches it. `b` on a flow blocks its host (a user rule), the blocked request's row says `BLK`,
 * `p` lists the rule, Space switches it off and traffic passes again; `c` and `C` flip the cache
 * toggles in the status bar. Needs the built CLI (dist/), tmux and curl.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { curl } from '../helpers/curl.js';
import { killAllTuis, startTui, type Tui } from '../helpers/tmux.js';

let origin: Server | null = null;
/** Paths the origin received, in order. */
const received: string[] = [];

/** The status bar: the row that reports the request rate. */
const statusBar = (screen: string) => screen.split('\n').find((l) => l.includes('req/s')) ?? '';
/** The selected row (list or rules pane). */
const selectedRow = (screen: string) => screen.split('\n').find((l) => l.startsWith('>')) ?? '';
/** The row holding `text`. */
const rowWith = (screen: string, text: string) => screen.split('\n').find((l) => l.includes(text)) ?? '';

/** `curl -x PROXY http://127.0.0.1:ORIGIN/PATH`, with the status code printed after the body. */
async function get(tui: Tui, path: string): Promise<{ status: number; body: string }> {
  const port = (origin!.address() as AddressInfo).port;
  const run = await curl(['-x', tui.proxyUrl, '--write-out', '\n%{http_code}', `http://127.0.0.1:${port}${path}`], { timeoutMs: 5000 });
  expect(run.code, run.stderr).toBe(0);
  const out = run.stdout.toString();
  const cut = out.lastIndexOf('\n');
  return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
}

describe('rules in the TUI (tmux)', () => {
  beforeEach(async () => {
    received.length = 0;
    origin = createServer((req, res) => {
      received.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`origin ${req.url}`);
    });
    await new Promise<void>((resolve) => origin!.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    await killAllTuis();
    await new Promise<void>((resolve) => (origin ? origin.close(() => resolve()) : resolve()));
    origin = null;
  });

  it('b blocks the flow’s host, p lists the rule, Space switches it off; c and C flip the cache toggles', { timeout: 60_000 }, async () => {
    const tui = await startTui();
    expect(statusBar(tui.started)).toContain('cache off');
    expect(statusBar(tui.started)).not.toContain('no-cache');

    // A first request passes, and its row shows up in the list.
    expect(await get(tui, '/first')).toEqual({ status: 200, body: 'origin /first' });
    await tui.waitForScreen(/GET\s+200\s+127\.0\.0\.1\s+\/first/, 'the finished /first flow');
    await tui.keys('g');
    let screen = await tui.waitForScreen((s) => selectedRow(s).includes('/first'), 'the /first flow selected');

    // b: block its host. The message line and the event log say so; the status bar counts the rule.
    await tui.keys('b');
    screen = await tui.waitForScreen('blocking 127.0.0.1', 'the block noted on the message line');
    await tui.waitForScreen((s) => statusBar(s).includes('rules 1'), 'the rule counted in the status bar');
    await tui.keys('L');
    // The log reaches the screen with the store's next (coalesced) notification.
    await tui.waitForScreen((s) => /event log \(\d+\)/.test(s) && /INFO\s+blocking 127\.0\.0\.1/.test(s), 'the block in the event log');
    await tui.keys('L');
    await tui.waitForScreen((s) => !/event log \(\d+\)/.test(s), 'the event log hidden again');

    // The next request to that host is refused by the proxy; the origin never sees it.
    const blocked = await get(tui, '/second');
    expect(blocked.status).toBe(403);
    expect(received).toEqual(['/first']);
    screen = await tui.waitForScreen(/GET\s+403\s+BLK\s+127\.0\.0\.1\s+\/second/, 'the blocked /second flow marked BLK');
    expect(rowWith(screen, '/first')).not.toContain('BLK');

    // p: the rules pane lists the block rule, added by the user, switched on.
    await tui.keys('p');
    screen = await tui.waitForScreen((s) => s.startsWith('Rules'), 'the rules pane');
    const rule = rowWith(screen, '127\\.0\\.0\\.1');
    expect(rule).toMatch(/\[x\] block\s+user\s+block ~d \^127\\\.0\\\.0\\\.1\$ with 403/);
    expect(screen).toMatch(/\[ \] cache\s+built-in/);

    // Space on it switches it off (the built-in toggles come first: G selects the last row).
    await tui.keys('G');
    await tui.waitForScreen((s) => selectedRow(s).includes('block ~d'), 'the block rule selected');
    await tui.keys('Space');
    // The row redraws from the rule list; the message line once the rule is saved.
    screen = await tui.waitForScreen(
      (s) => /^> \[ \] block\s+user/.test(selectedRow(s)) && s.includes('disabled block ~d ^127\\.0\\.0\\.1$ with 403'),
      'the block rule switched off',
    );
    expect(statusBar(screen)).not.toContain('rules 1');

    // Back in the list, a third request passes again.
    await tui.keys('q');
    await tui.waitForScreen((s) => s.includes('/second') && !s.startsWith('Rules'), 'the list again');
    expect(await get(tui, '/third')).toEqual({ status: 200, body: 'origin /third' });
    expect(received).toEqual(['/first', '/third']);
    screen = await tui.waitForScreen(/GET\s+200\s+127\.0\.0\.1\s+\/third/, 'the finished /third flow');
    expect(rowWith(screen, '/third')).not.toContain('BLK');

    // c: the response cache on; C: "no caching" on. The status bar shows both.
    await tui.keys('c');
    // The status bar follows the toggle at once; the message line once the setting is saved.
    await tui.waitForScreen((s) => statusBar(s).includes('cache on') && s.includes('response cache on'), 'cache on in the status bar');
    await tui.keys('C');
    screen = await tui.waitForScreen((s) => statusBar(s).includes('no-cache') && s.includes('no caching on'), 'no-cache in the status bar');
    expect(statusBar(screen)).toContain('cache on');
  });
});
