import type { FlagFilterName, RegexFilterName } from './catalog.js';

/**
 * The parsed form of a filter expression: plain data, apart from evaluation (`compile.ts`) and
 * explanation (`describe.ts`). `and`/`or` chains are flattened into one node with all operands.
 */
export type FilterNode =
  | { type: 'and'; operands: FilterNode[] }
  | { type: 'or'; operands: FilterNode[] }
  | { type: 'not'; operand: FilterNode }
  | { type: 'flag'; name: FlagFilterName }
  | {
      type: 'regex';
      name: RegexFilterName;
      /** The regular expression source as written (quotes removed); always valid. */
      pattern: string;
      /** True for a bare word, which means `~u word`. */
      bare: boolean;
    }
  | { type: 'status'; status: number }
  | { type: 'tag'; tag: string };

/** Filter regexes are case-insensitive, as in mitmproxy. No `g`/`y`: `test()` keeps no state. */
export function filterRegex(pattern: string): RegExp {
  return new RegExp(pattern, 'i');
}
