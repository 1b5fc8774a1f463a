/** The flow list and its filter, rendered against a real store (see harness.tsx). */
import { afterEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/proxy/core/flow.js';
import { FlowStore } from '../../src/store/flow-store.js';
import { makeFlow, type DeepPartial } from '../helpers/make-flow.js';
import { KEYS, renderTui, type TuiHarness } from './harness.js';

let h: TuiHarness | null = null;
afterEach(() => {
  h?.unmount();
  h = null;
});

function start(opts: Parameters<typeof renderTui>[0] = {}): TuiHarness {
  h = renderTui(opts);
  return h;
}

const flow = (path: string, more: DeepPartial<Flow> = {}) => makeFlow({ ...more, request: { path, ...more.request } });
/** The list row marked as selected. */
const selectedRow = (frame: string) => frame.split('\n').find((l) => l.startsWith('>')) ?? '';
const rowsOf = (frame: string) => frame.split('\n').filter((l) => /^[> ][* ] /.test(l) && /\b(GET|POST|PUT)\b/.test(l));

describe('flow list', () => {
  it('shows flows live as they arrive, newest at the bottom and selected', async () => {
    const t = start();
    await t.waitForFrame('no flows yet');
    t.store.add(flow('/first'));
    await t.waitForFrame('/first');
    t.store.add(flow('/second', { response: { status: 404 } }));
    const frame = await t.waitForFrame('/second');
    const rows = rowsOf(frame);
    expect(rows.map((r) => (r.includes('/first') ? 'first' : 'second'))).toEqual(['first', 'second']);
    expect(selectedRow(frame)).toContain('/second');
    expect(selectedRow(frame)).toContain('404');
    expect(frame).toContain('2 flows');
  });

  it('keeps the selection on its flow when new flows arrive', async () => {
    const t = start({ rows: 12 });
    for (let i = 0; i < 5; i++) t.store.add(flow(`/old-${i}`));
    await t.waitForFrame((f) => selectedRow(f).includes('/old-4'));
    t.press('k', 'k');
    await t.waitForFrame((f) => selectedRow(f).includes('/old-2'));
    for (let i = 0; i < 30; i++) t.store.add(flow(`/new-${i}`));
    const frame = await t.waitForFrame('35 flows');
    expect(selectedRow(frame)).toContain('/old-2');
    // Going to the bottom follows the tail again.
    t.press('G');
    await t.waitForFrame((f) => selectedRow(f).includes('/new-29'));
    t.store.add(flow('/newest'));
    await t.waitForFrame((f) => selectedRow(f).includes('/newest'));
  });

  it('pages and jumps to the top', async () => {
    const t = start({ rows: 12 });
    for (let i = 0; i < 50; i++) t.store.add(flow(`/p-${i}`));
    await t.waitForFrame((f) => selectedRow(f).includes('/p-49'));
    t.press('g');
    await t.waitForFrame((f) => selectedRow(f).includes('/p-0 '));
    t.press(KEYS.pgdn);
    const frame = await t.waitForFrame((f) => !selectedRow(f).includes('/p-0 '));
    expect(rowsOf(frame)[0]).not.toContain('/p-0 ');
  });

  it('renders 100,000 flows, drawing only the rows in view', async () => {
    const store = new FlowStore({ notifyIntervalMs: 0, maxFlows: 200_000 });
    const base = makeFlow();
    for (let i = 0; i < 100_000; i++) {
      store.add({ ...base, id: `f${i}`, request: { ...base.request, path: `/n/${i}` }, response: { ...base.response!, status: i % 7 === 0 ? 500 : 200 } });
    }
    const t = start({ store, rows: 30 });
    // Bounds are generous for a loaded machine; the assertions are about what is drawn, not speed.
    let frame = await t.waitForFrame('100000 flows', undefined, 20_000);
    expect(selectedRow(frame)).toContain('/n/99999');
    expect(rowsOf(frame)).toHaveLength(26);
    t.press('g');
    frame = await t.waitForFrame((f) => selectedRow(f).includes('/n/0 '), 'the first flow selected', 20_000);
    expect(rowsOf(frame)[25]).toContain('/n/25 ');
    t.press('f');
    await t.waitForFrame('filter:', undefined, 20_000);
    t.press('~c 500', KEYS.enter);
    frame = await t.waitForFrame('14286/100000 flows', undefined, 20_000);
    expect(rowsOf(frame).every((r) => r.includes('500'))).toBe(true);
    expect(selectedRow(frame)).toContain('/n/0 ');
  });

  it('fits 80x24', async () => {
    const t = start({ columns: 80, rows: 24 });
    for (let i = 0; i < 40; i++) t.store.add(flow(`/an/uncomfortably/long/path/for/eighty/columns?with=query&i=${i}`, { request: { scheme: 'https', host: 'a-rather-long-host-name.example.com' } }));
    const frame = await t.waitForFrame('40 flows');
    const lines = frame.split('\n');
    expect(lines).toHaveLength(23);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(rowsOf(frame)).toHaveLength(20);
    expect(selectedRow(frame)).toContain('i=39');
    expect(frame).toContain('127.0.0.1:8080');
    expect(frame).toContain('q:quit');
  });

  it('adapts to a resize', async () => {
    const t = start({ columns: 100, rows: 30 });
    t.store.add(flow('/r'));
    await t.waitForFrame('/r');
    t.stdout.resize(60, 15);
    const frame = await t.waitForFrame((f) => f.split('\n').length === 14);
    for (const l of frame.split('\n')) expect(l.length).toBeLessThanOrEqual(60);
  });
});

describe('filters', () => {
  async function withFlows() {
    const t = start();
    t.store.add(flow('/a', { request: { host: 'api.example' } }));
    t.store.add(flow('/b', { request: { host: 'cdn.example' } }));
    t.store.add(flow('/c', { request: { host: 'api.example' } }));
    await t.waitForFrame('3 flows');
    return t;
  }

  it('narrows the list and clears with an empty filter', async () => {
    const t = await withFlows();
    t.press('f');
    await t.waitForFrame('filter:');
    t.press('~d api', KEYS.enter);
    let frame = await t.waitForFrame('2/3 flows');
    expect(rowsOf(frame).map((r) => r.match(/\/[abc]\b/)?.[0])).toEqual(['/a', '/c']);
    expect(frame).toContain('filter ~d api');
    t.press('f');
    await t.waitForFrame('filter: ~d api');
    t.press('\x15', KEYS.enter); // Ctrl-U empties the line
    frame = await t.waitForFrame((f) => f.includes('3 flows') && !f.includes('/3 flows'));
    expect(rowsOf(frame)).toHaveLength(3);
  });

  it('extends the filtered view as matching flows arrive', async () => {
    const t = await withFlows();
    t.press('f');
    await t.waitForFrame('filter:');
    t.press('~d api', KEYS.enter);
    await t.waitForFrame('2/3 flows');
    t.store.add(flow('/d', { request: { host: 'api.example' } }));
    t.store.add(flow('/e', { request: { host: 'cdn.example' } }));
    const frame = await t.waitForFrame('3/5 flows');
    expect(selectedRow(frame)).toContain('/d');
  });

  it('shows a caret under a syntax error and keeps the previous filter', async () => {
    const t = await withFlows();
    t.press('f');
    await t.waitForFrame('filter:');
    t.press('~d cdn', KEYS.enter);
    await t.waitForFrame('1/3 flows');
    t.press('f');
    await t.waitForFrame('filter: ~d cdn');
    t.press(' & (~m GET', KEYS.enter);
    const frame = await t.waitForFrame((f) => f.includes('^'));
    const lines = frame.split('\n');
    const promptLine = lines.findIndex((l) => l.startsWith('filter: ~d cdn & (~m GET'));
    expect(promptLine).toBeGreaterThan(0);
    const caretLine = lines[promptLine + 1]!;
    expect(caretLine.indexOf('^')).toBe('filter: ~d cdn & '.length);
    expect(frame).toContain('1/3 flows');
    expect(frame).toContain('filter ~d cdn');
    // Esc gives up; the old filter stays.
    t.press(KEYS.esc);
    const after = await t.waitForFrame((f) => !f.includes('^'));
    expect(after).toContain('1/3 flows');
  });

  it('says so when nothing matches', async () => {
    const t = await withFlows();
    t.press('f');
    await t.waitForFrame('filter:');
    t.press('~d nowhere', KEYS.enter);
    await t.waitForFrame('no flows match ~d nowhere');
  });
});
