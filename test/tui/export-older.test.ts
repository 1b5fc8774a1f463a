/**
 * `E` over a store that keeps only the newest flows in memory (issue 7): every scope exports its
 * flows whole, older ones read back from the session on disk and held ones whose bodies the store
 * let go of read back too, with `exporting N/M…` on the message line while it reads. Driven
 * through the export commands with the deps the app builds each frame, over a real store wired to
 * a real recorder (test/unit/store/recording-store.ts); the HAR written is parsed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/proxy/core/flow.js';
import { parseFilter } from '../../src/proxy/filter/index.js';
import { isInSession } from '../../src/store/session-bodies.js';
import type { CommandDeps } from '../../src/tui/commands.js';
import { chooseFormat, openExport, submitExport } from '../../src/tui/export/export-commands.js';
import { FilterIndex } from '../../src/tui/list/filter-index.js';
import { appReducer, initialAppState, type AppAction } from '../../src/tui/state/app-state.js';
import { body, makeFlow } from '../helpers/make-flow.js';
import { recordingStore, until, type RecordingStore } from '../unit/store/recording-store.js';
import { RecordingCommands } from './harness.js';

let rs: RecordingStore | null = null;
let dir = '';
afterEach(async () => {
  await rs?.close();
  rs = null;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = '';
});

/** Flow `i`: GET /b/i answered with 300 bytes of text starting `#i#`; `post` sends a request body too. */
function numbered(i: number, more: { marked?: boolean; post?: boolean } = {}): Flow {
  const text = Buffer.alloc(300, 'z');
  text.write(`#${i}# body of flow ${i} `);
  return makeFlow({
    id: `f${String(i).padStart(4, '0')}`,
    marked: more.marked ?? false,
    request: more.post ? { method: 'POST', path: `/b/${i}`, headers: [['Host', 'example.com'], ['Content-Type', 'text/plain']], body: body(`request ${i} sent this`) } : { path: `/b/${i}` },
    response: { headers: [['Content-Type', 'text/plain']], body: body(text) },
  });
}

/** 100 recorded flows (flow 3 recorded marked, with a request body), 20 held, bodies beyond 2000 bytes let go of. */
async function start(): Promise<RecordingStore> {
  rs = await recordingStore({ maxFlows: 20, maxBodyBytes: 2000 });
  for (let i = 0; i < 100; i++) rs.push(numbered(i, i === 3 ? { marked: true, post: true } : {}));
  dir = await mkdtemp(join(tmpdir(), 'proxyctl-tui-export-older-'));
  return rs;
}

/**
 * The deps the app would build for the current snapshot (its `read` passed as the export's), with
 * dispatched actions folded into `state` by the app's reducer and kept in `actions`.
 */
function appDeps(store: RecordingStore['store'], filter: string | null) {
  const parsed = filter === null ? null : parseFilter(filter);
  if (parsed && !parsed.ok) throw new Error(`bad filter ${filter}`);
  const index = new FilterIndex(parsed ? parsed.predicate : null);
  const actions: AppAction[] = [];
  const deps: CommandDeps = {
    state: initialAppState,
    dispatch: (a) => {
      actions.push(a);
      deps.state = appReducer(deps.state, a);
    },
    index,
    flowAt: () => undefined,
    heldCount: 0,
    toggles: { cache: false, noCache: false, intercept: null },
    commands: new RecordingCommands(),
    listHeight: 20,
    detailHeight: 20,
    helpLength: 0,
    helpHeight: 10,
    rules: [],
    rulesHeight: 10,
    detail: null,
    copy: () => {},
    quit: () => {},
  };
  /** A new frame: the newest snapshot, the index synced to it. */
  const frame = () => {
    const snap = store.getSnapshot();
    index.sync(snap);
    deps.flowAt = snap.at;
    deps.heldCount = snap.count;
    deps.exportTo = { dir, label: 's', read: snap.read };
    return deps;
  };
  frame();
  return { deps, actions, index, frame };
}

type Deps = ReturnType<typeof appDeps>;

/** `E`, Tab until `scope` in the prompt, `h`, then Enter on `file`; resolves with the closing note. */
async function exportHar(t: Deps, file: string, scopeText: string): Promise<string> {
  openExport(t.frame());
  for (let i = 0; i < 3 && !exportLabel(t).startsWith(scopeText); i++) t.deps.dispatch({ type: 'export', action: { type: 'scope-next' } });
  expect(exportLabel(t)).toContain(scopeText);
  chooseFormat(t.frame(), 'har');
  expect(submitExport(t.frame(), file)).toBeNull();
  const note = await until(() => t.actions.find((a): a is Extract<AppAction, { type: 'note' }> => a.type === 'note'), 'the export finished', 20_000);
  return note.text;
}

/** What the export step would say it exports (`3 marked flows`, `11 flows in view`). */
function exportLabel(t: Deps): string {
  const x = t.deps.state.export;
  if (!x) return '';
  return x.scope === 'marked' ? `${x.counts.marked} marked` : x.scope === 'view' ? `${x.counts.view} flows in view` : 'the selected flow';
}

interface HarEntry {
  request: { method: string; url: string; postData?: { text: string } };
  response: { content: { text?: string; size: number } };
}

async function harEntries(file: string): Promise<HarEntry[]> {
  const doc = JSON.parse(await readFile(join(dir, file), 'utf8')) as { log: { entries: HarEntry[] } };
  return doc.log.entries;
}

const pathOf = (e: HarEntry) => new URL(e.request.url).pathname;

/** Every entry carries its own flow's response body, whole. */
function expectBodies(entries: HarEntry[]): void {
  for (const e of entries) {
    const i = pathOf(e).split('/').pop();
    expect(e.response.content.text, `body of ${pathOf(e)}`).toContain(`#${i}# body of flow ${i}`);
    expect(e.response.content.text).toHaveLength(300);
  }
}

const progressTexts = (t: Deps) => t.actions.flatMap((a) => (a.type === 'message' && a.text.startsWith('exporting ') ? [a.text] : []));

describe('E over a store that keeps older flows on disk', () => {
  it('exports the filtered view whole: older flows from the session, held ones whose bodies were let go of', async () => {
    const r = await start();
    // /b/8 is older than the held flows; /b/80 … /b/89 are held, most without their bytes.
    const held = r.store.list();
    expect(held[0]!.id).toBe('f0080');
    expect(isInSession(held[5]!.response!.body)).toBe(true);
    const t = appDeps(r.store, '~u /b/8');
    await until(() => t.frame() && t.index.coverage?.done && t.index.length === 11, 'the filter covered the older flows');

    const text = await exportHar(t, 'view.har', '11 flows in view');
    expect(text).toBe('exported 11 flows to ./view.har (nothing to redact)');
    const entries = await harEntries('view.har');
    expect(entries.map(pathOf)).toEqual(['/b/8', '/b/80', '/b/81', '/b/82', '/b/83', '/b/84', '/b/85', '/b/86', '/b/87', '/b/88', '/b/89']);
    expectBodies(entries);
    // Progress while reading, from the start to every flow read.
    const progress = progressTexts(t);
    expect(progress[0]).toBe('exporting 0/11… to view.har');
    expect(progress.at(-1)).toBe('exporting 11/11… to view.har');
    // The store itself kept no more than its budget.
    expect(r.store.list()).toHaveLength(20);
  });

  it('exports the whole unfiltered view, every flow with its body, in list order', async () => {
    const r = await start();
    const t = appDeps(r.store, null);
    const text = await exportHar(t, 'all.har', '100 flows in view');
    expect(text).toBe('exported 100 flows to ./all.har (nothing to redact)');
    const entries = await harEntries('all.har');
    expect(entries.map(pathOf)).toEqual(Array.from({ length: 100 }, (_, i) => `/b/${i}`));
    expectBodies(entries);
    expect(entries[3]!.request.postData?.text).toBe('request 3 sent this');
    expect(progressTexts(t).at(-1)).toBe('exporting 100/100… to all.har');
  });

  it('exports every marked flow whole: marked when older, held without bytes, held, and recorded marked on disk', async () => {
    const r = await start();
    // Marks as the runtime's `mark` command makes them.
    for (const id of ['f0005', 'f0085', 'f0099']) expect(r.store.update(id, (f) => ({ ...f, marked: true }))).toBe(true);
    // Unmarked again: it must not be exported, though it was marked once.
    r.store.update('f0090', (f) => ({ ...f, marked: true }));
    r.store.update('f0090', (f) => ({ ...f, marked: false }));
    const t = appDeps(r.store, null);

    // Flow 3 was evicted while marked, so the store still knows its mark: the count is exact.
    const text = await exportHar(t, 'marked.har', '4 marked');
    expect(text).toBe('exported 4 flows to ./marked.har (nothing to redact)');
    const entries = await harEntries('marked.har');
    // Flow 3 was marked when it was recorded and is only on disk: read back to learn that it is.
    expect(entries.map(pathOf)).toEqual(['/b/3', '/b/5', '/b/85', '/b/99']);
    expectBodies(entries);
    expect(entries[0]!.request.method).toBe('POST');
    expect(entries[0]!.request.postData?.text).toBe('request 3 sent this');
  });

  it('exports the selected older flow whole even before the UI read its body back', async () => {
    const r = await start();
    const t = appDeps(r.store, null);
    // The list's selection on flow 2 (only on disk): the app never hydrated it.
    t.deps.dispatch({ type: 'list', action: { type: 'top', view: t.index, height: 20 } });
    t.deps.dispatch({ type: 'list', action: { type: 'move', delta: 2, view: t.index, height: 20 } });
    await until(() => t.frame().flowAt(2), 'flow 2’s row read back (the list shows it)');
    expect(isInSession(t.deps.flowAt(2)!.response!.body)).toBe(true);

    const text = await exportHar(t, 'one.har', 'the selected flow');
    expect(text).toBe('exported 1 flow to ./one.har (nothing to redact)');
    const entries = await harEntries('one.har');
    expect(entries.map(pathOf)).toEqual(['/b/2']);
    expectBodies(entries);
  });
});
