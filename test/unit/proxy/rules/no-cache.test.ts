import { describe, expect, it } from 'vitest';
import type { HeaderPairs } from '../../../../src/proxy/core/flow.js';
import { noCacheRule } from '../../../../src/proxy/rules/no-cache.js';
import { makeFlow } from '../../../helpers/make-flow.js';
import { fakeContext } from './rule-kit.js';

describe('noCacheRule', () => {
  it('explains itself with its current state', () => {
    let on = false;
    const rule = noCacheRule(() => on);
    expect(rule.explain()).toBe('no caching: strip conditional and cache headers (off)');
    on = true;
    expect(rule.explain()).toBe('no caching: strip conditional and cache headers (on)');
    expect(rule.name).toBe('no-cache');
  });

  it.each<[string, HeaderPairs, HeaderPairs]>([
    [
      'conditional headers go, no-cache is asked for',
      [['Host', 'a'], ['If-None-Match', '"x"'], ['if-modified-since', 'Mon, 01 Jan 2024 00:00:00 GMT'], ['Accept', '*/*']],
      [['Host', 'a'], ['Accept', '*/*'], ['Cache-Control', 'no-cache'], ['Pragma', 'no-cache']],
    ],
    [
      'an existing Cache-Control is replaced in place, repeated ones collapse',
      [['cache-control', 'max-age=0'], ['Host', 'a'], ['Cache-Control', 'only-if-cached']],
      [['cache-control', 'no-cache'], ['Host', 'a'], ['Pragma', 'no-cache']],
    ],
    [
      'If-Range goes with its Range (a whole fresh copy, not a splice)',
      [['Host', 'a'], ['Range', 'bytes=100-'], ['If-Range', '"v1"']],
      [['Host', 'a'], ['Cache-Control', 'no-cache'], ['Pragma', 'no-cache']],
    ],
    [
      'a plain Range and write preconditions stay',
      [['Host', 'a'], ['Range', 'bytes=0-9'], ['If-Match', '"v1"'], ['If-Unmodified-Since', 'x']],
      [['Host', 'a'], ['Range', 'bytes=0-9'], ['If-Match', '"v1"'], ['If-Unmodified-Since', 'x'], ['Cache-Control', 'no-cache'], ['Pragma', 'no-cache']],
    ],
  ])('request: %s', (_n, headers, expected) => {
    const flow = makeFlow({ request: { headers } });
    noCacheRule(() => true).requestHeaders!(flow, fakeContext());
    expect(flow.request.headers).toEqual(expected);
    expect(flow.tags).toEqual(['no-cache']);
  });

  it('response: validators and freshness go, no-store is set', () => {
    const flow = makeFlow({
      response: {
        status: 200,
        headers: [['Content-Type', 'text/plain'], ['ETag', '"x"'], ['Last-Modified', 'y'], ['Expires', 'z'], ['Age', '5'], ['Cache-Control', 'public, max-age=600'], ['Cache-Control', 'immutable']],
      },
    });
    const rule = noCacheRule(() => true);
    rule.requestHeaders!(flow, fakeContext());
    rule.responseHeaders!(flow, fakeContext());
    expect(flow.response!.headers).toEqual([['Content-Type', 'text/plain'], ['Cache-Control', 'no-store']]);
    expect(flow.tags).toEqual(['no-cache']);
  });

  it('does nothing while off, and follows the toggle without being rebuilt', () => {
    let on = false;
    const rule = noCacheRule(() => on);
    const headers: HeaderPairs = [['If-None-Match', '"x"']];
    const flow = makeFlow({ request: { headers }, response: { headers: [['ETag', '"x"']] } });
    rule.requestHeaders!(flow, fakeContext());
    rule.responseHeaders!(flow, fakeContext());
    expect(flow.request.headers).toEqual([['If-None-Match', '"x"']]);
    expect(flow.response!.headers).toEqual([['ETag', '"x"']]);
    expect(flow.tags).toEqual([]);
    on = true;
    rule.requestHeaders!(flow, fakeContext());
    expect(flow.request.headers).toEqual([['Cache-Control', 'no-cache'], ['Pragma', 'no-cache']]);
  });
});
