import { describe, expect, it } from 'vitest';
import { arrayDoc, concatDocs, lineText, sanitize, textDoc, wrapPlain, type Doc } from '../../../src/tui/doc.js';
import { findMatch, highlightMatches, matchStarts } from '../../../src/tui/detail/search.js';

const rows = (doc: Doc) => Array.from({ length: doc.length }, (_, i) => doc.text(i));

describe('textDoc', () => {
  it.each<[string, number, string[]]>([
    ['a\nb', 10, ['a', 'b']],
    ['a\n', 10, ['a']],
    ['a\n\nb', 10, ['a', '', 'b']],
    ['abcdefg', 3, ['abc', 'def', 'g']],
    ['ab\r\ncd', 10, ['ab', 'cd']],
    ['', 10, ['']],
    ['x\ty', 10, ['x  y']],
  ])('%j at width %d', (text, width, expected) => {
    expect(rows(textDoc(text, width))).toEqual(expected);
  });

  it('highlights only the rows asked for', () => {
    let calls = 0;
    const doc = textDoc('r\n'.repeat(100_000), 80, (row) => {
      calls++;
      return [{ text: row, role: 'string' }];
    });
    expect(doc.length).toBe(100_000);
    expect(doc.line(500)).toEqual([{ text: 'r', role: 'string' }]);
    expect(calls).toBe(1);
  });
});

describe('concatDocs', () => {
  it('joins documents and skips empty ones', () => {
    const doc = concatDocs([arrayDoc([[{ text: 'a' }]]), arrayDoc([]), textDoc('b\nc', 10), arrayDoc([[{ text: 'd' }]])]);
    expect(rows(doc)).toEqual(['a', 'b', 'c', 'd']);
    expect(doc.text(99)).toBe('');
  });
});

describe('sanitize', () => {
  it('neutralizes terminal controls but keeps line feeds', () => {
    expect(sanitize('a\x1b[2Jb\x07c\nd\x9be')).toBe('a·[2Jb·c\nd·e');
  });
});

describe('wrapPlain', () => {
  it('indents continuation rows', () => {
    expect(wrapPlain('abcdefgh', 4, 2)).toEqual(['abcd', '  ef', '  gh']);
  });
});

describe('search', () => {
  const doc = textDoc(['alpha beta', 'gamma', 'beta beta', 'delta', 'Beta'].join('\n'), 80);

  it.each<[string, string, number[]]>([
    ['beta beta', 'beta', [0, 5]],
    ['Beta', 'beta', [0]],
    ['beta', 'Beta', []],
    ['aaaa', 'aa', [0, 2]],
  ])('matchStarts(%j, %j) (smart case)', (text, q, out) => expect(matchStarts(text, q)).toEqual(out));

  it.each<[string, { line: number; start: number } | null, 1 | -1, { line: number; start: number }, boolean]>([
    ['first from the top', null, 1, { line: 0, start: 6 }, false],
    ['next on the same row', { line: 2, start: 0 }, 1, { line: 2, start: 5 }, false],
    ['next on a later row', { line: 0, start: 6 }, 1, { line: 2, start: 0 }, false],
    ['case-insensitive hit', { line: 2, start: 5 }, 1, { line: 4, start: 0 }, false],
    ['wraps to the top', { line: 4, start: 0 }, 1, { line: 0, start: 6 }, true],
    ['previous on the same row', { line: 2, start: 5 }, -1, { line: 2, start: 0 }, false],
    ['previous wraps to the bottom', { line: 0, start: 6 }, -1, { line: 4, start: 0 }, true],
  ])('%s', (_name, from, dir, pos, wrapped) => {
    expect(findMatch(doc, 'beta', from, dir)).toEqual({ pos, wrapped });
  });

  it('starts at the given row and finds nothing when there is nothing', () => {
    expect(findMatch(doc, 'beta', null, 1, 3)?.pos).toEqual({ line: 4, start: 0 });
    expect(findMatch(doc, 'zeta', null, 1)).toBeNull();
    expect(findMatch(doc, '', null, 1)).toBeNull();
  });

  it('a single match is found again after a full turn', () => {
    const one = textDoc('x needle y', 80);
    expect(findMatch(one, 'needle', { line: 0, start: 2 }, 1)).toEqual({ pos: { line: 0, start: 2 }, wrapped: true });
  });

  it('highlights matches across segments, the current one apart', () => {
    const line = [{ text: 'ab', role: 'key' as const }, { text: 'cab' }];
    const out = highlightMatches(line, 'ab', 3);
    expect(lineText(out)).toBe('abcab');
    expect(out).toEqual([
      { text: 'ab', role: 'match' },
      { text: 'c' },
      { text: 'ab', role: 'current-match' },
    ]);
    expect(highlightMatches(line, 'zz', null)).toBe(line);
  });
});
