import { describe, expect, it } from 'vitest';
import { CIDR_EXPECTED, DEFAULT_ALLOW, compileAccess, parseCidr, parseIp } from '../../../../src/proxy/rules/access.js';

describe('parseCidr', () => {
  it.each<[string, 4 | 6, number, bigint]>([
    ['10.0.0.0/8', 4, 8, 0x0a000000n],
    ['10.1.2.3/8', 4, 8, 0x0a000000n], // host bits are cleared
    ['127.0.0.1', 4, 32, 0x7f000001n],
    [' 192.168.0.0/16 ', 4, 16, 0xc0a80000n],
    ['0.0.0.0/0', 4, 0, 0n],
    ['255.255.255.255/32', 4, 32, 0xffffffffn],
    ['::1/128', 6, 128, 1n],
    ['::1', 6, 128, 1n],
    ['::/0', 6, 0, 0n],
    ['fe80::/10', 6, 10, 0xfe80n << 112n],
    ['2001:db8::/32', 6, 32, 0x20010db8n << 96n],
    ['2001:DB8:0:0:0:0:0:1', 6, 128, (0x20010db8n << 96n) | 1n],
    ['1:2:3:4:5:6:7::', 6, 128, 0x0001000200030004000500060007_0000n],
    ['::2:3:4:5:6:7:8', 6, 128, 0x0000000200030004000500060007_0008n],
    ['64:ff9b::192.0.2.33', 6, 128, (0x64ff9bn << 96n) | 0xc0000221n],
    // IPv4-mapped ranges describe IPv4 addresses.
    ['::ffff:127.0.0.0/104', 4, 8, 0x7f000000n],
    ['::ffff:10.0.0.1', 4, 32, 0x0a000001n],
  ])('%s', (text, family, prefix, base) => {
    const r = parseCidr(text);
    expect(r).toMatchObject({ ok: true, cidr: { family, prefix, base, text: text.trim() } });
  });

  it.each<[string, string]>([
    ['', CIDR_EXPECTED],
    ['localhost', CIDR_EXPECTED],
    ['10.0.0', CIDR_EXPECTED],
    ['10.0.0.256', CIDR_EXPECTED],
    ['010.0.0.1', CIDR_EXPECTED],
    ['1.2.3.4.5', CIDR_EXPECTED],
    ['1::2::3', CIDR_EXPECTED],
    ['1:2:3:4:5:6:7:8:9', CIDR_EXPECTED],
    ['1:2:3:4:5:6:7', CIDR_EXPECTED],
    ['12345::', CIDR_EXPECTED],
    ['1.2.3.4::', CIDR_EXPECTED],
    ['::g', CIDR_EXPECTED],
    ['10.0.0.0/33', 'expected a prefix length from 0 to 32 after the / in 10.0.0.0/33'],
    ['::/129', 'expected a prefix length from 0 to 128 after the / in ::/129'],
    ['10.0.0.0/', 'expected a prefix length from 0 to 32 after the / in 10.0.0.0/'],
    ['10.0.0.0/x', 'expected a prefix length from 0 to 32 after the / in 10.0.0.0/x'],
    ['fe80::1%eth0', `${CIDR_EXPECTED} (zone ids such as %eth0 are not allowed)`],
  ])('refuses %j', (text, error) => {
    expect(parseCidr(text)).toEqual({ ok: false, error });
  });
});

describe('parseIp', () => {
  it.each<[string, { family: 4 | 6; value: bigint } | null]>([
    ['127.0.0.1', { family: 4, value: 0x7f000001n }],
    ['::ffff:127.0.0.2', { family: 4, value: 0x7f000002n }],
    ['::FFFF:7f00:2', { family: 4, value: 0x7f000002n }],
    ['::1', { family: 6, value: 1n }],
    ['fe80::1%eth0', { family: 6, value: (0xfe80n << 112n) | 1n }],
    ['', null],
    ['unknown', null],
  ])('%j', (text, expected) => {
    expect(parseIp(text)).toEqual(expected);
  });
});

describe('compileAccess', () => {
  it('admits loopback only by default', () => {
    expect(DEFAULT_ALLOW).toEqual(['127.0.0.0/8', '::1/128']);
    const admit = compileAccess({});
    expect(admit('127.0.0.1')).toEqual({ allowed: true });
    expect(admit('127.10.0.3')).toEqual({ allowed: true });
    expect(admit('::1')).toEqual({ allowed: true });
    expect(admit('::ffff:127.0.0.1')).toEqual({ allowed: true });
    expect(admit('192.168.1.5')).toEqual({ allowed: false, reason: '192.168.1.5 is not in access.allow (127.0.0.0/8, ::1/128 by default: loopback only)' });
    expect(admit('::2')).toMatchObject({ allowed: false });
  });

  const lists = { allow: ['127.0.0.1/32', '10.0.0.0/8', '2001:db8::/32'], deny: ['10.66.0.0/16', '2001:db8:bad::/48'] };

  it.each<[string, string | null]>([
    ['127.0.0.1', null],
    ['::ffff:127.0.0.1', null],
    ['127.0.0.2', '127.0.0.2 is not in access.allow (127.0.0.1/32, 10.0.0.0/8, 2001:db8::/32)'],
    ['::ffff:127.0.0.2', '::ffff:127.0.0.2 is not in access.allow (127.0.0.1/32, 10.0.0.0/8, 2001:db8::/32)'],
    ['10.1.2.3', null],
    ['10.66.1.1', '10.66.1.1 is in access.deny (10.66.0.0/16)'],
    ['::ffff:10.66.1.1', '::ffff:10.66.1.1 is in access.deny (10.66.0.0/16)'],
    ['2001:db8:1::5', null],
    ['2001:db8:bad::5', '2001:db8:bad::5 is in access.deny (2001:db8:bad::/48)'],
    ['::1', '::1 is not in access.allow (127.0.0.1/32, 10.0.0.0/8, 2001:db8::/32)'],
    ['', 'cannot read the client address ""'],
    ['garbage', 'cannot read the client address "garbage"'],
  ])('%j → %s', (address, reason) => {
    expect(compileAccess(lists)(address)).toEqual(reason === null ? { allowed: true } : { allowed: false, reason });
  });

  it('lets deny win even when the address is allowed by name', () => {
    expect(compileAccess({ allow: ['0.0.0.0/0', '::/0'], deny: ['127.0.0.1'] })('127.0.0.1')).toEqual({ allowed: false, reason: '127.0.0.1 is in access.deny (127.0.0.1)' });
  });

  it('admits nobody with an empty allow list', () => {
    expect(compileAccess({ allow: [] })('127.0.0.1')).toEqual({ allowed: false, reason: '127.0.0.1 is not in access.allow (empty)' });
  });

  it('refuses a bad range, naming the list entry', () => {
    expect(() => compileAccess({ allow: ['127.0.0.1'], deny: ['10.0.0.0/8', 'nope'] })).toThrow(`access.deny[1]: ${CIDR_EXPECTED}`);
  });
});
