import { describe, expect, it } from 'vitest';
import { flowUrl, type HeaderPairs } from '../../../../src/proxy/core/flow.js';
import { mapRemoteRule, parseMapTarget } from '../../../../src/proxy/rules/map-remote.js';
import { makeFlow } from '../../../helpers/make-flow.js';
import { fakeContext, filter } from './rule-kit.js';

const rule = (to: string) => mapRemoteRule({ name: 'rules[2] map-remote', ...filter('~d api.example'), to });

describe('mapRemoteRule', () => {
  it('explains itself', () => {
    expect(rule('http://127.0.0.1:3000').explain()).toBe('map-remote ~d api.example → http://127.0.0.1:3000');
  });

  it.each<[string, string, string, string, string | undefined]>([
    // [case, request URL (scheme, host, port, path), to, URL after, Host header after]
    ['origin only: path and query kept', 'https://api.example/v1/users?page=2', 'http://127.0.0.1:3000', 'http://127.0.0.1:3000/v1/users?page=2', '127.0.0.1:3000'],
    ['a trailing / keeps the path', 'https://api.example/v1/x', 'http://localhost:8080/', 'http://localhost:8080/v1/x', 'localhost:8080'],
    ['a path replaces the path, keeps the query', 'http://api.example/v1/x?a=1', 'https://staging.example/v2/y', 'https://staging.example/v2/y?a=1', 'staging.example'],
    ['a query replaces the query', 'http://api.example/v1/x?a=1', 'http://127.0.0.1:3000/?debug=1', 'http://127.0.0.1:3000/v1/x?debug=1', '127.0.0.1:3000'],
    ['path and query both replaced', 'http://api.example/v1/x?a=1', 'http://127.0.0.1:3000/mock?b=2', 'http://127.0.0.1:3000/mock?b=2', '127.0.0.1:3000'],
    ['https default port dropped from Host', 'http://api.example:8080/', 'https://prod.example:443', 'https://prod.example/', 'prod.example'],
    ['http default port dropped from Host', 'https://api.example/', 'http://other.example:80/', 'http://other.example/', 'other.example'],
    ['a non-default https port kept', 'http://api.example/', 'https://other.example:8443', 'https://other.example:8443/', 'other.example:8443'],
    ['an IPv6 target is bracketed', 'http://api.example/a', 'http://[::1]:3000', 'http://[::1]:3000/a', '[::1]:3000'],
    ['the host is lower-cased', 'http://api.example/a', 'http://LOCALHOST:3000', 'http://localhost:3000/a', 'localhost:3000'],
    ['a fragment in `to` is ignored', 'http://api.example/a', 'http://localhost:3000/#frag', 'http://localhost:3000/a', 'localhost:3000'],
  ])('%s', (_n, from, to, after, host) => {
    const u = new URL(from);
    const scheme = u.protocol === 'https:' ? 'https' : 'http';
    const flow = makeFlow({ request: { scheme, host: u.hostname, port: u.port ? Number(u.port) : undefined, path: u.pathname + u.search } });
    const before = structuredClone(flow.request);
    expect(rule(to).requestHeaders!(flow, fakeContext())).toBeUndefined();
    expect(flowUrl(flow.request)).toBe(after);
    expect(flow.request.headers.find(([k]) => k === 'Host')?.[1]).toBe(host);
    expect(flow.original?.request).toEqual(before);
    expect(flow.tags).toEqual(['map-remote']);
  });

  it('adds no Host header when there was none (HTTP/2 carries :authority instead)', () => {
    const headers: HeaderPairs = [['accept', '*/*']];
    const flow = makeFlow({ request: { host: 'api.example', httpVersion: '2', headers } });
    rule('http://127.0.0.1:3000').requestHeaders!(flow, fakeContext());
    expect(flow.request.headers).toEqual([['accept', '*/*']]);
    expect(flow.request.host).toBe('127.0.0.1');
  });

  it('rewrites a lower-case host header in place', () => {
    const flow = makeFlow({ request: { host: 'api.example', headers: [['accept', '*/*'], ['host', 'api.example']] } });
    rule('http://127.0.0.1:3000').requestHeaders!(flow, fakeContext());
    expect(flow.request.headers).toEqual([['accept', '*/*'], ['host', '127.0.0.1:3000']]);
  });

  it('leaves other hosts alone', () => {
    const flow = makeFlow({ request: { host: 'example.com' } });
    rule('http://127.0.0.1:3000').requestHeaders!(flow, fakeContext());
    expect(flowUrl(flow.request)).toBe('http://example.com/');
    expect(flow.original).toBeUndefined();
    expect(flow.tags).toEqual([]);
  });

  it('keeps the first original when two mappings apply', () => {
    const flow = makeFlow({ request: { host: 'api.example', path: '/a' } });
    rule('http://api.example:1/').requestHeaders!(flow, fakeContext());
    rule('http://127.0.0.1:2').requestHeaders!(flow, fakeContext());
    expect(flowUrl(flow.request)).toBe('http://127.0.0.1:2/a');
    expect(flow.original?.request?.port).toBe(80);
    expect(flow.tags).toEqual(['map-remote']);
  });

  it.each(['ftp://x', 'not a url', '//host/path', 'http://'])('refuses the target %j when built', (to) => {
    expect(() => parseMapTarget(to)).toThrow(/not an absolute http:\/\/ or https:\/\/ URL/);
  });
});
