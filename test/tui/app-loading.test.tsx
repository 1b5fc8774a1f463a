/**
 * Older flows the store is still reading back from the session (issue 7) say "loading…" instead
 * of showing a blank row or claiming the flow is gone; a flow that really is gone (cleared) still
 * says so. The list is rendered in the real App against a real store wired to a real recorder;
 * the detail view's two messages are rendered on their own.
 */
import { render } from 'ink';
import { afterEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/proxy/core/flow.js';
import { DetailView } from '../../src/tui/components/detail-view.js';
import { EMPTY_DOC } from '../../src/tui/doc.js';
import { initialDetailState } from '../../src/tui/state/detail-state.js';
import { ThemeContext, monoTheme } from '../../src/tui/theme.js';
import { body, makeFlow } from '../helpers/make-flow.js';
import { recordingStore, type RecordingStore } from '../unit/store/recording-store.js';
import { FakeStdout, KEYS, renderTui, type TuiHarness } from './harness.js';

let h: TuiHarness | null = null;
let rs: RecordingStore | null = null;
const unmounts: Array<() => void> = [];
afterEach(async () => {
  h?.unmount();
  h = null;
  for (const u of unmounts.splice(0)) u();
  await rs?.close();
  rs = null;
});

function numbered(i: number): Flow {
  return makeFlow({ id: `f${String(i).padStart(4, '0')}`, request: { path: `/b/${i}` }, response: { body: body(`#${i}#`) } });
}

/** 100 recorded flows, the newest 20 held in memory. */
async function start(): Promise<TuiHarness> {
  rs = await recordingStore({ maxFlows: 20 });
  for (let i = 0; i < 100; i++) rs.push(numbered(i));
  h = renderTui({ store: rs.store, rows: 20 });
  return h;
}

const selectedRow = (frame: string) => frame.split('\n').find((l) => l.startsWith('>')) ?? '';

describe('older flows not read back yet', () => {
  it('the list shows a dim "loading…" row for each, selectable, until the rows arrive', async () => {
    const t = await start();
    await t.waitForFrame('100 flows');
    const before = t.stdout.frames.length;
    // The oldest flows were never shown: their rows are read in the background after this frame.
    t.press('g');
    const frame = await t.waitForFrame((f) => selectedRow(f).includes('/b/0 '), 'the oldest rows read back');
    expect(frame).not.toContain('loading…');
    const waiting = t.stdout.frames.slice(before).find((f) => f.includes('loading…'));
    expect(waiting, 'a frame drawn before the rows arrived').toBeDefined();
    const rows = waiting!.split('\n');
    // Every flow row on screen is a placeholder (none of them was read), the selection included.
    const placeholders = rows.filter((l) => /^[> ] {2}loading…\s*$/.test(l));
    expect(placeholders.length).toBeGreaterThanOrEqual(10);
    expect(selectedRow(waiting!)).toMatch(/^> {2}loading…/);
    expect(waiting).not.toMatch(/\/b\/\d/);
  });

  it('a flow that is really gone (cleared) still says so in the detail view', async () => {
    const t = await start();
    await t.waitForFrame('100 flows');
    t.press('g');
    await t.waitForFrame((f) => selectedRow(f).includes('/b/0 '));
    t.press(KEYS.enter);
    await t.waitForFrame('[Request]');
    rs!.store.clear();
    await t.waitForFrame('This flow is no longer held (cleared or evicted). Press q to go back.');
    expect(t.lastFrame()).not.toContain('loading');
  });
});

describe('DetailView without its flow', () => {
  function draw(loading: boolean | undefined): string {
    const stdout = new FakeStdout(80, 10);
    const instance = render(
      <ThemeContext.Provider value={monoTheme}>
        <DetailView flow={undefined} {...(loading === undefined ? {} : { loading })} now={0} tabs={[]} state={initialDetailState} doc={EMPTY_DOC} width={80} height={6} />
      </ThemeContext.Provider>,
      { stdout: stdout as unknown as NodeJS.WriteStream, debug: true, patchConsole: false },
    );
    unmounts.push(() => {
      instance.unmount();
      instance.cleanup();
    });
    return stdout.frames.at(-1) ?? '';
  }

  it.each([
    [true, 'loading the flow from the session…'],
    [false, 'This flow is no longer held (cleared or evicted). Press q to go back.'],
    [undefined, 'This flow is no longer held (cleared or evicted). Press q to go back.'],
  ])('loading=%s says %s', (loading, text) => {
    const frame = draw(loading);
    expect(frame).toContain(text);
    if (loading) expect(frame).not.toContain('no longer held');
  });
});
