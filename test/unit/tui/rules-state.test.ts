import { describe, expect, it } from 'vitest';
import { initialRulesState, rulesReducer, rulesTop, selectedRuleIndex, type RulesAction, type RulesState } from '../../../src/tui/state/rules-state.js';

const rows = (...ids: string[]) => ids.map((id) => ({ id }));
const FIVE = rows('a', 'b', 'c', 'd', 'e');
const run = (rules: ReturnType<typeof rows>, height: number, ...actions: Array<(r: typeof rules, h: number) => RulesAction>): RulesState =>
  actions.reduce((s, make) => rulesReducer(s, make(rules, height)), initialRulesState);
const down = (n = 1) => (rules: ReturnType<typeof rows>, height: number): RulesAction => ({ type: 'move', delta: n, rules, height });
const up = (n = 1) => down(-n);
const bottom = (rules: ReturnType<typeof rows>, height: number): RulesAction => ({ type: 'bottom', rules, height });
const top = (rules: ReturnType<typeof rows>, height: number): RulesAction => ({ type: 'top', rules, height });

describe('rulesReducer', () => {
  it.each<[string, RulesState, string | null, number]>([
    ['starts on the first rule', initialRulesState, 'a', 0],
    ['moves down', run(FIVE, 3, down()), 'b', 1],
    ['stops at the last rule', run(FIVE, 3, down(10)), 'e', 4],
    ['stops at the first rule', run(FIVE, 3, down(2), up(5)), 'a', 0],
    ['jumps to the bottom', run(FIVE, 3, bottom), 'e', 4],
    ['jumps to the top', run(FIVE, 3, bottom, top), 'a', 0],
  ])('%s', (_name, state, id, index) => {
    expect(selectedRuleIndex(state, FIVE)).toBe(index);
    expect(FIVE[selectedRuleIndex(state, FIVE)]?.id ?? null).toBe(id);
  });

  it('scrolls just enough to keep the selection in view', () => {
    let s = run(FIVE, 3, down(3));
    expect(rulesTop(s, FIVE, 3)).toBe(1);
    s = rulesReducer(s, { type: 'move', delta: -1, rules: FIVE, height: 3 });
    expect(rulesTop(s, FIVE, 3)).toBe(1);
    s = rulesReducer(s, { type: 'move', delta: -2, rules: FIVE, height: 3 });
    expect(rulesTop(s, FIVE, 3)).toBe(0);
  });

  it('keeps the selection on its rule when rules are added above it', () => {
    const s = run(FIVE, 3, down(2));
    expect(selectedRuleIndex(s, rows('new', 'a', 'b', 'c', 'd', 'e'))).toBe(3);
  });

  it('stays at the row of a removed rule, on the rule that took its place', () => {
    const s = run(FIVE, 3, down(2));
    const without = rows('a', 'b', 'd', 'e');
    expect(without[selectedRuleIndex(s, without)]?.id).toBe('d');
    // Removing the last rule selects the new last one.
    const atEnd = run(FIVE, 3, bottom);
    expect(selectedRuleIndex(atEnd, rows('a', 'b'))).toBe(1);
  });

  it('does nothing without rules', () => {
    expect(rulesReducer(initialRulesState, { type: 'move', delta: 1, rules: [], height: 3 })).toBe(initialRulesState);
    expect(rulesReducer(initialRulesState, { type: 'bottom', rules: [], height: 3 })).toBe(initialRulesState);
    expect(selectedRuleIndex(initialRulesState, [])).toBe(-1);
    expect(rulesTop(initialRulesState, [], 3)).toBe(0);
  });

  it('never scrolls past the end when the list shrinks', () => {
    const s = run(FIVE, 2, bottom);
    expect(rulesTop(s, FIVE, 2)).toBe(3);
    expect(rulesTop(s, rows('a', 'b'), 2)).toBe(0);
  });
});
