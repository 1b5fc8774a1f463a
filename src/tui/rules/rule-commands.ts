import { assertNever } from '../../proxy/core/assert-never.js';
import type { RuleEntry } from '../../store/rule-list.js';
import { send, type CommandDeps } from '../commands.js';
import { selectedRuleIndex } from '../state/rules-state.js';
import { SOURCE_LABELS } from './rule-format.js';

/**
 * The rules pane's keys (issue 6): switch the selected rule on or off, remove a rule the user
 * added. The proxy owns the rules; these only send commands, and the pane redraws from the rule
 * list the runtime publishes once a command took effect.
 */

/** The selected rule, or a message and null when there is none. */
function selected(d: CommandDeps): RuleEntry | null {
  const rule = d.rules[selectedRuleIndex(d.state.rules, d.rules)];
  if (!rule) d.dispatch({ type: 'message', text: 'no rule selected', level: 'warn' });
  return rule ?? null;
}

/** A rule as the message line names it: its type and, briefly, what it does. */
function named(rule: RuleEntry): string {
  const explain = rule.explain.replace(/\s+/g, ' ');
  return explain.length > 40 ? `${explain.slice(0, 39)}…` : explain || rule.type;
}

export function toggleSelectedRule(d: CommandDeps): void {
  const rule = selected(d);
  if (!rule) return;
  const enabled = !rule.enabled;
  // The wanted state is sent, not "flip": a second press before the list updates must not undo it.
  send(d, { type: 'toggle-rule', ruleId: rule.id, enabled }, `${enabled ? 'on' : 'off'}: ${named(rule)}`);
}

export function removeSelectedRule(d: CommandDeps): void {
  const rule = selected(d);
  if (!rule) return;
  switch (rule.source) {
    case 'settings':
      return send(d, { type: 'remove-rule', ruleId: rule.id }, `removed: ${named(rule)}`);
    case 'config':
      return d.dispatch({ type: 'message', text: 'rules from the config file are edited in the file; space switches this one off', level: 'warn' });
    case 'builtin':
      return d.dispatch({ type: 'message', text: `${SOURCE_LABELS.builtin} policies cannot be removed; space switches this one off`, level: 'warn' });
    default:
      return assertNever(rule.source, 'rule source');
  }
}
