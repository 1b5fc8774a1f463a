import { describe, expect, it } from 'vitest';
import { KEYMAP, helpSections, hintLine, keyLabel, lookup, type KeyContext, type TuiCommand } from '../../../src/tui/keymap.js';

describe('keymap table', () => {
  it('binds each key at most once per context', () => {
    const seen = new Set<string>();
    for (const b of KEYMAP) {
      for (const ctx of b.contexts) {
        const id = `${ctx} ${b.key}`;
        expect(seen.has(id), `duplicate binding ${id}`).toBe(false);
        seen.add(id);
      }
    }
  });

  it('has help text for every binding', () => {
    for (const b of KEYMAP) expect(b.help.length).toBeGreaterThan(3);
  });

  it.each<[string, KeyContext[], TuiCommand | undefined]>([
    ['q', ['list', 'global'], 'app.quit'],
    ['q', ['detail', 'global'], 'view.back'],
    ['q', ['help', 'global'], 'help.toggle'],
    ['esc', ['detail', 'global'], 'view.back'],
    ['ctrl+c', ['detail', 'global'], 'app.quit'],
    ['ctrl+c', ['help', 'global'], 'app.quit'],
    ['j', ['list', 'global'], 'move.down'],
    ['k', ['detail', 'global'], 'move.up'],
    ['G', ['list', 'global'], 'move.bottom'],
    ['g', ['list', 'global'], 'move.top'],
    ['pgdn', ['list', 'global'], 'move.page-down'],
    ['enter', ['list', 'global'], 'view.open'],
    ['enter', ['detail', 'global'], undefined],
    ['f', ['list', 'global'], 'filter.prompt'],
    ['?', ['detail', 'global'], 'help.toggle'],
    ['z', ['list', 'global'], 'flows.clear'],
    ['m', ['detail', 'global'], 'flow.mark'],
    ['y', ['list', 'global'], 'flow.copy-curl'],
    ['tab', ['detail', 'global'], 'tab.next'],
    ['tab', ['list', 'global'], undefined],
    ['c', ['list', 'global'], 'cache.toggle'],
    ['i', ['list', 'global'], 'intercept.prompt'],
    ['a', ['list', 'global'], 'flow.resume'],
    ['A', ['list', 'global'], 'flows.resume-all'],
    ['x', ['list', 'global'], 'flow.kill'],
    ['r', ['list', 'global'], 'flow.replay'],
    ['b', ['list', 'global'], 'flow.block-host'],
    ['L', ['list', 'global'], 'log.toggle'],
    ['L', ['detail', 'global'], 'log.toggle'],
    ['E', ['list', 'global'], 'export.prompt'],
    ['E', ['detail', 'global'], 'export.prompt'],
    ['E', ['rules', 'global'], undefined],
    ['h', ['export'], 'export.har'],
    ['c', ['export'], 'export.curl'],
    ['v', ['export'], 'export.vitest'],
    ['enter', ['export'], 'export.choose'],
    ['tab', ['export'], 'export.scope-next'],
    ['esc', ['export'], 'export.cancel'],
    ['ctrl+c', ['export'], 'app.quit'],
    ['i', ['export'], undefined],
    ['/', ['detail', 'global'], 'search.prompt'],
    ['n', ['detail', 'global'], 'search.next'],
    ['N', ['detail', 'global'], 'search.prev'],
    ['p', ['list', 'global'], 'rules.open'],
    ['p', ['detail', 'global'], 'rules.open'],
    ['p', ['rules', 'global'], 'view.back'],
    ['q', ['rules', 'global'], 'view.back'],
    ['esc', ['rules', 'global'], 'view.back'],
    ['space', ['rules', 'global'], 'rules.toggle'],
    ['enter', ['rules', 'global'], 'rules.toggle'],
    ['d', ['rules', 'global'], 'rules.remove'],
    ['d', ['list', 'global'], undefined],
    ['j', ['rules', 'global'], 'move.down'],
    ['up', ['rules', 'global'], 'move.up'],
    ['G', ['rules', 'global'], 'move.bottom'],
    ['c', ['rules', 'global'], 'cache.toggle'],
    ['b', ['rules', 'global'], undefined],
  ])('%s in %j → %s', (key, contexts, command) => {
    expect(lookup(key, contexts)?.command).toBe(command);
  });
});

describe('keyLabel', () => {
  it.each([
    ['ctrl+c', 'Ctrl-C'],
    ['enter', 'Enter'],
    ['pgdn', 'PgDn'],
    ['G', 'G'],
    ['shift+tab', 'S-Tab'],
  ])('%s → %s', (key, label) => expect(keyLabel(key)).toBe(label));
});

describe('helpSections', () => {
  it('lists every binding, keys of one command together', () => {
    const sections = helpSections();
    const list = sections.find((s) => s.context === 'list')!;
    expect(list.rows).toContainEqual({ keys: '↓, j', help: 'down one line' });
    expect(list.rows).toContainEqual({ keys: 'q', help: 'quit proxyctl' });
    const all = sections.flatMap((s) => s.rows.map((r) => r.keys)).join(',');
    for (const b of KEYMAP) expect(all).toContain(keyLabel(b.key));
  });
});

describe('hintLine', () => {
  it('shows the hints of the active contexts, specific first', () => {
    expect(hintLine(['list', 'global'], 200)).toBe('q:quit  Enter:open  f:filter  m:mark  y:curl  E:export  p:rules  ?:help');
    expect(hintLine(['rules', 'global'], 200)).toBe('Space:toggle  d:remove  q:back  ?:help');
    expect(hintLine(['detail', 'global'], 200)).toBe('m:mark  y:curl  E:export  p:rules  Tab:tabs  /:search  q:back  ?:help');
    expect(hintLine(['export'], 200)).toBe('h:har  c:curl  r:raw  n:nock  m:msw  v:vitest  Enter:choose  Tab:scope  Esc:cancel');
  });
  it('cuts whole hints to the width', () => {
    expect(hintLine(['list', 'global'], 20)).toBe('q:quit  Enter:open');
  });
});
