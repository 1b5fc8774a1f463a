import type { FilterNode } from './ast.js';
import { compileFilterNode, type FlowPredicate } from './compile.js';
import { describeFilterNode } from './describe.js';
import { FilterSyntaxError } from './errors.js';
import { parseFilterExpression } from './parser.js';

/** What `parseFilter` returns: a predicate, or the error with its column. */
export type FilterParseResult =
  | { ok: true; predicate: FlowPredicate; expression: string }
  | { ok: false; error: FilterSyntaxError };

/**
 * Parse and compile a filter expression. Never throws: for user input (TUI filter prompt, config)
 * where a bad expression is an answer, not an exception. An empty expression is an error
 * (`EMPTY`): a blocklist rule with filter "" must not silently match everything; a view filter
 * prompt treats empty input as "no filter" before calling this.
 */
export function parseFilter(expression: string): FilterParseResult {
  try {
    return { ok: true, predicate: compileFilter(expression), expression };
  } catch (err) {
    if (err instanceof FilterSyntaxError) return { ok: false, error: err };
    throw err; // a bug in the parser, not in the expression
  }
}

/** Parse and compile a filter expression; throws `FilterSyntaxError`. */
export function compileFilter(expression: string): FlowPredicate {
  return compileFilterNode(parseFilterExpression(expression));
}

/**
 * One line of English for an expression, e.g. `domain ~ /api\.example/ and method GET`. Never
 * throws: an invalid expression is described as such (`invalid filter: unclosed ( at column 4`).
 */
export function describeFilter(expression: string): string {
  let node: FilterNode;
  try {
    node = parseFilterExpression(expression);
  } catch (err) {
    if (err instanceof FilterSyntaxError) return `invalid filter: ${err.message} at column ${err.column}`;
    throw err;
  }
  return describeFilterNode(node);
}
