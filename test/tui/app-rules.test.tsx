/** Issue 6 in the TUI: the rules pane, the cache toggles in the status bar, blocked/cached markers. */
import { afterEach, describe, expect, it } from 'vitest';
import type { RuleEntry } from '../../src/store/rule-list.js';
import { makeFlow } from '../helpers/make-flow.js';
import { KEYS, renderTui, type TuiHarness } from './harness.js';

let h: TuiHarness | null = null;
afterEach(() => {
  h?.unmount();
  h = null;
});

function start(opts: Parameters<typeof renderTui>[0] = {}): TuiHarness {
  h = renderTui({ columns: 120, rows: 24, ...opts });
  return h;
}

const RULES: RuleEntry[] = [
  { id: 'config:0', type: 'block', explain: 'block ~d ads.example with 403', enabled: true, source: 'config' },
  { id: 'user:1', type: 'block', explain: 'block ~d tracker.example with 403', enabled: true, source: 'settings' },
  { id: 'config:1', type: 'map-remote', explain: 'send ~d api.example to http://127.0.0.1:3000', enabled: false, source: 'config' },
  { id: 'cache', type: 'cache', explain: 'cache responses (256 MiB)', enabled: false, source: 'builtin' },
];

const selectedRow = (frame: string) => frame.split('\n').find((l) => l.startsWith('>')) ?? '';
const rowWith = (frame: string, text: string) => frame.split('\n').find((l) => l.includes(text)) ?? '';
const statusBar = (frame: string) => frame.split('\n').find((l) => l.includes('req/s')) ?? '';

/** Open the rules pane from the list. */
async function openRules(t: TuiHarness): Promise<string> {
  await t.waitForFrame('no flows yet');
  t.press('p');
  return t.waitForFrame((f) => f.startsWith('Rules'), 'the rules pane');
}

describe('rules pane', () => {
  it('lists each rule with its state, type, source and explanation', async () => {
    const t = start();
    t.rules.set(RULES);
    const frame = await openRules(t);
    expect(frame).toContain('4 rules, 2 on');
    expect(rowWith(frame, 'ads.example')).toMatch(/^> \[x\] block\s+config\s+block ~d ads\.example with 403/);
    expect(rowWith(frame, 'tracker.example')).toMatch(/\[x\] block\s+user\s+block ~d tracker/);
    expect(rowWith(frame, 'api.example')).toMatch(/\[ \] map-remote\s+config\s+send ~d api/);
    expect(rowWith(frame, 'cache responses')).toMatch(/\[ \] cache\s+built-in\s+cache responses/);
    expect(frame).toContain('Space:toggle  d:remove  q:back');
  });

  it('space toggles the selected rule and the pane follows the rule list', async () => {
    const t = start();
    t.rules.set(RULES);
    await openRules(t);
    t.press('j');
    await t.waitForFrame((f) => selectedRow(f).includes('tracker.example'));
    t.press(' ');
    await t.waitForFrame('off: block ~d tracker.example with 403');
    expect(t.commands.sent).toEqual([{ type: 'toggle-rule', ruleId: 'user:1', enabled: false }]);
    // The runtime publishes the change; the row shows it and the selection stays on the rule.
    t.rules.set(RULES.map((r) => (r.id === 'user:1' ? { ...r, enabled: false } : r)));
    const frame = await t.waitForFrame((f) => /^> \[ \] block/.test(selectedRow(f)));
    expect(selectedRow(frame)).toContain('tracker.example');
    expect(frame).toContain('4 rules, 1 on');
    // Enter toggles too.
    t.press(KEYS.enter);
    await t.waitForFrame('on: block ~d tracker.example');
    expect(t.commands.sent.at(-1)).toEqual({ type: 'toggle-rule', ruleId: 'user:1', enabled: true });
  });

  it('d removes a rule the user added and refuses config and built-in ones', async () => {
    const t = start();
    t.rules.set(RULES);
    await openRules(t);
    t.press('d');
    await t.waitForFrame('rules from the config file are edited in the file');
    t.press('G');
    await t.waitForFrame((f) => selectedRow(f).includes('cache responses'));
    t.press('d');
    await t.waitForFrame('built-in policies cannot be removed');
    expect(t.commands.sent).toEqual([]);
    t.press('g', 'j');
    await t.waitForFrame((f) => selectedRow(f).includes('tracker.example'));
    t.press('d');
    await t.waitForFrame('removed: block ~d tracker.example');
    expect(t.commands.sent).toEqual([{ type: 'remove-rule', ruleId: 'user:1' }]);
    // Once gone, the selection stays at its row: on the rule that took its place.
    t.rules.set(RULES.filter((r) => r.id !== 'user:1'));
    const frame = await t.waitForFrame('3 rules, 1 on');
    expect(frame.split('\n').filter((l) => /^[> ] \[/.test(l))).toHaveLength(3);
    expect(frame.split('\n').filter((l) => /^[> ] \[/.test(l)).join('\n')).not.toContain('tracker.example');
    expect(selectedRow(frame)).toContain('api.example');
  });

  it('reports a refused command on the message line', async () => {
    const t = start();
    t.commands.answer = () => ({ ok: false, error: 'no such rule' });
    t.rules.set(RULES);
    await openRules(t);
    t.press(' ');
    await t.waitForFrame('toggle-rule failed: no such rule');
  });

  it('explains how to add rules when there are none', async () => {
    const t = start();
    const frame = await openRules(t);
    expect(frame).toContain('No rules in force.');
    expect(frame).toContain('rules:');
    expect(frame).toMatch(/press b on a flow to block its host/);
    t.press(' ');
    await t.waitForFrame('no rule selected');
    expect(t.commands.sent).toEqual([]);
  });

  it('cuts long explanations to the width', async () => {
    const t = start({ columns: 60 });
    t.rules.set([{ id: 'config:0', type: 'rewrite', explain: `rewrite response-header ${'x'.repeat(200)}`, enabled: true, source: 'config' }]);
    const frame = await openRules(t);
    for (const l of frame.split('\n')) expect(l.length).toBeLessThanOrEqual(60);
    expect(selectedRow(frame)).toMatch(/x…$/);
  });

  it('q, Esc and p go back where the pane was opened from', async () => {
    const t = start();
    t.store.add(makeFlow({ request: { path: '/somewhere' } }));
    await t.waitForFrame('/somewhere');
    t.press('p');
    await t.waitForFrame((f) => f.startsWith('Rules'));
    t.press('q');
    await t.waitForFrame((f) => f.includes('/somewhere') && !f.startsWith('Rules'));
    // From the detail view, back goes to the detail view.
    t.press(KEYS.enter);
    await t.waitForFrame('[Request]');
    t.press('p');
    await t.waitForFrame((f) => f.startsWith('Rules'));
    t.press(KEYS.esc);
    await t.waitForFrame('[Request]');
    t.press('p');
    await t.waitForFrame((f) => f.startsWith('Rules'));
    t.press('p');
    await t.waitForFrame('[Request]');
  });

  it('the help overlay lists the rules pane keys and the proxy column legend', async () => {
    const t = start({ rows: 200 });
    await t.waitForFrame('no flows yet');
    t.press('?');
    const frame = await t.waitForFrame('Rules pane');
    expect(frame).toMatch(/Space, Enter\s+switch the selected rule on or off/);
    expect(frame).toMatch(/p\s+show the rules in force/);
    expect(frame).toMatch(/BLK\s+blocked by a rule/);
    expect(frame).toMatch(/REVAL\s+cached copy revalidated/);
  });
});

describe('status bar', () => {
  it('shows the cache, no-cache and the count of rules switched on', async () => {
    const t = start();
    let frame = await t.waitForFrame('no flows yet');
    expect(statusBar(frame)).toContain('cache off');
    expect(statusBar(frame)).not.toContain('rules');
    t.toggles.set({ cache: true });
    frame = await t.waitForFrame((f) => statusBar(f).includes('cache on'));
    expect(statusBar(frame)).not.toContain('no-cache');
    t.toggles.set({ cache: false, noCache: true });
    frame = await t.waitForFrame((f) => statusBar(f).includes('no-cache'));
    expect(statusBar(frame)).toContain('cache off');
    // Built-in policies are not counted; rules switched off neither.
    t.rules.set(RULES);
    frame = await t.waitForFrame((f) => statusBar(f).includes('rules 2'));
  });

  it('c sends set-cache with the opposite of what the bar shows', async () => {
    const t = start();
    t.toggles.set({ cache: true });
    await t.waitForFrame('cache on');
    t.press('c');
    await t.waitForFrame('response cache off');
    expect(t.commands.sent).toEqual([{ type: 'set-cache', enabled: false }]);
  });

  it('stays one line within the width when narrow', async () => {
    const t = start({ columns: 50 });
    t.toggles.set({ cache: true, noCache: true, intercept: '~u /api' });
    t.rules.set(RULES);
    const frame = await t.waitForFrame('regular 127.0.0.1:8080');
    for (const l of frame.split('\n')) expect(l.length).toBeLessThanOrEqual(50);
  });
});

describe('flow list markers', () => {
  it('marks blocked flows and cache answers in the proxy column', async () => {
    const t = start();
    t.store.add(makeFlow({ request: { host: 'ads.example', path: '/banner' }, response: { status: 403 }, tags: ['blocked'] }));
    t.store.add(makeFlow({ request: { path: '/cached' }, tags: ['cache:HIT'] }));
    t.store.add(makeFlow({ request: { path: '/stale' }, tags: ['cache:STALE'] }));
    t.store.add(makeFlow({ request: { path: '/revalidated' }, tags: ['cache:REVALIDATED'] }));
    t.store.add(makeFlow({ request: { path: '/plain' } }));
    const frame = await t.waitForFrame('5 flows');
    expect(frame).toMatch(/ST\s+PROXY\s+HOST/);
    expect(rowWith(frame, '/banner')).toMatch(/403 BLK\s+ads\.example/);
    expect(rowWith(frame, '/cached')).toMatch(/200 HIT\s+example\.com/);
    expect(rowWith(frame, '/stale')).toMatch(/200 STALE example\.com/);
    expect(rowWith(frame, '/revalidated')).toMatch(/200 REVAL example\.com/);
    expect(rowWith(frame, '/plain')).toMatch(/200\s+example\.com/);
    expect(rowWith(frame, '/plain')).not.toMatch(/BLK|HIT|STALE|REVAL/);
  });

  it('the detail view shows all tags on the request and response tabs', async () => {
    const t = start();
    t.store.add(makeFlow({ request: { path: '/c' }, tags: ['cache:HIT', 'throttled'] }));
    await t.waitForFrame('/c');
    t.press(KEYS.enter);
    await t.waitForFrame('tags: cache:HIT, throttled');
    t.press(KEYS.tab);
    const frame = await t.waitForFrame('[Response]');
    expect(frame).toContain('tags: cache:HIT, throttled');
  });
});
