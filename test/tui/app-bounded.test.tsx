/**
 * Bounded memory in the TUI (issue 7): the list scrolls past the flows held in memory into older
 * ones read back from the session, a flow whose body the store let go of opens with its body read
 * back, filters cover the older flows, and exports of an older flow carry its body. Rendered
 * against a real store wired to a real recorder (test/unit/store/recording-store.ts).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/proxy/core/flow.js';
import { isInSession } from '../../src/store/session-bodies.js';
import { blobPath } from '../../src/store/session-paths.js';
import { body, makeFlow } from '../helpers/make-flow.js';
import { recordingStore, type RecordingStore } from '../unit/store/recording-store.js';
import { KEYS, renderTui, type TuiHarness } from './harness.js';

let h: TuiHarness | null = null;
let rs: RecordingStore | null = null;
let dir = '';
afterEach(async () => {
  h?.unmount();
  h = null;
  await rs?.close();
  rs = null;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = '';
});

/** Flow `i`: GET /b/i answered with 300 bytes of text that start `#i#`. */
function numbered(i: number): Flow {
  const text = Buffer.alloc(300, 'z');
  text.write(`#${i}# body of flow ${i} `);
  return makeFlow({ id: `f${String(i).padStart(4, '0')}`, request: { path: `/b/${i}` }, response: { headers: [['Content-Type', 'text/plain']], body: body(text) } });
}

/** 100 recorded flows, 20 held in memory, bodies beyond 2000 bytes let go of. */
async function start(): Promise<TuiHarness> {
  rs = await recordingStore({ maxFlows: 20, maxBodyBytes: 2000 });
  for (let i = 0; i < 100; i++) rs.push(numbered(i));
  dir = await mkdtemp(join(tmpdir(), 'proxyctl-tui-bounded-'));
  h = renderTui({ store: rs.store, rows: 20, exportDir: dir });
  return h;
}

const selectedRow = (frame: string) => frame.split('\n').find((l) => l.startsWith('>')) ?? '';

describe('a session longer than the store holds', () => {
  it('lists every flow, scrolls into the older ones and opens one whose body was let go of', async () => {
    const t = await start();
    let frame = await t.waitForFrame('100 flows');
    expect(selectedRow(frame)).toContain('/b/99');
    // Memory holds the newest 20; flow 0 is only in the session, without its bytes.
    expect(rs!.store.list()).toHaveLength(20);
    expect(rs!.store.list()[0]!.id).toBe('f0080');
    expect(isInSession(rs!.store.list()[0]!.response!.body)).toBe(true);

    t.press('g');
    frame = await t.waitForFrame((f) => selectedRow(f).includes('/b/0 '), 'the oldest flow, read from the session');
    expect(frame).toContain('/b/1 ');
    t.press('j', 'j', 'j');
    await t.waitForFrame((f) => selectedRow(f).includes('/b/3 '), 'flow 3 selected');
    t.press(KEYS.enter);
    t.press(KEYS.tab); // the response tab
    frame = await t.waitForFrame('#3# body of flow 3', 'the body read back from its blob');
    expect(frame).toContain('text/plain');
    expect(frame).not.toContain('loading the body');

    // The older flow exports with its body (the selection is the flow read back whole).
    t.press('E');
    await t.waitForFrame('export 100 flows in view');
    t.press(KEYS.tab);
    await t.waitForFrame('export the selected flow');
    t.press('h');
    await t.waitForFrame('as har to: ');
    t.press('\x15', 'old.har', KEYS.enter);
    await t.waitForFrame('exported 1 flow to ./old.har');
    const har = JSON.parse(await readFile(join(dir, 'old.har'), 'utf8')) as { log: { entries: Array<{ request: { url: string }; response: { content: { text?: string } } }> } };
    expect(har.log.entries).toHaveLength(1);
    expect(new URL(har.log.entries[0]!.request.url).pathname).toBe('/b/3');
    expect(har.log.entries[0]!.response.content.text).toContain('#3# body of flow 3');

    // r sends the older flow's id; the command API reads it back whole (see bounded-store.test.ts).
    t.press('r');
    await t.waitForFrame('replay started');
    expect(t.commands.sent.at(-1)).toEqual({ type: 'replay', flowId: 'f0003' });
  });

  it('says so when the body cannot be read back (its blob is gone)', async () => {
    const t = await start();
    await t.waitForFrame('100 flows');
    const gone = rs!.store.list()[0]!; // f0080, held without its bytes
    await rm(blobPath(rs!.dir, gone.response!.body.sha256!));
    t.press('g');
    await t.waitForFrame((f) => selectedRow(f).includes('/b/0 '));
    for (let i = 0; i < 80; i++) t.press('j');
    await t.waitForFrame((f) => selectedRow(f).includes('/b/80 '), 'flow 80 selected');
    t.press(KEYS.enter, KEYS.tab);
    const frame = await t.waitForFrame('cannot read the body back from the session', 'the read error');
    expect(frame).toMatch(/blob [0-9a-f]{64} is\s+missing|body blob/);
  });

  it('filters the older flows too, in the background; a body filter reads the bodies back', async () => {
    const t = await start();
    await t.waitForFrame('100 flows');
    t.press('f');
    await t.waitForFrame('filter:');
    t.press('~u /b/1', KEYS.enter);
    // /b/1 and /b/10 … /b/19 are all older than the held flows (80 … 99).
    let frame = await t.waitForFrame('11/100 flows', 'the filter over older flows');
    expect(frame).not.toContain('filtering older flows');
    t.press('g');
    frame = await t.waitForFrame((f) => selectedRow(f).includes('/b/1 '));
    expect(frame).toContain('/b/19 ');

    t.press('f', '\x15', '~bs "#(5|85)# body"', KEYS.enter);
    frame = await t.waitForFrame('2/100 flows', 'the body filter (flow 5 on disk, flow 85 held without its bytes)');
    expect(frame).toContain('/b/5 ');
    expect(frame).toContain('/b/85 ');
  });
});
