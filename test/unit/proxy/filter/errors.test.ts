import { describe, expect, it } from 'vitest';
import {
  compileFilter,
  FilterSyntaxError,
  formatFilterError,
  parseFilter,
  type FilterErrorCode,
} from '../../../../src/proxy/filter/index.js';

function errorOf(expression: string): FilterSyntaxError {
  const result = parseFilter(expression);
  if (result.ok) throw new Error(`expected ${JSON.stringify(expression)} not to parse`);
  return result.error;
}

describe('parse errors point at the column', () => {
  it.each<[string, number, FilterErrorCode, string]>([
    // expression, column (1-based), code, message fragment
    ['', 1, 'EMPTY', 'empty filter expression'],
    ['   ', 1, 'EMPTY', 'empty filter expression'],
    ['~d', 3, 'EXPECTED_ARGUMENT', 'expected an argument after ~d'],
    ['~m GET & ~d', 12, 'EXPECTED_ARGUMENT', 'expected an argument after ~d'],
    ['(~d )', 5, 'EXPECTED_ARGUMENT', 'expected an argument after ~d'],
    ['~d (api)', 4, 'EXPECTED_ARGUMENT', 'expected an argument after ~d'],
    ['~d a ~c', 8, 'EXPECTED_ARGUMENT', 'expected an argument after ~c'],
    ['~tag ""', 6, 'EXPECTED_ARGUMENT', 'expected an argument after ~tag'],
    ['~zz foo', 1, 'UNKNOWN_FILTER', 'unknown filter ~zz'],
    ['~s & ~zz', 6, 'UNKNOWN_FILTER', 'unknown filter ~zz'],
    ['~d.com', 1, 'UNKNOWN_FILTER', 'unknown filter ~d.com'],
    ['~', 1, 'EXPECTED_FILTER_NAME', 'expected a filter name after ~'],
    ['~s & ~ x', 6, 'EXPECTED_FILTER_NAME', 'expected a filter name after ~'],
    ['(~d a', 1, 'UNCLOSED_PAREN', 'unclosed ('],
    ['~s & (~d a | (~q)', 6, 'UNCLOSED_PAREN', 'unclosed ('],
    ['~d a)', 5, 'UNMATCHED_PAREN', 'unmatched )'],
    [')', 1, 'UNMATCHED_PAREN', 'unmatched )'],
    ['~q ) ~s', 4, 'UNMATCHED_PAREN', 'unmatched )'],
    ['~d a &', 7, 'EXPECTED_FILTER', 'expected a filter after &'],
    ['~d a | | ~s', 8, 'EXPECTED_FILTER', 'expected a filter after |'],
    ['~d a & | ~s', 8, 'EXPECTED_FILTER', 'expected a filter after &'],
    ['& ~s', 1, 'EXPECTED_FILTER', 'expected a filter before &'],
    ['| ~s', 1, 'EXPECTED_FILTER', 'expected a filter before |'],
    ['!', 2, 'EXPECTED_FILTER', 'expected a filter after !'],
    ['~s !)', 5, 'EXPECTED_FILTER', 'expected a filter after !'],
    ['()', 2, 'EXPECTED_FILTER', 'expected a filter after ('],
    ['api (', 6, 'EXPECTED_FILTER', 'expected a filter after ('],
    ['~d "api', 4, 'UNCLOSED_QUOTE', 'unclosed "'],
    ["~u 'abc\\'", 4, 'UNCLOSED_QUOTE', "unclosed '"],
    ['"abc', 1, 'UNCLOSED_QUOTE', 'unclosed "'],
    ['~d [a-', 4, 'INVALID_REGEX', 'invalid regular expression after ~d'],
    ['~s & ~u "a(b"', 9, 'INVALID_REGEX', 'invalid regular expression after ~u: unterminated group'],
    ['~h *x', 4, 'INVALID_REGEX', 'nothing to repeat'],
    ['[', 1, 'INVALID_REGEX', 'invalid regular expression'],
    ['~c abc', 4, 'INVALID_STATUS', '~c expects a three-digit status code, got "abc"'],
    ['~c 20', 4, 'INVALID_STATUS', 'three-digit'],
    ['~c 2000', 4, 'INVALID_STATUS', 'three-digit'],
    ['~c 099', 4, 'INVALID_STATUS', 'three-digit'],
    // columns count characters, not UTF-16 units: the emoji is one column
    ['~u 😀 & ~zz', 8, 'UNKNOWN_FILTER', 'unknown filter ~zz'],
  ])('%j → column %i, %s', (expression, column, code, fragment) => {
    const error = errorOf(expression);
    expect(error).toBeInstanceOf(FilterSyntaxError);
    expect({ column: error.column, code: error.code }).toEqual({ column, code });
    expect(error.message).toContain(fragment);
  });
});

describe('pathological input', () => {
  it('refuses deep nesting with a syntax error instead of overflowing the stack', () => {
    expect(errorOf(`${'('.repeat(100_000)}~q${')'.repeat(100_000)}`)).toMatchObject({ code: 'TOO_DEEP', column: 201 });
    expect(errorOf(`${'!'.repeat(100_000)}~q`)).toMatchObject({ code: 'TOO_DEEP' });
  });

  it('accepts reasonable nesting', () => {
    expect(compileFilter(`${'('.repeat(50)}!!~q${')'.repeat(50)}`)).toBeTypeOf('function');
  });
});

describe('compileFilter', () => {
  it('throws the same FilterSyntaxError', () => {
    expect(() => compileFilter('~d api & (~m GET')).toThrow(FilterSyntaxError);
    try {
      compileFilter('~d api & (~m GET');
    } catch (err) {
      expect(err).toMatchObject({ name: 'FilterSyntaxError', code: 'UNCLOSED_PAREN', column: 10 });
    }
  });
});

describe('formatFilterError', () => {
  it.each<[string, string]>([
    ['~d api & (~m GET', '~d api & (~m GET\n         ^ unclosed ('],
    ['~d', '~d\n  ^ expected an argument after ~d'],
    ['~zz', '~zz\n^ unknown filter ~zz'],
    // a tab is shown as one space so the caret stays under its column
    ['~q\t& ~zz', '~q & ~zz\n     ^ unknown filter ~zz'],
  ])('%j', (expression, expected) => {
    expect(formatFilterError(expression, errorOf(expression))).toBe(expected);
  });

  it('gives two lines even for an expression with a line break', () => {
    const expression = '~q\n& ~zz';
    expect(formatFilterError(expression, errorOf(expression)).split('\n')).toEqual(['~q & ~zz', '     ^ unknown filter ~zz']);
  });
});
