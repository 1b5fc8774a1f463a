import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { HeaderPairs } from '../../../../src/proxy/core/flow.js';
import { headerValue } from '../../../../src/proxy/core/flow.js';
import type { ConnectRequest } from '../../../../src/proxy/core/pipeline.js';
import { parseBasicCredentials, proxyAuthRule } from '../../../../src/proxy/rules/auth.js';
import { parseHtpasswd } from '../../../../src/proxy/rules/htpasswd.js';
import { makeFlow } from '../../../helpers/make-flow.js';
import { bodyText, fakeContext } from './rule-kit.js';

// Count constant-time comparisons while keeping the real implementation.
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) };
});
const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;
const htpasswd = parseHtpasswd('bob:$apr1$SALT$0NCArlDjo66YcnLIFJluC/\ncarol:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n').entries;
const users = [
  { user: 'alice', password: 'secret' },
  { user: 'eve', password: 'pa:ss wörd' },
];
const rule = (cacheSize?: number) => proxyAuthRule({ users, htpasswd, cacheSize });

const connectRequest = (headers: HeaderPairs): ConnectRequest => ({
  host: 'example.com',
  port: 443,
  headers,
  passthrough: false,
  client: { address: '127.0.0.1', port: 50000, tlsVersion: null, sni: null, alpn: null },
});

beforeEach(() => {
  timingSafeEqual.mockClear();
});

describe('parseBasicCredentials', () => {
  it.each<[string, { user: string; password: string } | null]>([
    [basic('alice:secret'), { user: 'alice', password: 'secret' }],
    [`basic ${Buffer.from('a:b').toString('base64')}`, { user: 'a', password: 'b' }],
    [`  BASIC   ${Buffer.from('a:b').toString('base64')}  `, { user: 'a', password: 'b' }],
    [basic('eve:pa:ss wörd'), { user: 'eve', password: 'pa:ss wörd' }],
    [basic('alice:'), { user: 'alice', password: '' }],
    [basic('no-colon'), null],
    ['Basic', null],
    ['Basic !!!!', null],
    ['Bearer abc', null],
    ['', null],
  ])('%j', (header, expected) => {
    expect(parseBasicCredentials(header)).toEqual(expected);
  });
});

describe('proxyAuthRule', () => {
  it('explains itself', () => {
    expect(rule().explain()).toBe('proxy auth (Basic, realm "proxyctl"): 2 users from the config, 2 users from htpasswd');
    expect(proxyAuthRule({ users: [users[0]!], htpasswd: [], realm: 'dev "box"' }).explain()).toBe('proxy auth (Basic, realm "dev "box""): 1 user from the config');
    expect(proxyAuthRule({ users: [], htpasswd }).explain()).toBe('proxy auth (Basic, realm "proxyctl"): 2 users from htpasswd');
    expect(proxyAuthRule({ users: [], htpasswd: [] }).explain()).toBe('proxy auth (Basic, realm "proxyctl"): no users (every request is refused)');
    expect(rule().name).toBe('auth');
  });

  describe('connect', () => {
    it.each<[string, string]>([
      ['a config user', basic('alice:secret')],
      ['a config user whose password has a colon', basic('eve:pa:ss wörd')],
      ['an apr1 htpasswd user', basic('bob:PASS')],
      ['a SHA-1 htpasswd user', basic('carol:secret')],
    ])('accepts %s and hands the user to the tunnel', async (_n, header) => {
      const req = connectRequest([['Host', 'example.com:443'], ['Proxy-Authorization', header]]);
      const d = await rule().connect!(req, fakeContext());
      expect(d).toEqual({ action: 'continue', user: parseBasicCredentials(header)!.user });
      expect(req.headers).toEqual([['Host', 'example.com:443']]);
    });

    it.each<[string, HeaderPairs, boolean]>([
      ['no credentials', [], false],
      ['a wrong password', [['Proxy-Authorization', basic('alice:wrong')]], true],
      ['an unknown user', [['Proxy-Authorization', basic('mallory:secret')]], true],
      ['another user’s password', [['Proxy-Authorization', basic('bob:secret')]], true],
      ['a malformed header', [['Proxy-Authorization', 'Basic %%%']], true],
      ['another scheme', [['Proxy-Authorization', 'Bearer abc']], true],
    ])('asks again (407) on %s', async (_n, headers, warns) => {
      const ctx = fakeContext();
      const req = connectRequest(headers.slice());
      const d = await rule().connect!(req, ctx);
      expect(d).toMatchObject({ action: 'respond', tag: 'auth-required', response: { status: 407 } });
      if (!d || d.action !== 'respond') throw new Error('no 407');
      expect(headerValue(d.response.headers, 'proxy-authenticate')).toBe('Basic realm="proxyctl"');
      expect(headerValue(d.response.headers, 'content-type')).toBe('text/plain; charset=utf-8');
      expect(bodyText(d.response.body)).toMatch(/proxy authentication required/);
      // The credentials, even wrong ones, are never kept on the request.
      expect(headerValue(req.headers, 'proxy-authorization')).toBeUndefined();
      expect(ctx.logs.length).toBe(warns ? 1 : 0);
      for (const [, line] of ctx.logs) expect(line).not.toMatch(/secret|wrong/);
    });

    it('escapes the realm as a quoted string', async () => {
      const d = await proxyAuthRule({ users, htpasswd: [], realm: 'a "b" \\c' }).connect!(connectRequest([]), fakeContext());
      if (!d || d.action !== 'respond') throw new Error('no 407');
      expect(headerValue(d.response.headers, 'proxy-authenticate')).toBe('Basic realm="a \\"b\\" \\\\c"');
    });
  });

  describe('requestHeaders', () => {
    it('lets a request through an authenticated tunnel pass and strips any credentials it carries', () => {
      const flow = makeFlow({ client: { user: 'alice' }, request: { headers: [['Host', 'a'], ['Proxy-Authorization', basic('x:y')]] } });
      expect(rule().requestHeaders!(flow, fakeContext())).toBeUndefined();
      expect(flow.request.headers).toEqual([['Host', 'a']]);
    });

    it.each<[string, HeaderPairs]>([
      ['one header', [['Host', 'a'], ['Proxy-Authorization', basic('alice:secret')], ['Accept', '*/*']]],
      ['lower-case name', [['Host', 'a'], ['proxy-authorization', basic('bob:PASS')], ['Accept', '*/*']]],
      ['the header twice (the first counts, both go)', [['Host', 'a'], ['Proxy-Authorization', basic('carol:secret')], ['Accept', '*/*'], ['Proxy-Authorization', basic('x:y')]]],
    ])('accepts plain HTTP with %s and never forwards it', (_n, headers) => {
      const flow = makeFlow({ request: { headers } });
      expect(rule().requestHeaders!(flow, fakeContext())).toBeUndefined();
      expect(flow.request.headers).toEqual([['Host', 'a'], ['Accept', '*/*']]);
      expect(flow.client.user).toBeUndefined();
    });

    it.each<[string, HeaderPairs]>([
      ['no credentials', [['Host', 'a']]],
      ['a wrong password', [['Host', 'a'], ['Proxy-Authorization', basic('alice:nope')]]],
      ['credentials in Authorization (meant for the origin)', [['Host', 'a'], ['Authorization', basic('alice:secret')]]],
    ])('answers 407 to %s', (_n, headers) => {
      const flow = makeFlow({ request: { method: 'HEAD', headers } });
      const d = rule().requestHeaders!(flow, fakeContext());
      expect(d).toMatchObject({ action: 'respond', tag: 'auth-required', response: { status: 407 } });
      expect(headerValue(flow.request.headers, 'proxy-authorization')).toBeUndefined();
    });
  });

  describe('constant-time comparison and the cache of verified headers', () => {
    it.each<[string, string]>([
      ['a right password', basic('alice:secret')],
      ['a wrong password', basic('alice:secreT')],
      ['an unknown user', basic('zed:secret')],
      ['an htpasswd user', basic('bob:nope')],
    ])('compares with timingSafeEqual for %s', (_n, header) => {
      rule().requestHeaders!(makeFlow({ request: { headers: [['Proxy-Authorization', header]] } }), fakeContext());
      expect(timingSafeEqual).toHaveBeenCalled();
    });

    it('verifies a header once, then answers from the cache; failures are not cached', () => {
      const r = rule();
      const run = (header: string) => r.requestHeaders!(makeFlow({ request: { headers: [['Proxy-Authorization', header]] } }), fakeContext());
      run(basic('bob:PASS'));
      const first = timingSafeEqual.mock.calls.length;
      expect(first).toBeGreaterThan(0);
      expect(run(basic('bob:PASS'))).toBeUndefined();
      expect(timingSafeEqual.mock.calls.length).toBe(first);
      run(basic('bob:bad'));
      const afterBad = timingSafeEqual.mock.calls.length;
      expect(run(basic('bob:bad'))).toMatchObject({ action: 'respond' });
      expect(timingSafeEqual.mock.calls.length).toBeGreaterThan(afterBad);
    });

    it('keeps the cache bounded (least recently used goes first)', () => {
      const r = rule(2);
      const calls = (header: string) => {
        const before = timingSafeEqual.mock.calls.length;
        expect(r.requestHeaders!(makeFlow({ request: { headers: [['Proxy-Authorization', header]] } }), fakeContext())).toBeUndefined();
        return timingSafeEqual.mock.calls.length - before;
      };
      const a = basic('alice:secret');
      const b = basic('bob:PASS');
      const c = basic('carol:secret');
      expect(calls(a)).toBeGreaterThan(0);
      expect(calls(b)).toBeGreaterThan(0);
      expect(calls(a)).toBe(0); // a is now the most recent
      expect(calls(c)).toBeGreaterThan(0); // evicts b
      expect(calls(a)).toBe(0);
      expect(calls(b)).toBeGreaterThan(0);
    });
  });
});
