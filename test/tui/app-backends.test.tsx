/**
 * Issue 8 in the TUI: the backends pane (`B`) listing each backend's group, URL, state (with how
 * long and why), weight, requests in flight, requests and failures, refreshed while open; and the
 * status bar's "backends N/M up" in reverse mode.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendStatus } from '../../src/proxy/reverse/status.js';
import { KEYS, renderTui, type TuiHarness } from './harness.js';

let h: TuiHarness | null = null;
afterEach(() => {
  h?.unmount();
  h = null;
});

const NOW = Date.now();

function backend(b: Partial<BackendStatus> & Pick<BackendStatus, 'url'>): BackendStatus {
  return { group: 'default', weight: 1, healthy: true, inFlight: 0, requests: 0, failures: 0, since: null, reason: null, ...b };
}

/** A fake of `Runtime.backends()`: returns whatever the test last put in `current`. */
function source(initial: BackendStatus[]) {
  const s = { current: initial, reads: 0, read: (): readonly BackendStatus[] => (s.reads++, s.current) };
  return s;
}

const rowWith = (frame: string, text: string) => frame.split('\n').find((l) => l.includes(text)) ?? '';
const statusBar = (frame: string) => frame.split('\n').find((l) => l.includes('req/s')) ?? '';

async function openPane(t: TuiHarness): Promise<string> {
  await t.waitForFrame('no flows yet');
  t.press('B');
  return t.waitForFrame((f) => f.startsWith('Backends'), 'the backends pane');
}

describe('backends pane', () => {
  it('lists each backend with its group, URL, state, weight and counts', async () => {
    const s = source([
      backend({ url: 'http://127.0.0.1:3001', weight: 3, inFlight: 2, requests: 120, failures: 1, since: NOW - 90_000 }),
      backend({ url: 'http://127.0.0.1:3002', healthy: false, requests: 40, failures: 7, since: NOW - 12_000, reason: 'GET /healthz: connection refused' }),
      backend({ group: 'api.local', url: 'http://127.0.0.1:3003', weight: 2, requests: 5 }),
    ]);
    h = renderTui({ columns: 140, rows: 20, backends: s.read });
    const frame = await openPane(h);
    expect(frame).toContain('3 backends, 2 up');
    expect(rowWith(frame, 'GROUP')).toMatch(/GROUP\s+URL\s+STATE\s+WEIGHT\s+IN FLIGHT\s+REQUESTS\s+FAILURES\s+REASON/);
    expect(rowWith(frame, ':3001')).toMatch(/default\s+http:\/\/127\.0\.0\.1:3001\s+UP for 1m\s+3\s+2\s+120\s+1\s*$/);
    expect(rowWith(frame, ':3002')).toMatch(/default\s+http:\/\/127\.0\.0\.1:3002\s+DOWN for 1\ds\s+1\s+0\s+40\s+7\s+GET \/healthz: connection refused/);
    expect(rowWith(frame, ':3003')).toMatch(/api\.local\s+http:\/\/127\.0\.0\.1:3003\s+UP\s+2\s+0\s+5\s+0\s*$/);
    expect(frame).toContain('q:back');
  });

  it('refreshes while open', { timeout: 10_000 }, async () => {
    const s = source([backend({ url: 'http://127.0.0.1:3001', requests: 1 }), backend({ url: 'http://127.0.0.1:3002', requests: 1 })]);
    h = renderTui({ columns: 140, rows: 20, backends: s.read });
    await openPane(h);
    s.current = [backend({ url: 'http://127.0.0.1:3001', requests: 57, inFlight: 4 }), backend({ url: 'http://127.0.0.1:3002', healthy: false, since: Date.now(), reason: 'timed out after 1000 ms', requests: 9, failures: 3 })];
    const frame = await h.waitForFrame((f) => rowWith(f, ':3001').includes('57'), 'the new counts', 3000);
    expect(rowWith(frame, ':3001')).toMatch(/UP\s+1\s+4\s+57\s+0/);
    expect(rowWith(frame, ':3002')).toMatch(/DOWN for \ds\s+1\s+0\s+9\s+3\s+timed out after 1000 ms/);
    expect(frame).toContain('2 backends, 1 up');
  });

  it('Esc, q and B close it, back to the view it opened over', async () => {
    const s = source([backend({ url: 'http://127.0.0.1:3001' })]);
    h = renderTui({ columns: 120, rows: 20, backends: s.read });
    for (const key of [KEYS.esc, 'q', 'B']) {
      await openPane(h);
      h.press(key);
      await h.waitForFrame((f) => f.includes('no flows yet') && !f.startsWith('Backends'), `the list after ${JSON.stringify(key)}`);
    }
    // q in the list still quits: the pane's q did not leak into it.
    h.press('q');
    await h.exited;
  });

  it('says it is not in reverse mode when there are no backends', async () => {
    h = renderTui({ columns: 120, rows: 20, backends: () => [] });
    const frame = await openPane(h);
    expect(frame).toContain('Not in reverse mode');
    expect(statusBar(frame)).not.toContain('backends');
  });

  it('says the same without a backends source (a recorded session)', async () => {
    h = renderTui({ columns: 120, rows: 20 });
    const frame = await openPane(h);
    expect(frame).toContain('Not in reverse mode');
  });

  it('scrolls when there are more backends than rows', async () => {
    const many = Array.from({ length: 30 }, (_, i) => backend({ url: `http://127.0.0.1:${4000 + i}` }));
    h = renderTui({ columns: 120, rows: 16, backends: source(many).read });
    let frame = await openPane(h);
    expect(frame).toContain(':4000');
    expect(frame).not.toContain(':4029');
    h.press('G');
    frame = await h.waitForFrame(':4029', 'the last backend');
    expect(frame).not.toContain(':4000');
    h.press('g');
    await h.waitForFrame(':4000', 'the first backend again');
    h.press('j');
    frame = await h.waitForFrame((f) => !f.includes(':4000 ') && f.includes(':4001'), 'one row down');
  });

  it('is in the help overlay', async () => {
    h = renderTui({ columns: 140, rows: 80 });
    await h.waitForFrame('no flows yet');
    h.press('?');
    const frame = await h.waitForFrame('Backends pane', 'the help overlay');
    expect(frame).toMatch(/B\s+show the backends \(reverse mode\)/);
    expect(frame).toMatch(/q, Esc, B\s+close the backends pane/);
  });
});

describe('status bar in reverse mode', () => {
  it('shows how many backends are up, and follows changes with the pane closed', { timeout: 10_000 }, async () => {
    const s = source([backend({ url: 'http://127.0.0.1:3001' }), backend({ url: 'http://127.0.0.1:3002' }), backend({ url: 'http://127.0.0.1:3003' })]);
    h = renderTui({ columns: 140, rows: 20, backends: s.read });
    let frame = await h.waitForFrame('no flows yet');
    expect(statusBar(frame)).toContain('backends 3/3 up');
    s.current = s.current.map((b, i) => (i === 1 ? { ...b, healthy: false, since: Date.now(), reason: 'refused' } : b));
    frame = await h.waitForFrame((f) => statusBar(f).includes('backends 2/3 up'), 'the status bar update', 3000);
    expect(frame).toContain('no flows yet');
  });

  it('shows nothing about backends outside reverse mode', async () => {
    h = renderTui({ columns: 140, rows: 20, backends: () => [] });
    const frame = await h.waitForFrame('no flows yet');
    expect(statusBar(frame)).not.toContain('backends');
  });
});
