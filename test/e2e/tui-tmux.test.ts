/**
 * The real TUI in a real terminal: `node bin/proxyctl.js start --port 0` inside a detached tmux
 * session (120x40), driven with `send-keys` and read back with `capture-pane` (test/helpers/tmux.ts).
 * Needs the built CLI (dist/), tmux and curl.
 *
 * Each test gets a tmux server of its own (`-S SOCKET`), so nothing leaks into a user's tmux and
 * `killAllTuis()` in afterEach ends the proxy with it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { curl } from '../helpers/curl.js';
import { killAllTuis, PROMPT, startTui } from '../helpers/tmux.js';

let origin: Server | null = null;

describe('TUI in tmux', () => {
  beforeEach(async () => {
    origin = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Origin': 'e2e-origin' });
      res.end(`hello from ${req.url}\n`);
    });
    await new Promise<void>((resolve) => origin!.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    await killAllTuis();
    await new Promise<void>((resolve) => (origin ? origin.close(() => resolve()) : resolve()));
    origin = null;
  });

  it('shows flows live, opens one, filters, and restores the terminal on q', { timeout: 90_000 }, async () => {
    const originPort = (origin!.address() as AddressInfo).port;
    // A home holding the pregenerated fixture CA: start-up makes no RSA key.
    const tui = await startTui();
    const { port, started } = tui;
    expect(started).toMatch(/regular 127\.0\.0\.1:\d+/);
    expect(started).toContain('0 flows');

    const hello = await curl(['-x', `http://127.0.0.1:${port}`, `http://127.0.0.1:${originPort}/hello`]);
    expect(hello.code).toBe(0);
    expect(hello.stdout.toString()).toBe('hello from /hello\n');
    // The row may first show the flow in flight (status …); wait for the finished one.
    let screen = await tui.waitForScreen(/GET\s+200\s+127\.0\.0\.1\s+\/hello/, 'the finished /hello flow');
    expect(screen).toContain('1 flow');

    // Enter opens the flow: the request tab lists its headers.
    await tui.keys('Enter');
    screen = await tui.waitForScreen((s) => s.includes('[Request]') && s.includes('Headers ('), 'the request headers');
    expect(screen).toMatch(/User-Agent\s+curl\//);
    await tui.keys('Tab');
    screen = await tui.waitForScreen('[Response]', 'the response tab');
    expect(screen).toMatch(/X-Origin\s+e2e-origin/);
    expect(screen).toContain('hello from /hello');
    await tui.keys('q');
    await tui.waitForScreen('q:quit', 'the list again');

    // A second flow, then a filter that keeps only the first.
    const other = await curl(['-x', `http://127.0.0.1:${port}`, `http://127.0.0.1:${originPort}/other`]);
    expect(other.code).toBe(0);
    await tui.waitForScreen((s) => s.includes('/other') && s.includes('2 flows'), 'the /other flow');
    await tui.keys('f');
    await tui.waitForScreen('filter:', 'the filter prompt');
    await tui.type('~u hello');
    await tui.keys('Enter');
    screen = await tui.waitForScreen('1/2 flows', 'the filtered list');
    expect(screen).toContain('/hello');
    expect(screen).not.toContain('/other');
    expect(screen).toContain('filter ~u hello');

    // q quits: the alternate screen is left and the shell prompt is back.
    await tui.keys('q');
    screen = await tui.waitForScreen((s) => !s.includes('flows │') && s.trimEnd().endsWith(PROMPT.trim()), 'the shell prompt after quitting', 20_000);
    expect(screen).toContain('node bin/proxyctl.js start --port 0');
    expect(screen).not.toContain('q:quit');
  });
});
