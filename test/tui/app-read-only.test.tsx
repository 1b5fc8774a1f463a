/**
 * The TUI over a recorded session without a proxy (`proxyctl open`, issue 7): the real App against
 * a SessionViewer. The status bar names the session, live-traffic keys refuse, marks work, and
 * replay (`r`) sends the request straight to a real origin and lists the answer as a new flow.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProxyCommand } from '../../src/proxy/core/commands.js';
import { SessionViewer } from '../../src/session-viewer.js';
import { READ_ONLY_MESSAGE } from '../../src/tui/read-only.js';
import { makeFlow } from '../helpers/make-flow.js';
import { KEYS, RecordingCommands, renderTui, type TuiHarness } from './harness.js';

/** RecordingCommands that hands every command to the viewer (and still records it). */
class ViewerCommands extends RecordingCommands {
  constructor(private readonly viewer: SessionViewer) {
    super();
  }
  override async execute(command: ProxyCommand) {
    this.sent.push(command);
    return this.viewer.execute(command);
  }
}

let h: TuiHarness | null = null;
let viewer: SessionViewer | null = null;
let origin: Server | null = null;
let originPort = 0;
const seen: string[] = [];

beforeEach(async () => {
  seen.length = 0;
  origin = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers['x-recorded'] ?? ''}`);
    res.writeHead(201, { 'Content-Type': 'text/plain' });
    res.end(`fresh answer for ${req.url}`);
  });
  await new Promise<void>((resolve) => origin!.listen(0, '127.0.0.1', resolve));
  originPort = (origin.address() as AddressInfo).port;
});

afterEach(async () => {
  h?.unmount();
  h = null;
  viewer?.close();
  viewer = null;
  await new Promise<void>((resolve) => (origin!.listening ? origin!.close(() => resolve()) : resolve()));
  origin = null;
});

async function open(): Promise<TuiHarness> {
  viewer = new SessionViewer({ storeNotifyMs: 0 });
  await viewer.load([
    makeFlow({ id: 'rec-1', request: { host: '127.0.0.1', port: originPort, path: '/first', headers: [['Host', `127.0.0.1:${originPort}`], ['X-Recorded', 'yes']] } }),
    // Recorded as failed: replaying it here still sends it (the answer is only shown).
    makeFlow({ id: 'rec-2', request: { host: '127.0.0.1', port: originPort, path: '/second' }, response: null, error: { code: 'UPSTREAM_REFUSED', message: 'refused' } }),
  ]);
  h = renderTui({ store: viewer.store, commands: new ViewerCommands(viewer), info: { listen: '', mode: '', session: 'demo', readOnly: true } });
  return h;
}

describe('a recorded session opened read-only', () => {
  it('names the session in the status bar instead of a listen address', async () => {
    const t = await open();
    const frame = await t.waitForFrame('session demo (read-only)');
    expect(frame).toContain('2 flows');
    expect(frame).not.toContain('127.0.0.1:8080');
    expect(frame).not.toContain('req/s');
  });

  it.each([
    ['c', 'cache toggle'],
    ['C', 'no-cache toggle'],
    ['i', 'intercept'],
    ['A', 'resume all'],
    ['a', 'resume'],
    ['x', 'kill'],
    ['b', 'block host'],
  ])('%s (%s) answers that it needs a proxy and sends nothing', async (key) => {
    const t = await open();
    await t.waitForFrame('2 flows');
    t.press(key);
    const frame = await t.waitForFrame(READ_ONLY_MESSAGE);
    expect(frame).not.toContain('intercept:');
    expect(t.commands.sent).toEqual([]);
  });

  it('refuses the rules pane toggles, but the pane opens', async () => {
    const t = await open();
    await t.waitForFrame('2 flows');
    t.press('p');
    await t.waitForFrame('Space:toggle');
    t.press(' ');
    await t.waitForFrame(READ_ONLY_MESSAGE);
    t.press('d');
    await t.waitForFrame(READ_ONLY_MESSAGE);
    expect(t.commands.sent).toEqual([]);
  });

  it('marks flows and filters them', async () => {
    const t = await open();
    await t.waitForFrame('2 flows');
    t.press('k', 'm');
    await t.waitForFrame((f) => /^>\*/m.test(f));
    t.press('f', '~marked', KEYS.enter);
    const frame = await t.waitForFrame('1/2 flows');
    expect(frame).toContain('/first');
    expect(frame).not.toContain('/second');
  });

  it('r replays straight to the origin and lists the answer as a new flow tagged replay-of', async () => {
    const t = await open();
    await t.waitForFrame('2 flows');
    t.press('k', 'r');
    await t.waitForFrame(`replaying GET http://127.0.0.1:${originPort}/first`);
    let frame = await t.waitForFrame((f) => f.includes('3 flows') && /POST|GET\s+201/.test(f), 'the replayed flow with its answer');
    expect(seen).toEqual(['GET /first yes']);
    const replayed = viewer!.store.list()[2]!;
    expect(replayed.tags).toEqual(['replay-of:rec-1']);
    expect(replayed.response?.status).toBe(201);
    expect(replayed.response?.body.bytes?.toString()).toBe('fresh answer for /first');
    // The flag column marks replays (R).
    expect(frame.split('\n').find((l) => l.includes('201'))).toMatch(/R\s*$/);

    // A flow recorded as failed is sent again too.
    t.press('g', 'j', 'r');
    frame = await t.waitForFrame((f) => f.includes('4 flows') && (f.match(/201/g) ?? []).length === 2, 'the second replay');
    expect(seen).toEqual(['GET /first yes', 'GET /second ']);
    expect(viewer!.store.list()[3]!.tags).toEqual(['replay-of:rec-2']);
  });

  it('a replay that fails shows the error on the new flow', async () => {
    const t = await open();
    await t.waitForFrame('2 flows');
    // The origin goes away: its port now refuses connections. (A fresh server, unused, for afterEach.)
    await new Promise<void>((resolve) => origin!.close(() => resolve()));
    origin = createServer();
    t.press('k', 'r');
    // rec-2 was recorded as failed: the replay is the second row in error.
    await t.waitForFrame((f) => f.includes('3 flows') && (f.match(/ERR/g) ?? []).length === 2, 'the failed replay');
    const replayed = viewer!.store.list()[2]!;
    expect(replayed.error?.code).toBe('UPSTREAM_REFUSED');
    t.press('L');
    await t.waitForFrame('replay of rec-1 failed: UPSTREAM_REFUSED');
  });
});
