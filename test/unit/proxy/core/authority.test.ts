import { describe, expect, it } from 'vitest';
import { hostHeader, isIpLiteral, parseAbsoluteTarget, parseAuthority, type AbsoluteTarget, type Authority } from '../../../../src/proxy/core/authority.js';

describe('parseAuthority', () => {
  it.each<[string, number | null, Authority | null]>([
    // names and IPv4
    ['example.com:8080', null, { host: 'example.com', port: 8080 }],
    ['example.com', 443, { host: 'example.com', port: 443 }],
    ['example.com', null, null],
    ['EXAMPLE.Com:80', null, { host: 'example.com', port: 80 }],
    ['127.0.0.1:1', null, { host: '127.0.0.1', port: 1 }],
    ['localhost:65535', null, { host: 'localhost', port: 65535 }],
    // empty port: RFC 3986 §3.2.3 allows `host:`, meaning the scheme's default
    ['example.com:', 80, { host: 'example.com', port: 80 }],
    ['example.com:', null, null],
    // IPv6 needs brackets, which are removed
    ['[::1]:8443', null, { host: '::1', port: 8443 }],
    ['[::1]', 443, { host: '::1', port: 443 }],
    ['[2001:DB8::1]:80', null, { host: '2001:db8::1', port: 80 }],
    ['[::1]', null, null],
    ['::1', 443, null],
    ['2001:db8::1:80', null, null],
    ['[::1', 443, null],
    ['[::1]8080', null, null],
    ['[]:80', null, null],
    // bad ports
    ['example.com:0', null, null],
    ['example.com:65536', null, null],
    ['example.com:123456', null, null],
    ['example.com:-1', null, null],
    ['example.com:+80', null, null],
    ['example.com:8o', null, null],
    ['example.com: 80', null, null],
    ['[::1]:0', null, null],
    ['[::1]:99999', null, null],
    // bad hosts
    ['', 80, null],
    [':80', null, null],
    ['user@example.com:80', null, null],
    ['example.com/path', 80, null],
    ['exa mple.com', 80, null],
    ['example.com?q', 80, null],
    ['example.com#f', 80, null],
  ])('%j (default %s) → %j', (value, defaultPort, expected) => {
    expect(parseAuthority(value, defaultPort)).toEqual(expected);
  });
});

describe('parseAbsoluteTarget', () => {
  it.each<[string, AbsoluteTarget | null]>([
    ['http://example.com/a/b?c=d', { scheme: 'http', host: 'example.com', port: 80, path: '/a/b?c=d' }],
    ['https://example.com/', { scheme: 'https', host: 'example.com', port: 443, path: '/' }],
    ['https://example.com:8443/x', { scheme: 'https', host: 'example.com', port: 8443, path: '/x' }],
    ['HTTP://EXAMPLE.COM/Path', { scheme: 'http', host: 'example.com', port: 80, path: '/Path' }],
    // empty path becomes `/` (RFC 9112 §3.2.1 origin-form)
    ['http://example.com', { scheme: 'http', host: 'example.com', port: 80, path: '/' }],
    // query-only: origin-form needs the slash
    ['http://example.com?x=1', { scheme: 'http', host: 'example.com', port: 80, path: '/?x=1' }],
    ['http://example.com:8080?x=1&y', { scheme: 'http', host: 'example.com', port: 8080, path: '/?x=1&y' }],
    // fragments are never sent
    ['http://example.com/a#frag', { scheme: 'http', host: 'example.com', port: 80, path: '/a' }],
    ['http://example.com#frag', { scheme: 'http', host: 'example.com', port: 80, path: '/' }],
    // userinfo is dropped (RFC 9110 §4.2.4 deprecates it); the last `@` ends it
    ['http://user:pass@example.com:81/p', { scheme: 'http', host: 'example.com', port: 81, path: '/p' }],
    ['http://a@b@example.com/', { scheme: 'http', host: 'example.com', port: 80, path: '/' }],
    ['https://user@[::1]:8443/', { scheme: 'https', host: '::1', port: 8443, path: '/' }],
    // `@` after the authority belongs to the path or query
    ['http://example.com/a@b', { scheme: 'http', host: 'example.com', port: 80, path: '/a@b' }],
    ['http://example.com?to=a@b', { scheme: 'http', host: 'example.com', port: 80, path: '/?to=a@b' }],
    // IPv6
    ['http://[::1]/', { scheme: 'http', host: '::1', port: 80, path: '/' }],
    ['http://[::1]:8080/x', { scheme: 'http', host: '::1', port: 8080, path: '/x' }],
    // not absolute, or malformed
    ['/relative', null],
    ['*', null],
    ['example.com:443', null],
    ['ftp://example.com/', null],
    ['http:///path', null],
    ['http://:80/', null],
    ['http://example.com:99999/', null],
    ['http://example.com:0/', null],
    ['http://::1/', null],
    ['http://user@/', null],
  ])('%s', (target, expected) => {
    expect(parseAbsoluteTarget(target)).toEqual(expected);
  });
});

describe('hostHeader', () => {
  it.each<['http' | 'https', string, number, string]>([
    ['http', 'example.com', 80, 'example.com'],
    ['https', 'example.com', 443, 'example.com'],
    ['http', 'example.com', 443, 'example.com:443'],
    ['https', 'example.com', 80, 'example.com:80'],
    ['http', 'example.com', 8080, 'example.com:8080'],
    ['https', '::1', 443, '[::1]'],
    ['http', '2001:db8::1', 8080, '[2001:db8::1]:8080'],
    ['http', '127.0.0.1', 80, '127.0.0.1'],
  ])('%s %s %i → %s', (scheme, host, port, expected) => {
    expect(hostHeader(scheme, host, port)).toBe(expected);
  });

  it.each(['example.com:8080', '[::1]:8443', 'example.com', '[::1]'])('round-trips %s through parseAuthority', (value) => {
    const a = parseAuthority(value, 80)!;
    expect(hostHeader('http', a.host, a.port)).toBe(value);
  });
});

describe('isIpLiteral (no IPs in SNI, RFC 6066 §3)', () => {
  it.each<[string, boolean]>([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['::1', true],
    ['2001:db8::1', true],
    ['example.com', false],
    ['localhost', false],
    ['1.2.3', false],
    ['1.2.3.4.example', false],
    ['a1.2.3.4', false],
  ])('%s → %s', (host, expected) => {
    expect(isIpLiteral(host)).toBe(expected);
  });
});
