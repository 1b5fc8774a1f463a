import { assertNever } from '../core/assert-never.js';
import type { FilterNode } from './ast.js';
import { FILTERS } from './catalog.js';

/**
 * One line of English for a parsed filter, for rules' `explain()` and the TUI:
 * `~d api\.example ~m GET` → `domain ~ /api\.example/ and method GET`.
 */
export function describeFilterNode(node: FilterNode): string {
  switch (node.type) {
    case 'and':
      return node.operands.map((n) => (n.type === 'or' ? `(${describeFilterNode(n)})` : describeFilterNode(n))).join(' and ');
    case 'or':
      return node.operands.map(describeFilterNode).join(' or ');
    case 'not': {
      const inner = describeFilterNode(node.operand);
      return node.operand.type === 'and' || node.operand.type === 'or' ? `not (${inner})` : `not ${inner}`;
    }
    case 'flag':
      return FILTERS[node.name].phrase;
    case 'regex':
      // A method is a token, so `~m get` reads better as `method GET` than as a regex.
      if (node.name === 'm' && /^[A-Za-z]+$/.test(node.pattern)) return `method ${node.pattern.toUpperCase()}`;
      return `${FILTERS[node.name].phrase} ~ ${regexLiteral(node.pattern)}`;
    case 'status':
      return `status ${node.status}`;
    case 'tag':
      return `tag ${JSON.stringify(node.tag)}`;
    default:
      return assertNever(node, 'filter node');
  }
}

/** `/source/` with unescaped slashes escaped, as a JavaScript regex literal would show it. */
function regexLiteral(pattern: string): string {
  return `/${pattern.replace(/\\.|\//g, (m) => (m === '/' ? '\\/' : m))}/`;
}
