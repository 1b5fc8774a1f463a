import { describe, expect, it } from 'vitest';
import {
  describeFilter,
  FILTER_HELP,
  FILTERS,
  parseFilterExpression,
  type FilterNode,
} from '../../../../src/proxy/filter/index.js';

describe('describeFilter', () => {
  it.each<[string, string]>([
    ['~d api\\.example ~m GET', 'domain ~ /api\\.example/ and method GET'],
    ['~d api\\.example & ~m get', 'domain ~ /api\\.example/ and method GET'],
    ['~m "^(GET|HEAD)$"', 'method ~ /^(GET|HEAD)$/'],
    ['~u /api/', 'url ~ /\\/api\\//'],
    ['~u "a\\/b"', 'url ~ /a\\/b/'],
    ['cdn', 'url ~ /cdn/'],
    ['~c 404 | ~q', 'status 404 or no response'],
    ['(~c 404 | ~q) & ~e', '(status 404 or no response) and has error'],
    ['~c 404 | ~q & ~e', 'status 404 or no response and has error'],
    ['!(~d a & ~s)', 'not (domain ~ /a/ and has response)'],
    ['!~websocket', 'not WebSocket'],
    ['~d a | ~d b | ~d c', 'domain ~ /a/ or domain ~ /b/ or domain ~ /c/'],
    ['~tag cache:HIT', 'tag "cache:HIT"'],
    ['~hs "x-cache: hit"', 'response header ~ /x-cache: hit/'],
    ['~bq token ~http2', 'request body ~ /token/ and HTTP/2'],
    ['~t json ~a ~marked ~tunnel', 'content-type ~ /json/ and asset and marked and tunnel'],
    ['~all', 'everything'],
    ['~d (', 'invalid filter: expected an argument after ~d at column 4'],
  ])('%s → %s', (expression, expected) => {
    expect(describeFilter(expression)).toBe(expected);
  });
});

describe('the parsed form', () => {
  const d = (pattern: string): FilterNode => ({ type: 'regex', name: 'd', pattern, bare: false });

  it.each<[string, FilterNode]>([
    ['~q | ~s & ~e', { type: 'or', operands: [{ type: 'flag', name: 'q' }, { type: 'and', operands: [{ type: 'flag', name: 's' }, { type: 'flag', name: 'e' }] }] }],
    ['~d a ~d b & ~d c', { type: 'and', operands: [d('a'), d('b'), d('c')] }],
    ['!~d a ~d b', { type: 'and', operands: [{ type: 'not', operand: d('a') }, d('b')] }],
    ['word', { type: 'regex', name: 'u', pattern: 'word', bare: true }],
    ['~c 503', { type: 'status', status: 503 }],
    ['~tag blocked', { type: 'tag', tag: 'blocked' }],
    ['~d "a\\\\"', d('a\\\\')],
  ])('%s', (expression, expected) => {
    expect(parseFilterExpression(expression)).toEqual(expected);
  });
});

describe('FILTER_HELP', () => {
  it('lists every filter with its argument', () => {
    const syntaxes = FILTER_HELP.map((h) => h.syntax);
    for (const name of Object.keys(FILTERS)) expect(syntaxes.some((s) => s.split(' ')[0] === `~${name}`)).toBe(true);
    expect(syntaxes).toContain('~d regex');
    expect(syntaxes).toContain('~c code');
    expect(syntaxes).toContain('~q');
  });
});
