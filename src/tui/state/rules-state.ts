import { assertNever } from '../../proxy/core/assert-never.js';

/**
 * The rules pane's selection and scroll, as a pure reducer. The selection is a rule id, so rules
 * added or switched while the pane is open do not move it; when the selected rule goes away
 * (removed), the selection stays at its row, on the rule that took its place.
 */

/** What the reducer needs of a rule. */
export interface RuleRow {
  readonly id: string;
}

export interface RulesState {
  /** Id of the selected rule (null: the first). */
  selectedId: string | null;
  /** Row of the selection when it was last moved: where it falls back to when its rule is gone. */
  index: number;
  /** First visible row, as last scrolled to (clamped when used). */
  top: number;
}

export type RulesAction =
  | { type: 'move'; delta: number; rules: readonly RuleRow[]; height: number }
  | { type: 'top'; rules: readonly RuleRow[]; height: number }
  | { type: 'bottom'; rules: readonly RuleRow[]; height: number };

export const initialRulesState: RulesState = { selectedId: null, index: 0, top: 0 };

/** Row of the selection in `rules`, -1 when there are none. */
export function selectedRuleIndex(state: RulesState, rules: readonly RuleRow[]): number {
  if (rules.length === 0) return -1;
  if (state.selectedId !== null) {
    const at = rules.findIndex((r) => r.id === state.selectedId);
    if (at >= 0) return at;
  }
  return Math.min(Math.max(0, state.index), rules.length - 1);
}

/** First visible row: as scrolled, moved just enough to show the selection. */
export function rulesTop(state: RulesState, rules: readonly RuleRow[], height: number): number {
  const h = Math.max(1, height);
  const sel = selectedRuleIndex(state, rules);
  if (sel < 0) return 0;
  const top = Math.min(Math.max(state.top, sel - h + 1), sel);
  return Math.min(Math.max(0, top), Math.max(0, rules.length - h));
}

function select(state: RulesState, index: number, rules: readonly RuleRow[], height: number): RulesState {
  if (rules.length === 0) return state;
  const i = Math.min(Math.max(0, index), rules.length - 1);
  const next: RulesState = { selectedId: rules[i]!.id, index: i, top: rulesTop(state, rules, height) };
  return { ...next, top: rulesTop(next, rules, height) };
}

export function rulesReducer(state: RulesState, action: RulesAction): RulesState {
  switch (action.type) {
    case 'move': {
      const cur = selectedRuleIndex(state, action.rules);
      if (cur < 0) return state;
      return select(state, cur + action.delta, action.rules, action.height);
    }
    case 'top':
      return select(state, 0, action.rules, action.height);
    case 'bottom':
      return select(state, action.rules.length - 1, action.rules, action.height);
    default:
      return assertNever(action, 'rules action');
  }
}
