import { describe, expect, it } from 'vitest';
import { childPath, compareBodies, diffJson, firstDifference, type BodyDiff, type JsonChange } from '../../../src/replay/diff.js';

describe('diffJson', () => {
  it.each<[string, unknown, unknown, JsonChange[]]>([
    ['equal scalars', 1, 1, []],
    ['changed number at the root', 10, 12, [{ kind: 'changed', path: '$', before: 10, after: 12 }]],
    ['key order ignored', { a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, []],
    ['nested change', { items: [{ price: 1 }, { price: 5 }, { price: 10 }] }, { items: [{ price: 1 }, { price: 5 }, { price: 12 }] }, [{ kind: 'changed', path: '$.items[2].price', before: 10, after: 12 }]],
    ['added key', { a: 1 }, { a: 1, b: true }, [{ kind: 'added', path: '$.b', after: true }]],
    ['removed key', { a: 1, b: null }, { a: 1 }, [{ kind: 'removed', path: '$.b', before: null }]],
    ['null is a value, not a missing key', { a: null }, { a: 0 }, [{ kind: 'changed', path: '$.a', before: null, after: 0 }]],
    ['array grew', [1, 2], [1, 2, 3], [{ kind: 'added', path: '$[2]', after: 3 }]],
    ['array shrank', [1, 2, 3], [1], [{ kind: 'removed', path: '$[1]', before: 2 }, { kind: 'removed', path: '$[2]', before: 3 }]],
    ['type change object → array is one change', { a: { x: 1 } }, { a: [1] }, [{ kind: 'changed', path: '$.a', before: { x: 1 }, after: [1] }]],
    ['type change number → string', { n: 1 }, { n: '1' }, [{ kind: 'changed', path: '$.n', before: 1, after: '1' }]],
    ['keys that need quoting', { 'a b': 1, 'x.y': 2, 'ok_1': 3 }, { 'a b': 2, 'x.y': 3, 'ok_1': 4 }, [
      { kind: 'changed', path: '$["a b"]', before: 1, after: 2 },
      { kind: 'changed', path: '$["x.y"]', before: 2, after: 3 },
      { kind: 'changed', path: '$.ok_1', before: 3, after: 4 },
    ]],
    ['order: recorded keys first, then new ones', { b: 1, a: 1 }, { c: 1, a: 2 }, [
      { kind: 'removed', path: '$.b', before: 1 },
      { kind: 'changed', path: '$.a', before: 1, after: 2 },
      { kind: 'added', path: '$.c', after: 1 },
    ]],
    ['__proto__ as an ordinary key', JSON.parse('{"__proto__":1}'), JSON.parse('{"__proto__":2}'), [{ kind: 'changed', path: '$.__proto__', before: 1, after: 2 }]],
  ])('%s', (_name, a, b, changes) => {
    expect(diffJson(a, b)).toEqual(changes);
  });
});

describe('childPath', () => {
  it.each<[string, string | number, string]>([
    ['$', 'a', '$.a'],
    ['$', 0, '$[0]'],
    ['$.a', '$id', '$.a.$id'],
    ['$', '1st', '$["1st"]'],
    ['$', '', '$[""]'],
    ['$', 'quote"d', '$["quote\\"d"]'],
  ])('%s + %j → %s', (parent, key, path) => {
    expect(childPath(parent, key)).toBe(path);
  });
});

describe('compareBodies', () => {
  const b = (s: string | number[]) => (typeof s === 'string' ? Buffer.from(s) : Buffer.from(s));
  it.each<[string, Buffer, Buffer, BodyDiff]>([
    ['identical bytes', b('hello'), b('hello'), { kind: 'same', json: false }],
    ['empty both', b(''), b(''), { kind: 'same', json: false }],
    ['JSON, other order and spacing', b('{"a":1,"b":2}'), b('{ "b": 2,\n  "a": 1 }'), { kind: 'same', json: true }],
    ['JSON with a BOM', b('\ufeff{"a":1}'), b('{"a":1}'), { kind: 'same', json: true }],
    ['JSON arrays', b('[1,2]'), b('[1,3]'), { kind: 'json', changes: [{ kind: 'changed', path: '$[1]', before: 2, after: 3 }] }],
    ['JSON numbers equal by value', b('{"n":1.0}'), b('{"n":1}'), { kind: 'same', json: true }],
    ['text', b('hello world'), b('hello there'), { kind: 'bytes', recordedSize: 11, replayedSize: 11, firstDifference: 6 }],
    ['one a prefix of the other', b('abc'), b('abcdef'), { kind: 'bytes', recordedSize: 3, replayedSize: 6, firstDifference: 3 }],
    ['JSON vs not JSON', b('{"a":1}'), b('<html>'), { kind: 'bytes', recordedSize: 7, replayedSize: 6, firstDifference: 0 }],
    ['bare JSON scalars compare as bytes', b('1.0'), b('1'), { kind: 'bytes', recordedSize: 3, replayedSize: 1, firstDifference: 1 }],
    ['malformed JSON compares as bytes', b('{"a":1'), b('{"a":2'), { kind: 'bytes', recordedSize: 6, replayedSize: 6, firstDifference: 5 }],
    ['binary', b([0, 1, 2]), b([0, 1, 3]), { kind: 'bytes', recordedSize: 3, replayedSize: 3, firstDifference: 2 }],
  ])('%s', (_name, a, c, want) => {
    expect(compareBodies(a, c)).toEqual(want);
  });
});

describe('firstDifference', () => {
  it.each<[string, string, number]>([
    ['', '', 0],
    ['a', 'b', 0],
    ['ab', 'ac', 1],
    ['ab', 'ab', 2],
  ])('%j vs %j → %d', (a, b, n) => {
    expect(firstDifference(Buffer.from(a), Buffer.from(b))).toBe(n);
  });
});
