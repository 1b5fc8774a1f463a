import { describe, expect, it } from 'vitest';
import { CaError, parseCertHost } from '../../../src/ca/index.js';

describe('parseCertHost', () => {
  it.each([
    ['example.com', 'example.com'],
    ['Sub.Example.COM', 'sub.example.com'],
    ['example.com.', 'example.com'],
    ['localhost', 'localhost'],
    ['_dmarc.example.com', '_dmarc.example.com'],
    ['my-host-1.internal', 'my-host-1.internal'],
    ['bücher.example', 'xn--bcher-kva.example'],
    [`${'a'.repeat(63)}.example`, `${'a'.repeat(63)}.example`],
  ])('accepts the DNS name %j as %j', (input, name) => {
    expect(parseCertHost(input)).toEqual({ kind: 'dns', name });
  });

  it.each([
    ['127.0.0.1', '127.0.0.1', '7f000001'],
    ['10.1.2.3', '10.1.2.3', '0a010203'],
    ['::1', '::1', '00000000000000000000000000000001'],
    ['[::1]', '::1', '00000000000000000000000000000001'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', '20010db8000000000000000000000001'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1', '20010db8000000010000000000000001'],
    ['fe80::', 'fe80::', 'fe800000000000000000000000000000'],
    ['::ffff:192.0.2.1', '::ffff:c000:201', '00000000000000000000ffffc0000201'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
  ])('accepts the IP literal %j as %j', (input, name, hex) => {
    const host = parseCertHost(input);
    expect(host.kind).toBe('ip');
    expect(host.name).toBe(name);
    expect(host.kind === 'ip' && host.bytes.toString('hex')).toBe(hex);
  });

  it.each([
    ['empty', ''],
    ['only a dot', '.'],
    ['a space', 'exa mple.com'],
    ['a wildcard', '*.example.com'],
    ['an empty label', 'example..com'],
    ['a leading dot', '.example.com'],
    ['a 64-character label', `${'a'.repeat(64)}.com`],
    ['more than 253 characters', Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')],
    ['a port', 'example.com:443'],
    ['a path', '../etc/passwd'],
    ['a slash', 'foo/bar'],
    ['a NUL', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['an IPv6 zone', 'fe80::1%eth0'],
    ['brackets around a name', '[example.com]'],
    ['a malformed IPv6', '1::2::3'],
  ])('rejects %s', (_what, input) => {
    let error: unknown;
    try {
      parseCertHost(input);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CaError);
    expect(error).toMatchObject({ code: 'CA_INVALID_HOST' });
  });

  it('rejects a non-string', () => {
    expect(() => parseCertHost(undefined as unknown as string)).toThrow(CaError);
  });
});
