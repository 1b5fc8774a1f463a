/** The detail view, key commands and overlays, rendered against a real store (see harness.tsx). */
import { afterEach, describe, expect, it } from 'vitest';
import { body, makeFlow } from '../helpers/make-flow.js';
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

describe('detail view', () => {
  it('opens with Enter, shows headers, switches tabs, and goes back', async () => {
    const t = start();
    t.store.add(
      makeFlow({
        request: { path: '/api/items', headers: [['Host', 'example.com'], ['X-Request-Thing', 'req-value']] },
        response: { status: 201, headers: [['Content-Type', 'application/json'], ['X-Server-Thing', 'srv-value']], body: body('{"id":12345678901234567890,"ok":true}') },
      }),
    );
    await t.waitForFrame('/api/items');
    t.press(KEYS.enter);
    let frame = await t.waitForFrame('[Request]');
    expect(frame).toContain('X-Request-Thing');
    expect(frame).toContain('req-value');
    t.press(KEYS.tab);
    frame = await t.waitForFrame('[Response]');
    expect(frame).toContain('X-Server-Thing');
    expect(frame).toContain('"id": 12345678901234567890');
    t.press(KEYS.tab);
    frame = await t.waitForFrame('[Timing]');
    expect(frame).toContain('Proxy overhead');
    t.press('q');
    await t.waitForFrame('q:quit');
  });

  it('searches a body with / and n, highlighting and jumping', async () => {
    const t = start({ rows: 20 });
    const lines = Array.from({ length: 200 }, (_, i) => (i === 150 || i === 180 ? `line ${i} NEEDLE here` : `line ${i}`));
    t.store.add(makeFlow({ response: { headers: [['Content-Type', 'text/plain']], body: body(lines.join('\n')) } }));
    await t.waitForFrame('1 flow');
    t.press(KEYS.enter, KEYS.tab);
    await t.waitForFrame('[Response]');
    t.press('/');
    await t.waitForFrame((f) => f.split('\n').some((l) => l.startsWith('/')));
    t.press('needle', KEYS.enter);
    let frame = await t.waitForFrame('line 150 NEEDLE');
    expect(frame).not.toContain('line 180 NEEDLE');
    t.press('n');
    frame = await t.waitForFrame('line 180 NEEDLE');
    t.press('n');
    frame = await t.waitForFrame('search wrapped');
    expect(frame).toContain('line 150 NEEDLE');
  });

  it('says a truncated capture is truncated', async () => {
    const t = start();
    t.store.add(makeFlow({ response: { body: body('x'.repeat(100), { limit: 10 }) } }));
    await t.waitForFrame('1 flow');
    t.press(KEYS.enter, KEYS.tab);
    await t.waitForFrame('truncated capture: showing the first 10 B of 100 B');
  });
});

describe('commands', () => {
  it('m sends mark for the selected flow', async () => {
    const t = start();
    t.store.add(makeFlow({ id: 'one', request: { path: '/one' } }));
    t.store.add(makeFlow({ id: 'two', request: { path: '/two' } }));
    await t.waitForFrame('2 flows');
    t.press('k', 'm');
    await t.waitForFrame('marked');
    expect(t.commands.sent).toEqual([{ type: 'mark', flowId: 'one', marked: true }]);
  });

  it('z, c, A and x send their commands; a refusal is shown', async () => {
    const t = start();
    t.store.add(makeFlow({ id: 'p', phase: 'request-paused', response: null }));
    await t.waitForFrame('1 flow');
    t.commands.answer = (c) => (c.type === 'kill' ? { ok: false, error: 'not supported yet' } : { ok: true });
    t.press('x');
    await t.waitForFrame('kill failed: not supported yet');
    t.press('c');
    await t.waitForFrame('response cache on');
    t.press('A', 'z');
    await t.waitForFrame('flows cleared');
    expect(t.commands.sent).toEqual([{ type: 'kill', flowId: 'p' }, { type: 'set-cache', enabled: true }, { type: 'resume-all' }, { type: 'clear' }]);
  });

  it('y copies the request as curl and says so', async () => {
    const t = start();
    t.store.add(makeFlow({ request: { path: '/copy-me' } }));
    await t.waitForFrame('/copy-me');
    t.press('y');
    await t.waitForFrame('copied curl command');
    expect(t.copied[0]).toMatch(/^curl http:\/\/example\.com\/copy-me /);
  });

  it('i sets the intercept filter', async () => {
    const t = start();
    t.press('i');
    await t.waitForFrame('intercept:');
    t.press('~u /api', KEYS.enter);
    await t.waitForFrame('intercepting ~u /api');
    expect(t.commands.sent).toEqual([{ type: 'set-intercept', filter: '~u /api', on: ['request'] }]);
    t.toggles.set({ intercept: '~u /api' });
    await t.waitForFrame('intercept ~u /api');
  });

  it('q in the list quits', async () => {
    const t = start();
    await t.waitForFrame('q:quit');
    t.press('q');
    await expect(t.exited).resolves.toBeUndefined();
  });

  it('Ctrl-C quits from a prompt too', async () => {
    const t = start();
    t.press('f');
    await t.waitForFrame('filter:');
    t.press(KEYS.ctrlC);
    await expect(t.exited).resolves.toBeUndefined();
  });
});

describe('overlays', () => {
  it('? shows help generated from the keymap', async () => {
    const t = start({ rows: 40 });
    t.press('?');
    const frame = await t.waitForFrame('proxyctl keys');
    for (const text of ['Flow list', 'open the selected flow', 'set the view filter', 'copy the request as a curl command']) {
      expect(frame).toContain(text);
    }
    t.press('G');
    await t.waitForFrame('Flag column');
    t.press('q');
    await t.waitForFrame('q:quit');
  });

  it('L toggles the event log with store log entries', async () => {
    const t = start();
    t.store.apply({ type: 'log', level: 'warn', message: 'upstream certificate expired for x.example', time: Date.now() });
    t.press('L');
    const frame = await t.waitForFrame('event log (1)');
    expect(frame).toContain('WARN  upstream certificate expired');
    t.press('L');
    await t.waitForFrame((f) => !f.includes('event log'));
  });
});
