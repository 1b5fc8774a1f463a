/** Stable codes for filter syntax errors (tests assert these; messages may be reworded). */
export type FilterErrorCode =
  | 'EMPTY'
  | 'EXPECTED_FILTER'
  | 'EXPECTED_FILTER_NAME'
  | 'UNKNOWN_FILTER'
  | 'EXPECTED_ARGUMENT'
  | 'INVALID_REGEX'
  | 'INVALID_STATUS'
  | 'UNCLOSED_QUOTE'
  | 'UNCLOSED_PAREN'
  | 'UNMATCHED_PAREN'
  | 'TOO_DEEP';

/** A filter expression that does not parse, with the place it went wrong. */
export class FilterSyntaxError extends Error {
  constructor(
    readonly code: FilterErrorCode,
    message: string,
    /** 1-based column (in characters) the error points at; `expression.length + 1` means "at the end". */
    readonly column: number,
  ) {
    super(message);
    this.name = 'FilterSyntaxError';
  }
}

/** Build an error pointing at UTF-16 offset `index` of `source`, counting columns in code points. */
export function syntaxErrorAt(
  source: string,
  index: number,
  code: FilterErrorCode,
  message: string,
): FilterSyntaxError {
  return new FilterSyntaxError(code, message, codePointLength(source.slice(0, index)) + 1);
}

/**
 * Two lines for the TUI: the expression, then a caret under the column with the message.
 * Tabs and line breaks in the expression are shown as spaces so the caret lines up.
 *
 *     ~d api & (~m GET
 *              ^ unclosed (
 */
export function formatFilterError(expression: string, error: FilterSyntaxError): string {
  const shown = expression.replace(/[\t\n\r\v\f]/g, ' ');
  const width = codePointLength(shown);
  const pad = ' '.repeat(Math.min(Math.max(error.column - 1, 0), width));
  return `${shown}\n${pad}^ ${error.message}`;
}

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
