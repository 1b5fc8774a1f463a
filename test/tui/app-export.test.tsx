/**
 * `E` in the TUI (issue 7): choose a format and a scope, edit the file name, and the file is written
 * through the same code as `proxyctl export`, redacted, with the result on the message line and in
 * the event log. Rendered against a real store (see harness.tsx); files go to a temporary folder.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/proxy/core/flow.js';
import { makeFlow, type DeepPartial } from '../helpers/make-flow.js';
import { KEYS, renderTui, type TuiHarness } from './harness.js';

let h: TuiHarness | null = null;
let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'proxyctl-tui-export-'));
});

afterEach(async () => {
  h?.unmount();
  h = null;
  await rm(dir, { recursive: true, force: true });
});

function start(flows: Flow[], opts: Parameters<typeof renderTui>[0] = {}): TuiHarness {
  h = renderTui({ exportDir: dir, rows: 30, ...opts });
  for (const f of flows) h.store.add(f);
  return h;
}

const flow = (path: string, more: DeepPartial<Flow> = {}) => makeFlow({ ...more, request: { path, ...more.request } });

/** The HAR entries' request paths. */
async function harPaths(file: string): Promise<string[]> {
  const doc = JSON.parse(await readFile(file, 'utf8')) as { log: { entries: Array<{ request: { url: string } }> } };
  return doc.log.entries.map((e) => new URL(e.request.url).pathname);
}

/** Replace the file-name prompt's text (Ctrl-U kills back to the start; the cursor is at the end). */
function retype(t: TuiHarness, text: string): void {
  t.press('\x15', text);
}

describe('E: export', () => {
  it('exports the marked flows as HAR by default scope, redacted, and names the file', async () => {
    const t = start([
      flow('/one', { marked: true, request: { headers: [['Host', 'example.com'], ['Authorization', 'Bearer secret-token']] } }),
      flow('/two'),
      flow('/three', { marked: true }),
    ]);
    await t.waitForFrame('3 flows');
    t.press('E');
    let frame = await t.waitForFrame('export 2 marked flows');
    // The other scopes are offered, and the keys come from the keymap.
    expect(frame).toContain('view 3');
    expect(frame).toContain('selected 1');
    expect(frame).toMatch(/\[h\]ar/);
    expect(frame).toContain('Tab:scope');
    t.press('h');
    frame = await t.waitForFrame('export 2 marked flows as har to: ');
    expect(frame).toMatch(/\.\/proxyctl-export-\d{8}-\d{6}\.har/);
    retype(t, 'out/marked.har');
    await t.waitForFrame('to: out/marked.har');
    t.press(KEYS.enter);
    frame = await t.waitForFrame('exported 2 flows to ./out/marked.har');
    expect(frame).toContain('(redacted: Authorization ×1)');
    const file = join(dir, 'out', 'marked.har');
    expect(await harPaths(file)).toEqual(['/one', '/three']);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('secret-token');
    expect(text).toContain('[REDACTED]');
    // The result stays in the event log after the message line moved on.
    t.press('L');
    frame = await t.waitForFrame('event log (1)');
    expect(frame).toContain('INFO  exported 2 flows to ./out/marked.har');
  });

  it('exports the filtered view when nothing is marked, with the arrows, Enter and the default name', async () => {
    const t = start([flow('/keep/a'), flow('/drop'), flow('/keep/b'), flow('/keep/c')]);
    await t.waitForFrame('4 flows');
    t.press('f', '~u keep', KEYS.enter);
    await t.waitForFrame('3/4 flows');
    t.press('E');
    await t.waitForFrame('export 3 flows in view');
    // → highlights curl; Enter takes it.
    t.press('\x1b[C');
    await t.waitForFrame((f) => /as: .*\[c\]url/.test(f));
    t.press(KEYS.enter);
    await t.waitForFrame('export 3 flows in view as curl to: ./proxyctl-export-');
    t.press(KEYS.enter);
    const frame = await t.waitForFrame('exported 3 flows to ./proxyctl-export-');
    expect(frame).toContain('(nothing to redact)');
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^proxyctl-export-\d{8}-\d{6}\.sh$/);
    const script = await readFile(join(dir, files[0]!), 'utf8');
    expect(script.match(/^curl /gm)).toHaveLength(3);
    expect(script).toContain('/keep/a');
    expect(script).not.toContain('/drop');
  });

  it('Tab switches the scope: marked → view → selected', async () => {
    const t = start([flow('/a', { marked: true }), flow('/b'), flow('/c')]);
    await t.waitForFrame('3 flows');
    t.press('E');
    await t.waitForFrame('export 1 marked flow ');
    t.press(KEYS.tab);
    await t.waitForFrame('export 3 flows in view');
    t.press(KEYS.tab);
    await t.waitForFrame('export the selected flow');
    t.press('r');
    await t.waitForFrame('export the selected flow as raw to: ');
    retype(t, 'selected.http');
    t.press(KEYS.enter);
    await t.waitForFrame('exported 1 flow to ./selected.http');
    const raw = await readFile(join(dir, 'selected.http'), 'utf8');
    expect(raw).toContain('GET /c HTTP/1.1');
    expect(raw).not.toContain('GET /a ');
  });

  it('writes fixtures (nock) the same way', async () => {
    const t = start([flow('/api/x', { marked: true }), flow('/api/y', { marked: true })]);
    await t.waitForFrame('2 flows');
    t.press('E');
    await t.waitForFrame('export 2 marked flows');
    t.press('n');
    await t.waitForFrame('as nock to: ');
    retype(t, 'nock.json');
    t.press(KEYS.enter);
    await t.waitForFrame('exported 2 flows to ./nock.json');
    const defs = JSON.parse(await readFile(join(dir, 'nock.json'), 'utf8')) as Array<{ path: string }>;
    expect(defs.map((d) => d.path)).toEqual(['/api/x', '/api/y']);
  });

  it('Esc cancels at either step and writes nothing; keys behind the chooser do nothing', async () => {
    const t = start([flow('/a')]);
    await t.waitForFrame('1 flow');
    t.press('E');
    await t.waitForFrame('export 1 flow in view');
    // `i` is the intercept prompt elsewhere; in the chooser it is not bound.
    t.press('i');
    t.press(KEYS.esc);
    await t.waitForFrame('export cancelled');
    expect(t.lastFrame()).not.toContain('intercept:');
    t.press('E');
    await t.waitForFrame('export 1 flow in view');
    t.press('v');
    await t.waitForFrame('as vitest to: ');
    t.press(KEYS.esc);
    await t.waitForFrame((f) => f.includes('q:quit') && !f.includes('to: '));
    expect(await readdir(dir)).toEqual([]);
  });

  it('says so when there is nothing to export, and when writing fails', async () => {
    const t = start([]);
    await t.waitForFrame('no flows yet');
    t.press('E');
    await t.waitForFrame('nothing to export: no flows');
    t.store.add(flow('/a'));
    await t.waitForFrame('1 flow');
    await writeFile(join(dir, 'plain-file'), 'x');
    t.press('E');
    await t.waitForFrame('export 1 flow in view');
    t.press('h');
    await t.waitForFrame('as har to: ');
    retype(t, 'plain-file/x.har');
    t.press(KEYS.enter);
    const frame = await t.waitForFrame('export to plain-file/x.har failed');
    expect(frame).toMatch(/ENOTDIR|EEXIST|not a directory/);
  });

  it('E works from the detail view, and is listed in the help', async () => {
    const t = start([flow('/a'), flow('/b')], { rows: 60 });
    await t.waitForFrame('2 flows');
    t.press(KEYS.enter);
    await t.waitForFrame('[Request]');
    t.press('E');
    await t.waitForFrame('export 2 flows in view');
    t.press(KEYS.esc);
    await t.waitForFrame('export cancelled');
    t.press('?');
    await t.waitForFrame('proxyctl keys');
    t.press('G');
    const frame = await t.waitForFrame('Export prompt (E)');
    expect(frame).toContain('a vitest file serving the recording');
  });
});
