import { describe, expect, it } from 'vitest';
import type { HeaderPairs } from '../../../../src/proxy/core/flow.js';
import { mockRule } from '../../../../src/proxy/rules/mock.js';
import { makeFlow } from '../../../helpers/make-flow.js';
import { bodyText, fakeContext, filter, responseOf } from './rule-kit.js';

const rule = (status: number, headers: Record<string, string>, body: string) => mockRule({ name: 'rules[4] mock', ...filter('~u /health$'), status, headers, body });

describe('mockRule', () => {
  it.each<[number, Record<string, string>, string, string]>([
    [200, { 'content-type': 'text/plain' }, 'ok', 'mock ~u /health$ → 200 text/plain (2 bytes)'],
    [200, {}, 'é', 'mock ~u /health$ → 200 text/plain (2 bytes)'],
    [201, { 'Content-Type': 'application/json; charset=utf-8' }, '{}', 'mock ~u /health$ → 201 application/json (2 bytes)'],
    [503, {}, 'x', 'mock ~u /health$ → 503 text/plain (1 byte)'],
    [204, {}, 'ignored', 'mock ~u /health$ → 204 text/plain (0 bytes)'],
  ])('explains %i %j %j', (status, headers, body, line) => {
    expect(rule(status, headers, body).explain()).toBe(line);
  });

  it.each<[string, number, Record<string, string>, string, HeaderPairs, string]>([
    // [case, status, headers, body, expected headers, expected body]
    ['default content type', 200, {}, 'ok', [['Content-Type', 'text/plain; charset=utf-8']], 'ok'],
    ['given content type, any case', 200, { 'content-type': 'application/json' }, '{"a":1}', [['content-type', 'application/json']], '{"a":1}'],
    ['headers in the order given', 200, { 'X-A': '1', 'Content-Type': 'text/html', 'X-B': '2' }, '<p>', [['X-A', '1'], ['Content-Type', 'text/html'], ['X-B', '2']], '<p>'],
    ['framing headers dropped', 200, { 'Content-Length': '999', 'Transfer-Encoding': 'chunked' }, 'ok', [['Content-Type', 'text/plain; charset=utf-8']], 'ok'],
    ['no body for 204', 204, {}, 'nope', [['Content-Type', 'text/plain; charset=utf-8']], ''],
    ['no body for 304', 304, { ETag: '"x"' }, 'nope', [['ETag', '"x"'], ['Content-Type', 'text/plain; charset=utf-8']], ''],
    ['UTF-8 body', 200, {}, 'grüß', [['Content-Type', 'text/plain; charset=utf-8']], 'grüß'],
  ])('responds: %s', (_n, status, headers, body, expHeaders, expBody) => {
    const flow = makeFlow({ request: { path: '/api/health' } });
    const d = rule(status, headers, body).request!(flow, fakeContext());
    expect(d).toMatchObject({ action: 'respond', tag: 'mocked', response: { status, headers: expHeaders } });
    expect(bodyText(responseOf(d).body)).toBe(expBody);
  });

  it('answers HEAD the same way (the exchange leaves the body out)', () => {
    const d = rule(200, {}, 'ok').request!(makeFlow({ request: { method: 'HEAD', path: '/health' } }), fakeContext());
    expect(d).toMatchObject({ action: 'respond', response: { status: 200 } });
  });

  it('hands out a fresh header list each time', () => {
    const r = rule(200, {}, 'ok');
    responseOf(r.request!(makeFlow({ request: { path: '/health' } }), fakeContext())).headers.push(['Content-Length', '2']);
    expect(responseOf(r.request!(makeFlow({ request: { path: '/health' } }), fakeContext())).headers).toEqual([['Content-Type', 'text/plain; charset=utf-8']]);
  });

  it('lets other requests go upstream', () => {
    expect(rule(200, {}, 'ok').request!(makeFlow({ request: { path: '/health/x' } }), fakeContext())).toBeUndefined();
  });
});
