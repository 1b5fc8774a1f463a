import { describe, expect, it } from 'vitest';
import type { RuleEntry } from '../../../src/store/rule-list.js';
import { lineText } from '../../../src/tui/doc.js';
import { activeRuleCount, ruleColumns, ruleLine, rulesTitle } from '../../../src/tui/rules/rule-format.js';
import { flowAction, PROXY_ACTIONS, ACTION_WIDTH } from '../../../src/tui/proxy-action.js';
import { makeFlow } from '../../helpers/make-flow.js';

const rule = (over: Partial<RuleEntry> = {}): RuleEntry => ({ id: 'config:0', type: 'block', explain: 'block ~d ads.example with 403', enabled: true, source: 'config', ...over });

describe('ruleLine', () => {
  const cols = ruleColumns([rule(), rule({ type: 'map-remote' })]);

  it.each<[string, RuleEntry, boolean, string]>([
    ['on, from the config file', rule(), false, '  [x] block      config   block ~d ads.example with 403'],
    ['off, added by the user, selected', rule({ enabled: false, source: 'settings' }), true, '> [ ] block      user     block ~d ads.example with 403'],
    ['built in', rule({ type: 'auth', source: 'builtin', explain: 'require proxy auth (2 users)' }), false, '  [x] auth       built-in require proxy auth (2 users)'],
    ['control characters and line breaks are made harmless', rule({ explain: 'a\u001b[31m\nb' }), false, '  [x] block      config   a·[31m b'],
  ])('%s', (_name, r, selected, text) => {
    expect(lineText(ruleLine(r, cols, selected, 100))).toBe(text);
  });

  it('cuts the explanation to the width', () => {
    const text = lineText(ruleLine(rule({ explain: 'x'.repeat(100) }), cols, false, 40));
    expect(text).toHaveLength(40);
    expect(text.endsWith('x…')).toBe(true);
  });

  it('mutes a rule that is off', () => {
    const line = ruleLine(rule({ enabled: false }), cols, false, 80);
    expect(line.at(-1)?.role).toBe('muted');
    expect(ruleLine(rule(), cols, false, 80).at(-1)?.role).toBeUndefined();
  });

  it('sizes the type column to the longest type, within bounds', () => {
    expect(ruleColumns([rule({ type: 'mock' })]).type).toBe(4);
    expect(ruleColumns([rule({ type: 'rate-limit' })]).type).toBe(10);
    expect(ruleColumns([rule({ type: 'a-very-long-rule-type-name' })]).type).toBe(12);
  });
});

describe('rulesTitle and activeRuleCount', () => {
  const rules = [rule(), rule({ enabled: false }), rule({ source: 'settings' }), rule({ source: 'builtin' })];
  it('counts rules and those switched on', () => {
    expect(lineText(rulesTitle(rules))).toBe('Rules  4 rules, 3 on');
    expect(lineText(rulesTitle([]))).toBe('Rules');
  });
  it('counts the user’s rules that are on, not built-in policies', () => {
    expect(activeRuleCount(rules)).toBe(2);
    expect(activeRuleCount([])).toBe(0);
  });
});

describe('proxy actions', () => {
  it('labels fit the column', () => {
    for (const a of PROXY_ACTIONS) expect(a.label.length).toBeLessThanOrEqual(ACTION_WIDTH);
  });
  it.each<[string[], string | null]>([
    [[], null],
    [['replay-of:x'], null],
    [['cache:MISS'], 'MISS'],
    [['cache:HIT', 'cache:MISS'], 'HIT'],
    [['cache:HIT'], 'HIT'],
    [['map-remote', 'mocked'], 'MOCK'],
    [['throttled', 'rate-limited'], 'LIMIT'],
    [['auth-required', 'blocked'], 'BLK'],
  ])('%j → %s', (tags, label) => expect(flowAction(makeFlow({ tags }))?.label ?? null).toBe(label));
});
