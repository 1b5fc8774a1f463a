/** Working paused flows (issue 5): markers, resume/kill/respond keys, $EDITOR edits, replay. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/proxy/core/flow.js';
import { makeFlow } from '../helpers/make-flow.js';
import { KEYS, renderTui, type TuiHarness } from './harness.js';

let h: TuiHarness | null = null;
let dir = '';
const saved = { EDITOR: process.env.EDITOR, VISUAL: process.env.VISUAL };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'proxyctl-tui-edit-'));
  delete process.env.VISUAL;
});

afterEach(() => {
  h?.unmount();
  h = null;
  rmSync(dir, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

function start(): TuiHarness {
  h = renderTui({ columns: 120, rows: 30 });
  return h;
}

/** A shell script for $EDITOR, run as `script FILE`. */
function editor(body: string): string {
  const path = join(dir, 'editor.sh');
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const paused = (id: string, path: string, stage: 'request' | 'response' = 'request'): Flow => ({
  ...makeFlow({
    id,
    phase: stage === 'request' ? 'request-paused' : 'response-paused',
    request: { path, headers: [['Host', 'example.com'], ['X-Test', 'original']] },
    ...(stage === 'request' ? { response: null } : {}),
  }),
  pause: { stage, since: Date.now() - 3000, deadline: Date.now() + 60_000, onTimeout: 'continue', reason: 'intercept ~u /p' },
});
const selectedRow = (frame: string) => frame.split('\n').find((l) => l.startsWith('>')) ?? '';
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('paused flows', () => {
  it('marks paused rows with the wait and countdown and counts them', async () => {
    const t = start();
    t.store.add(paused('p1', '/paused-one'));
    const frame = await t.waitForFrame((f) => /\/paused-one ⏸ \ds → continue in \d+s/.test(f));
    expect(frame).toContain('1 paused');
    expect(selectedRow(frame)).toContain('PAU');
  });

  it('a new paused flow does not move the selection', async () => {
    const t = start();
    t.store.add(makeFlow({ id: 'a', request: { path: '/first' } }));
    t.store.add(makeFlow({ id: 'b', request: { path: '/second' } }));
    await t.waitForFrame((f) => selectedRow(f).includes('/second'));
    t.press('k');
    await t.waitForFrame((f) => selectedRow(f).includes('/first'));
    t.store.add(paused('p1', '/paused-new'));
    const frame = await t.waitForFrame('/paused-new');
    expect(selectedRow(frame)).toContain('/first');
  });

  it('a, x and A send resume, kill and resume-all for a paused flow', async () => {
    const t = start();
    t.store.add(paused('p1', '/p'));
    await t.waitForFrame('1 paused');
    t.press('a');
    await t.waitForFrame('resumed');
    t.press('x');
    await t.waitForFrame('killed');
    t.press('A');
    await t.waitForFrame('resumed all paused flows');
    expect(t.commands.sent).toEqual([{ type: 'resume', flowId: 'p1' }, { type: 'kill', flowId: 'p1' }, { type: 'resume-all' }]);
  });

  it('a, x, R and e do nothing but say so for a flow that is not paused', async () => {
    const t = start();
    t.store.add(makeFlow({ id: 'done', request: { path: '/done' } }));
    await t.waitForFrame('/done');
    for (const key of ['a', 'x', 'R', 'e']) {
      t.press(key);
      await t.waitForFrame('that flow is not paused');
      t.press('j'); // clears the message
      await t.waitForFrame((f) => !f.includes('that flow is not paused'));
    }
    expect(t.commands.sent).toEqual([]);
  });

  it('R answers a paused request from a one-line prompt', async () => {
    const t = start();
    t.store.add(paused('p1', '/p'));
    await t.waitForFrame('1 paused');
    t.press('R');
    await t.waitForFrame('respond (status');
    t.press('abc', KEYS.enter);
    await t.waitForFrame('the status must be');
    t.press(KEYS.backspace, KEYS.backspace, KEYS.backspace, '200 text/plain hello', KEYS.enter);
    await t.waitForFrame('answered with 200');
    expect(t.commands.sent).toEqual([{ type: 'respond', flowId: 'p1', response: { status: 200, headers: [['Content-Type', 'text/plain']], body: 'hello' } }]);
  });

  it('u edits the paused URL and resumes', async () => {
    const t = start();
    t.store.add(paused('p1', '/old'));
    await t.waitForFrame('1 paused');
    t.press('u');
    await t.waitForFrame('url: http://example.com/old');
    t.press('\x15', 'http://example.com/new', KEYS.enter);
    await t.waitForFrame('resumed with http://example.com/new');
    expect(t.commands.sent).toEqual([{ type: 'resume', flowId: 'p1', request: { url: 'http://example.com/new' } }]);
  });

  it('e edits the paused request in $EDITOR and resumes it with the edit', async () => {
    process.env.EDITOR = editor(`sed -i 's/^X-Test: .*/X-Test: edited/' "$1"`);
    const t = start();
    t.store.add(paused('p1', '/p'));
    await t.waitForFrame('1 paused');
    t.press('e');
    await t.waitForFrame('resumed with the edited request');
    expect(t.commands.sent).toHaveLength(1);
    expect(t.commands.sent[0]).toMatchObject({
      type: 'resume',
      flowId: 'p1',
      request: { method: 'GET', url: 'http://example.com/p', headers: [['Host', 'example.com'], ['X-Test', 'edited']] },
    });
  });

  it('e edits a paused response', async () => {
    process.env.EDITOR = editor(`sed -i '1s/.*/HTTP\\/1.1 503 Nope/' "$1"`);
    const t = start();
    t.store.add(paused('p1', '/p', 'response'));
    await t.waitForFrame('1 paused');
    t.press('e');
    await t.waitForFrame('resumed with the edited response');
    expect(t.commands.sent[0]).toMatchObject({ type: 'resume', flowId: 'p1', response: { status: 503 } });
  });

  it('a garbled edit shows the parse error with its line and sends nothing', async () => {
    process.env.EDITOR = editor(`printf 'GET http://example.com/ HTTP/1.1\\nthis is not a header\\n\\n' > "$1"`);
    const t = start();
    t.store.add(paused('p1', '/p'));
    await t.waitForFrame('1 paused');
    t.press('e');
    await t.waitForFrame('line 2');
    await settle();
    expect(t.commands.sent).toEqual([]);
    expect(t.lastFrame()).toContain('still paused');
  });

  it('shows a refusal from the proxy and keeps the flow paused', async () => {
    process.env.EDITOR = editor(`sed -i 's/^X-Test: .*/X-Test: edited/' "$1"`);
    const t = start();
    t.commands.answer = () => ({ ok: false, error: 'bad edit: nope' });
    t.store.add(paused('p1', '/p'));
    await t.waitForFrame('1 paused');
    t.press('e');
    await t.waitForFrame('resume failed: bad edit: nope');
  });

  it('D replays an edited copy; r replays as recorded', async () => {
    process.env.EDITOR = editor(`sed -i 's/^X-Test: .*/X-Test: copy/' "$1"`);
    const t = start();
    t.store.add(makeFlow({ id: 'f1', request: { path: '/rec', headers: [['Host', 'example.com'], ['X-Test', 'original']] } }));
    await t.waitForFrame('/rec');
    t.press('r');
    await t.waitForFrame('replay started');
    t.press('D');
    await t.waitForFrame('replay of the edited copy started');
    expect(t.commands.sent[0]).toEqual({ type: 'replay', flowId: 'f1' });
    expect(t.commands.sent[1]).toMatchObject({ type: 'replay', flowId: 'f1', request: { headers: [['Host', 'example.com'], ['X-Test', 'copy']] } });
  });

  it('the detail view shows the wait and what an edit changed', async () => {
    const t = start();
    const p = paused('p1', '/p');
    t.store.add(p);
    await t.waitForFrame('1 paused');
    t.press(KEYS.enter);
    await t.waitForFrame((f) => /⏸ \ds → continue in \d+s \(a resume, e edit, x kill, R respond\)/.test(f));
    t.store.update('p1', (f) => ({
      ...f,
      phase: 'waiting',
      pause: null,
      original: { request: f.request },
      request: { ...f.request, headers: [['Host', 'example.com'], ['X-Test', 'edited']] },
    }));
    const frame = await t.waitForFrame('Edited at the breakpoint');
    expect(frame).toContain('~ X-Test: original → edited');
  });
});
