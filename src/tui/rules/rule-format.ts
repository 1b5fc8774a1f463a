import type { RuleEntry } from '../../store/rule-list.js';
import { sanitize, type Line, type Segment } from '../doc.js';
import { fit } from '../format.js';

/** Where a rule comes from, as the pane says it. */
export const SOURCE_LABELS: Readonly<Record<RuleEntry['source'], string>> = {
  config: 'config',
  settings: 'user',
  builtin: 'built-in',
};

const SOURCE_WIDTH = Math.max(...Object.values(SOURCE_LABELS).map((s) => s.length));
/** Type names longer than this are cut (the explain line says the rest). */
const TYPE_MAX = 12;

/** Column widths shared by all rows, so the explain lines start in one column. */
export interface RuleColumns {
  type: number;
}

export function ruleColumns(rules: readonly RuleEntry[]): RuleColumns {
  return { type: Math.min(TYPE_MAX, Math.max(4, ...rules.map((r) => r.type.length))) };
}

/** Rules switched on that the user set up (config file or settings); built-in policies not counted. */
export function activeRuleCount(rules: readonly RuleEntry[]): number {
  let n = 0;
  for (const r of rules) if (r.enabled && r.source !== 'builtin') n++;
  return n;
}

/** The pane's title row. */
export function rulesTitle(rules: readonly RuleEntry[]): Line {
  const on = rules.filter((r) => r.enabled).length;
  return [
    { text: 'Rules', role: 'heading' },
    { text: rules.length === 0 ? '' : `  ${rules.length === 1 ? '1 rule' : `${rules.length} rules`}, ${on} on`, role: 'muted' },
  ];
}

/**
 * One rule: selection, `[x]`/`[ ]`, type, source and its own one-line explanation, cut to `width`
 * (the component adds the selection style). A rule switched off is drawn muted.
 */
export function ruleLine(rule: RuleEntry, cols: RuleColumns, selected: boolean, width: number): Line {
  const off = rule.enabled ? {} : ({ role: 'muted' } as const);
  const head: Segment[] = [
    { text: selected ? '>' : ' ', role: 'accent' },
    { text: ' ' },
    rule.enabled ? { text: '[x]', role: 'ok' } : { text: '[ ]', role: 'muted' },
    { text: ' ' },
    { text: fit(rule.type, cols.type), role: rule.enabled ? 'heading' : 'muted' },
    { text: ' ' },
    { text: fit(SOURCE_LABELS[rule.source], SOURCE_WIDTH), role: 'muted' },
    { text: ' ' },
  ];
  let used = 0;
  for (const s of head) used += s.text.length;
  const room = width - used;
  if (room <= 0) return head;
  const explain = sanitize(rule.explain).replace(/\s+/g, ' ').trim();
  return [...head, { text: fit(explain, room).trimEnd(), ...off }];
}

/** What the pane says when there are no rules: how to add some. */
export const EMPTY_RULES_TEXT: readonly Line[] = [
  [{ text: 'No rules in force.', role: 'muted' }],
  [],
  [{ text: 'Add rules to the config file under ' }, { text: 'rules:', role: 'accent' }, { text: ' and start with --config FILE, e.g.' }],
  [{ text: '  rules:', role: 'accent' }],
  [{ text: '    - { type: block, filter: "~d ads.example", status: 403 }', role: 'accent' }],
  [{ text: 'or press ' }, { text: 'b', role: 'accent' }, { text: " on a flow to block its host (kept in your settings; remove it here with d)." }],
];
