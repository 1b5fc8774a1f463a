/**
 * The filter expression language (DESIGN.md §6): one mitmproxy-style language for the TUI view
 * filter, breakpoints, blocklists, cache rules and export selection.
 *
 *     ~d api\.example & !~m OPTIONS | ~c 500
 *
 * Parsing (`lexer.ts`, `parser.ts` → `FilterNode`) is kept apart from evaluation (`compile.ts` →
 * closures) and explanation (`describe.ts`). Imports only `proxy/core` and `node:zlib`.
 */
export { compileFilter, describeFilter, parseFilter, type FilterParseResult } from './filter-expression.js';
export { FilterSyntaxError, formatFilterError, type FilterErrorCode } from './errors.js';
export type { FlowPredicate } from './compile.js';
export type { FilterNode } from './ast.js';
export { parseFilterExpression } from './parser.js';
export { compileFilterNode } from './compile.js';
export { describeFilterNode } from './describe.js';
export { FILTERS, FILTER_HELP, type FilterHelpEntry, type FilterName, type FilterSpec } from './catalog.js';
