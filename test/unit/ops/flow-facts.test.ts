/**
 * The pure part of the metrics: label values from fixed sets, and what the response cache did for a
 * finished flow (tagged outcomes, and the untagged plain miss).
 */
import { describe, expect, it } from 'vitest';
import { cacheOutcome, METHOD_LABELS, methodIndex, STATUS_CLASSES, statusClassIndex } from '../../../src/ops/flow-facts.js';
import { makeFlow } from '../../helpers/make-flow.js';

describe('methodIndex', () => {
  it.each([
    ['GET', 'GET'],
    ['CONNECT', 'CONNECT'],
    ['PATCH', 'PATCH'],
    ['get', 'OTHER'], // methods are case-sensitive (RFC 9110 §9.1)
    ['PROPFIND', 'OTHER'],
    ['X'.repeat(200), 'OTHER'],
    ['OTHER', 'OTHER'],
    ['constructor', 'OTHER'],
  ])('%s → %s', (method, label) => {
    expect(METHOD_LABELS[methodIndex(method)]).toBe(label);
  });
});

describe('statusClassIndex', () => {
  it.each<[number | undefined, string]>([
    [undefined, 'none'],
    [101, '1xx'],
    [200, '2xx'],
    [304, '3xx'],
    [407, '4xx'],
    [599, '5xx'],
    [999, 'other'],
    [42, 'other'],
  ])('%s → %s', (status, cls) => {
    expect(STATUS_CLASSES[statusClassIndex(status)]).toBe(cls);
  });
});

describe('cacheOutcome', () => {
  it.each([
    ['cache:HIT', 'hit'],
    ['cache:STALE', 'stale'],
    ['cache:REVALIDATED', 'revalidated'],
    ['cache:MISS', 'miss'],
  ])('the tag %s is a %s, whatever the switch says now', (tag, outcome) => {
    expect(cacheOutcome(makeFlow({ tags: ['throttled', tag] }), false)).toBe(outcome);
  });

  it('a GET forwarded to the origin while the cache is on is a miss', () => {
    expect(cacheOutcome(makeFlow(), true)).toBe('miss');
    expect(cacheOutcome(makeFlow({ request: { method: 'HEAD' } }), true)).toBe('miss');
  });

  it.each<[string, Parameters<typeof makeFlow>[0], boolean]>([
    ['the cache is off', {}, false],
    ['a POST', { request: { method: 'POST' } }, true],
    ['a ranged GET (never looked up)', { request: { headers: [['Range', 'bytes=0-9']] } }, true],
    ['answered locally (never left for the origin)', { timings: { upstreamSent: null }, tags: ['blocked'] }, true],
    ['a tunnel', { kind: 'tunnel', request: { method: 'CONNECT' } }, true],
  ])('no outcome when %s', (_name, overrides, active) => {
    expect(cacheOutcome(makeFlow(overrides), active)).toBeNull();
  });
});
