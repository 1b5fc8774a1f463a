import { describe, expect, it } from 'vitest';
import { cacheControlOf, deltaSeconds, parseCacheControl, parseDeltaSeconds, type DeltaSeconds } from '../../../../../src/proxy/rules/cache/cache-control.js';

const entries = (value: string | string[]) => Object.fromEntries(parseCacheControl(value));

describe('parseCacheControl', () => {
  it.each<[string, string | string[], Record<string, Array<string | null>>]>([
    ['bare directives', 'no-cache, no-store', { 'no-cache': [null], 'no-store': [null] }],
    ['an argument', 'max-age=60', { 'max-age': ['60'] }],
    ['names in any case', 'Max-Age=60, NO-CACHE', { 'max-age': ['60'], 'no-cache': [null] }],
    ['whitespace everywhere', '  max-age = 60 ,\tpublic  ', { 'max-age': ['60'], public: [null] }],
    ['a quoted argument', 'max-age="60"', { 'max-age': ['60'] }],
    ['a comma inside quotes does not split', 'no-cache="Set-Cookie, X-Foo", private', { 'no-cache': ['Set-Cookie, X-Foo'], private: [null] }],
    ['backslash escapes in quotes', 'ext="a\\"b"', { ext: ['a"b'] }],
    ['an unterminated quote runs to the end', 'private="Set-Cookie, max-age=5', { private: ['Set-Cookie, max-age=5'] }],
    ['junk after a quoted string is ignored', 'a="x"junk, b', { a: ['x'], b: [null] }],
    ['empty members are skipped', ',, max-age=5,,', { 'max-age': ['5'] }],
    ['duplicates are all kept, in order', 'max-age=5, max-age=10', { 'max-age': ['5', '10'] }],
    ['several field lines', ['max-age=5', 'must-revalidate'], { 'max-age': ['5'], 'must-revalidate': [null] }],
    ['an empty argument', 'max-age=', { 'max-age': [''] }],
    ['nothing', '', {}],
  ])('%s', (_case, value, expected) => {
    expect(entries(value)).toEqual(expected);
  });

  it('reads every Cache-Control line of a message, whatever its case', () => {
    const d = cacheControlOf([
      ['cache-control', 'max-age=5'],
      ['X-Other', 'no-store'],
      ['CACHE-CONTROL', 'private'],
    ]);
    expect([...d.keys()]).toEqual(['max-age', 'private']);
  });
});

describe('deltaSeconds', () => {
  it.each<[string, string, DeltaSeconds]>([
    ['absent', 'public', 'absent'],
    ['a number', 'max-age=60', 60],
    ['zero', 'max-age=0', 0],
    ['quoted', 'max-age="60"', 60],
    ['bare', 'max-age', 'bare'],
    ['not a number', 'max-age=abc', 'invalid'],
    ['negative', 'max-age=-1', 'invalid'],
    ['a fraction', 'max-age=1.5', 'invalid'],
    ['empty', 'max-age=', 'invalid'],
    ['repeated with the same value', 'max-age=60, max-age=60', 60],
    ['repeated with different values (§4.2.1: stale)', 'max-age=60, max-age=10', 'invalid'],
    ['bare and valued', 'max-age, max-age=10', 'invalid'],
    ['too big: 2^31 (§1.2.2)', 'max-age=99999999999999999999', 2 ** 31],
  ])('%s: %s', (_case, value, expected) => {
    expect(deltaSeconds(parseCacheControl(value), 'max-age')).toBe(expected);
  });

  it.each<[string, number | null]>([
    ['0', 0],
    [' 42 ', 42],
    ['2147483648', 2 ** 31],
    ['2147483649', 2 ** 31],
    ['4e3', null],
    ['0x10', null],
    ['', null],
  ])('parseDeltaSeconds(%j) = %j', (text, expected) => {
    expect(parseDeltaSeconds(text)).toBe(expected);
  });
});
