import { describe, expect, it } from 'vitest';
import type { HeaderPairs } from '../../../../../src/proxy/core/flow.js';
import { selectingHeaders, varyMatches, varyNames } from '../../../../../src/proxy/rules/cache/vary.js';

describe('varyNames', () => {
  it.each<[string, HeaderPairs, string[] | '*']>([
    ['no Vary', [['Content-Type', 'text/plain']], []],
    ['one name, lowercased', [['Vary', 'Accept-Encoding']], ['accept-encoding']],
    ['a list over several lines, deduplicated', [['Vary', 'Accept, accept-encoding'], ['vary', 'ACCEPT, Origin']], ['accept', 'accept-encoding', 'origin']],
    ['empty members', [['Vary', ' , Accept ,']], ['accept']],
    ['*', [['Vary', 'Accept, *']], '*'],
  ])('%s', (_case, headers, expected) => {
    expect(varyNames(headers)).toEqual(expected);
  });
});

describe('varyMatches (RFC 9111 §4.1)', () => {
  it.each<[string, string[], HeaderPairs, HeaderPairs, boolean]>([
    // [case, Vary names, request that stored, new request, matches]
    ['no Vary, any request', [], [['Accept', 'a']], [['Accept', 'b']], true],
    ['same value', ['accept-encoding'], [['Accept-Encoding', 'gzip']], [['accept-encoding', 'gzip']], true],
    ['different value', ['accept-encoding'], [['Accept-Encoding', 'gzip']], [['Accept-Encoding', 'br']], false],
    ['absent in both', ['accept-language'], [], [], true],
    ['absent in one', ['accept-language'], [['Accept-Language', 'en']], [], false],
    ['whitespace around commas is normalized', ['accept-encoding'], [['Accept-Encoding', 'gzip,br']], [['Accept-Encoding', 'gzip ,  br']], true],
    ['field lines are combined', ['accept-encoding'], [['Accept-Encoding', 'gzip, br']], [['Accept-Encoding', 'gzip'], ['Accept-Encoding', 'br']], true],
    ['order of list members matters', ['accept-encoding'], [['Accept-Encoding', 'gzip, br']], [['Accept-Encoding', 'br, gzip']], false],
    ['case of values matters', ['accept-language'], [['Accept-Language', 'en']], [['Accept-Language', 'EN']], false],
    ['all named fields must match', ['accept', 'origin'], [['Accept', 'a'], ['Origin', 'x']], [['Accept', 'a'], ['Origin', 'y']], false],
    ['Authorization is compared although not named', [], [['Authorization', 'Bearer a']], [['Authorization', 'Bearer b']], false],
    ['same Authorization matches', [], [['Authorization', 'Bearer a']], [['authorization', 'Bearer a']], true],
    ['no Authorization vs some', [], [], [['Authorization', 'Bearer a']], false],
  ])('%s', (_case, names, stored, presented, expected) => {
    expect(varyMatches(selectingHeaders(names, stored), presented)).toBe(expected);
  });

  it('keeps credentials only as a fingerprint', () => {
    const selecting = selectingHeaders(['accept'], [['Accept', 'text/html'], ['Authorization', 'Bearer secret-token']]);
    expect(selecting[0]).toEqual(['accept', 'text/html']);
    expect(selecting[1]![0]).toBe('authorization');
    expect(selecting[1]![1]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(selecting)).not.toContain('secret-token');
  });
});
