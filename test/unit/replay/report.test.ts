import { describe, expect, it } from 'vitest';
import type { BodyDiff } from '../../../src/replay/diff.js';
import { addToSummary, emptySummary, exitCodeFor, formatBodyDiff, formatResultLine, formatSummary, formatValue, type ReplayResult } from '../../../src/replay/report.js';

const base = { flowId: 'f1', url: 'http://o/api/b' };

describe('formatResultLine', () => {
  it.each<[string, ReplayResult, string]>([
    ['match', { ...base, method: 'GET', path: '/api/a', outcome: 'match', recordedStatus: 200, status: 200, body: { kind: 'same', json: false }, durationMs: 1 }, '✓ GET /api/a 200'],
    [
      'match, body not compared',
      { ...base, method: 'GET', path: '/a', outcome: 'match', recordedStatus: 200, status: 200, body: { kind: 'not-compared', reason: 'the body was not recorded' }, durationMs: 1 },
      '✓ GET /a 200 (body not compared: the body was not recorded)',
    ],
    [
      'status and JSON body differ',
      {
        ...base,
        method: 'POST',
        path: '/api/b',
        outcome: 'differ',
        recordedStatus: 200,
        status: 500,
        body: { kind: 'json', changes: [{ kind: 'changed', path: '$.items[2].price', before: 10, after: 12 }] },
        durationMs: 1,
      },
      '✗ POST /api/b 200→500, body: $.items[2].price 10→12',
    ],
    ['status only', { ...base, method: 'GET', path: '/x', outcome: 'differ', recordedStatus: 200, status: 404, body: { kind: 'same', json: false }, durationMs: 1 }, '✗ GET /x 200→404'],
    [
      'bytes differ',
      { ...base, method: 'GET', path: '/t', outcome: 'differ', recordedStatus: 200, status: 200, body: { kind: 'bytes', recordedSize: 5, replayedSize: 7, firstDifference: 2 }, durationMs: 1 },
      '✗ GET /t 200, body: 5→7 bytes, first difference at byte 2',
    ],
    ['failed', { ...base, method: 'GET', path: '/f', outcome: 'failed', recordedStatus: 200, error: { code: 'UPSTREAM_REFUSED', message: 'connection refused' }, durationMs: 1 }, '✗ GET /f failed: UPSTREAM_REFUSED connection refused'],
    ['skipped', { ...base, method: 'GET', path: '/ws', outcome: 'skipped', reason: 'a websocket flow is not replayed' }, '- GET /ws skipped: a websocket flow is not replayed'],
  ])('%s', (_name, result, line) => {
    expect(formatResultLine(result)).toBe(line);
  });
});

describe('formatBodyDiff', () => {
  it.each<[string, BodyDiff, string | null]>([
    ['same', { kind: 'same', json: true }, null],
    [
      'more changes than fit',
      {
        kind: 'json',
        changes: [
          { kind: 'changed', path: '$.a', before: 'x', after: 'y' },
          { kind: 'added', path: '$.b', after: { deep: [1, 2] } },
          { kind: 'removed', path: '$.c', before: null },
          { kind: 'changed', path: '$.d', before: 1, after: 2 },
          { kind: 'changed', path: '$.e', before: 1, after: 2 },
        ],
      },
      'body: $.a "x"→"y"; $.b added ({"deep":[1,2]}); $.c removed (was null); and 2 more',
    ],
    ['same size bytes', { kind: 'bytes', recordedSize: 4, replayedSize: 4, firstDifference: 0 }, 'body: 4 bytes, first difference at byte 0'],
    ['digest', { kind: 'digest', recordedSize: 10, replayedSize: 11 }, 'body: 10→11 bytes, SHA-256 differs'],
  ])('%s', (_name, diff, text) => {
    expect(formatBodyDiff(diff)).toBe(text);
  });

  it('shortens long values', () => {
    const long = 'x'.repeat(100);
    const s = formatValue(long);
    expect(s).toHaveLength(40);
    expect(s.endsWith('…')).toBe(true);
  });
});

describe('summary and exit code', () => {
  const r = (outcome: ReplayResult['outcome']): ReplayResult =>
    outcome === 'skipped'
      ? { ...base, method: 'GET', path: '/', outcome, reason: 'x' }
      : outcome === 'failed'
        ? { ...base, method: 'GET', path: '/', outcome, recordedStatus: 200, error: { code: 'X', message: 'y' }, durationMs: 0 }
        : { ...base, method: 'GET', path: '/', outcome, recordedStatus: 200, status: 200, body: { kind: 'same', json: false }, durationMs: 0 };

  it.each<[string, Array<ReplayResult['outcome']>, string, 0 | 1]>([
    ['all match', ['match', 'match'], '2 replayed: 2 matched, 0 differed, 0 failed', 0],
    ['skips do not fail the run', ['match', 'skipped'], '1 replayed: 1 matched, 0 differed, 0 failed (1 skipped)', 0],
    ['one differs', ['match', 'differ'], '2 replayed: 1 matched, 1 differed, 0 failed', 1],
    ['one failed', ['failed', 'match'], '2 replayed: 1 matched, 0 differed, 1 failed', 1],
  ])('%s', (_name, outcomes, line, code) => {
    const s = emptySummary();
    for (const o of outcomes) addToSummary(s, r(o));
    expect(formatSummary(s)).toBe(line);
    expect(exitCodeFor(s)).toBe(code);
  });
});
