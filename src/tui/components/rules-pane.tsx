import { Box } from 'ink';
import type { RuleEntry } from '../../store/rule-list.js';
import { EMPTY_RULES_TEXT, ruleColumns, ruleLine, rulesTitle } from '../rules/rule-format.js';
import { rulesTop, selectedRuleIndex, type RulesState } from '../state/rules-state.js';
import { BlankLine, StyledLine } from './styled-line.js';

export interface RulesPaneProps {
  rules: readonly RuleEntry[];
  state: RulesState;
  width: number;
  /** Rows for rules (the title row is extra). */
  height: number;
}

/** The rules pane: a title and the rules in view, each with its one-line explanation. */
export function RulesPane({ rules, state, width, height }: RulesPaneProps) {
  const rows = [];
  if (rules.length === 0) {
    for (let i = 0; i < height; i++) rows.push(<StyledLine key={i} line={EMPTY_RULES_TEXT[i] ?? []} width={width} />);
  } else {
    const cols = ruleColumns(rules);
    const top = rulesTop(state, rules, height);
    const sel = selectedRuleIndex(state, rules);
    for (let i = 0; i < height; i++) {
      const rule = rules[top + i];
      const selected = top + i === sel;
      if (rule) rows.push(<StyledLine key={rule.id} line={ruleLine(rule, cols, selected, width)} width={width} {...(selected ? { role: 'selected' as const } : {})} />);
      else rows.push(<BlankLine key={`b${i}`} />);
    }
  }
  return (
    <Box flexDirection="column">
      <StyledLine line={rulesTitle(rules)} width={width} />
      {rows}
    </Box>
  );
}
