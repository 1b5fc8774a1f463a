import { describe, expect, it } from 'vitest';
import { describeMiss, isServable, ReplayIndex, type MatchOptions, type ReplayRequest } from '../../../src/export/serve-match.js';
import type { Flow } from '../../../src/proxy/core/flow.js';
import { body, makeFlow } from '../../helpers/make-flow.js';

const rec = (id: string, over: Parameters<typeof makeFlow>[0] = {}): Flow => makeFlow({ id, ...over, response: { body: body(id), ...(over.response ?? {}) } });

const recording: Flow[] = [
  rec('users-1', { request: { path: '/users?page=1' } }),
  rec('users-2', { request: { path: '/users?page=2' } }),
  rec('login-a', { request: { method: 'POST', path: '/login', body: body('{"u":"a"}') } }),
  rec('login-b', { request: { method: 'POST', path: '/login', body: body('{"u":"b"}') } }),
  rec('poll-1', { request: { path: '/poll' } }),
  rec('poll-2', { request: { path: '/poll' } }),
  rec('secure', { request: { scheme: 'https', host: 'api.example', path: '/me', headers: [['Accept', 'application/json'], ['X-Tenant', 't1']] } }),
  rec('v2', { request: { host: 'example.com', port: 8080, path: '/x' } }),
];

const req = (method: string, url: string, bodyText = '', headers: Array<[string, string]> = []): ReplayRequest => ({ method, url, body: Buffer.from(bodyText), headers });

describe('ReplayIndex.match', () => {
  it.each<[string, MatchOptions, ReplayRequest, string | null]>([
    ['exact method and URL', {}, req('GET', 'http://example.com/users?page=2'), 'users-2'],
    ['method case does not matter', {}, req('get', 'http://example.com/users?page=1'), 'users-1'],
    ['host case and the default port do not matter', {}, req('GET', 'http://EXAMPLE.com:80/users?page=1'), 'users-1'],
    ['another query does not match', {}, req('GET', 'http://example.com/users?page=3'), null],
    ['--ignore-query: any query matches, first recorded first', { ignoreQuery: true }, req('GET', 'http://example.com/users?page=9'), 'users-1'],
    ['the body picks among equal URLs', {}, req('POST', 'http://example.com/login', '{"u":"b"}'), 'login-b'],
    ['bodies match exactly (no JSON equivalence)', {}, req('POST', 'http://example.com/login', '{ "u": "b" }'), null],
    ['the scheme matters', {}, req('GET', 'http://api.example/me'), null],
    ['a non-default port matters', {}, req('GET', 'http://example.com/x'), null],
    ['with the port', {}, req('GET', 'http://example.com:8080/x'), 'v2'],
    ['headers do not match by default', {}, req('GET', 'https://api.example/me', '', [['X-Tenant', 'other']]), 'secure'],
    ['--match-headers: equal headers (any case, any order) match', { matchHeaders: true }, req('GET', 'https://api.example/me', '', [['x-tenant', 't1'], ['accept', 'application/json'], ['Host', 'api.example']]), 'secure'],
    ['--match-headers: a different value does not', { matchHeaders: true }, req('GET', 'https://api.example/me', '', [['Accept', 'application/json'], ['X-Tenant', 't2']]), null],
    ['--match-headers --ignore-header: that header is left out', { matchHeaders: true, ignoreHeaders: ['x-TENANT'] }, req('GET', 'https://api.example/me', '', [['Accept', 'application/json'], ['X-Tenant', 't2']]), 'secure'],
  ])('%s', (_what, opts, request, expected) => {
    const index = new ReplayIndex(recording, opts);
    const result = index.match(request);
    expect(result.kind === 'hit' ? result.flow.id : null).toBe(expected);
  });

  it('answers identical requests in recorded order, then repeats the last', () => {
    const index = new ReplayIndex(recording);
    const ids = Array.from({ length: 4 }, () => {
      const r = index.match(req('GET', 'http://example.com/poll'));
      return r.kind === 'hit' ? `${r.flow.id} (${r.answer}/${r.of})` : 'miss';
    });
    expect(ids).toEqual(['poll-1 (1/2)', 'poll-2 (2/2)', 'poll-2 (2/2)', 'poll-2 (2/2)']);
  });

  it.each<[string, ReplayRequest, string[]]>([
    ['same method and path, other query', req('GET', 'http://example.com/users?page=7'), ['GET http://example.com/users?page=1  (query differs)', 'GET http://example.com/users?page=2  (query differs)']],
    ['same method and path, other body', req('POST', 'http://example.com/login', 'x'), ['POST http://example.com/login  (body differs)']],
    ['same path, other method', req('DELETE', 'http://example.com/poll'), ['GET http://example.com/poll  (method differs (GET))']],
    ['same host only', req('GET', 'https://api.example/other'), ['GET https://api.example/me  (same host, other path)']],
  ])('names the closest recorded requests on a miss: %s', (_what, request, closest) => {
    const index = new ReplayIndex(recording);
    const result = index.match(request);
    expect(result.kind).toBe('miss');
    if (result.kind !== 'miss') return;
    const text = describeMiss(request, result.closest, index.hosts());
    expect(text).toContain(`no recorded response for\n  ${request.method} ${request.url}  (request body ${request.body.length} bytes)`);
    expect(text.split('closest recorded requests:\n')[1]!.trimEnd().split('\n').map((l) => l.trim())).toEqual(closest);
  });

  it('names the recorded hosts when nothing is close', () => {
    const index = new ReplayIndex(recording);
    const request = req('GET', 'http://unknown.test/');
    const result = index.match(request);
    expect(result.kind === 'miss' && describeMiss(request, result.closest, index.hosts())).toContain('nothing recorded for this host; recorded hosts: api.example, example.com, example.com:8080');
  });

  it('serves only finished HTTP exchanges', () => {
    expect(isServable(makeFlow())).toBe(true);
    expect(isServable(makeFlow({ response: null, error: { code: 'UPSTREAM_REFUSED', message: 'x' } }))).toBe(false);
    expect(isServable(makeFlow({ response: { status: 101 }, websocket: { messages: [] } }))).toBe(false);
    expect(isServable(makeFlow({ kind: 'tunnel', request: { method: 'CONNECT' } }))).toBe(false);
    expect(new ReplayIndex([makeFlow({ response: null })]).size).toBe(0);
  });

  it('matches a truncated recorded request body by its whole-body hash', () => {
    const big = 'x'.repeat(100);
    const index = new ReplayIndex([rec('big', { request: { method: 'PUT', body: body(big, { limit: 10 }) } })]);
    expect(index.match(req('PUT', 'http://example.com/', big)).kind).toBe('hit');
  });
});
