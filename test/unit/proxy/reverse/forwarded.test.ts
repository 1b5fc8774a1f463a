import { describe, expect, it } from 'vitest';
import { addForwardedHeaders, anonymizeAddress, backendHostHeader } from '../../../../src/proxy/reverse/forwarded.js';

const ON = { enabled: true, anonymize: false };

describe('forwarding headers', () => {
  it('adds X-Forwarded-For/-Proto/-Host and X-Real-IP', () => {
    const out = addForwardedHeaders([['Host', 'app.local:8080'], ['Accept', '*/*']], { clientAddress: '127.0.0.7', tls: false, clientHost: 'app.local:8080' }, ON);
    expect(out).toEqual([
      ['Host', 'app.local:8080'],
      ['Accept', '*/*'],
      ['X-Forwarded-For', '127.0.0.7'],
      ['X-Forwarded-Proto', 'http'],
      ['X-Forwarded-Host', 'app.local:8080'],
      ['X-Real-IP', '127.0.0.7'],
    ]);
  });

  it('appends to an existing X-Forwarded-For chain (all fields joined in place of the first) and replaces the others', () => {
    const out = addForwardedHeaders(
      [['x-forwarded-for', '198.51.100.1'], ['X-Forwarded-Proto', 'http'], ['X-Forwarded-For', '10.0.0.2, 10.0.0.3'], ['x-real-ip', '1.1.1.1']],
      { clientAddress: '::1', tls: true, clientHost: null },
      ON,
    );
    expect(out).toEqual([
      ['x-forwarded-for', '198.51.100.1, 10.0.0.2, 10.0.0.3, ::1'],
      ['X-Forwarded-Proto', 'https'],
      ['x-real-ip', '::1'],
    ]);
  });

  it('anonymizes every address of the chain and X-Real-IP', () => {
    const out = addForwardedHeaders([['X-Forwarded-For', '203.0.113.77, node-a']], { clientAddress: '192.168.1.37', tls: false, clientHost: 'x' }, { enabled: true, anonymize: true });
    expect(Object.fromEntries(out)).toMatchObject({ 'X-Forwarded-For': '203.0.113.0, unknown, 192.168.1.0', 'X-Real-IP': '192.168.1.0' });
  });

  it('adds nothing when turned off', () => {
    const headers: Array<[string, string]> = [['Host', 'h']];
    expect(addForwardedHeaders(headers, { clientAddress: '127.0.0.1', tls: false, clientHost: 'h' }, { enabled: false, anonymize: false })).toBe(headers);
  });

  it.each([
    ['203.0.113.77', '203.0.113.0'],
    ['127.0.0.1', '127.0.0.0'],
    ['2001:db8:7:1::5', '2001:db8:7::'],
    ['2001:0db8:0000:0042:0000:8a2e:0370:7334', '2001:db8:0::'],
    ['::1', '::'],
    ['::ffff:192.0.2.9', '::'],
    ['fe80::1%eth0', 'fe80:0:0::'],
    ['', 'unknown'],
    ['_hidden', 'unknown'],
  ])('anonymizeAddress(%j) = %j', (input, out) => {
    expect(anonymizeAddress(input)).toBe(out);
  });

  it('rewrites Host only when asked, and only a Host field that is there', () => {
    expect(backendHostHeader([['Host', 'app.local']], 'keep', '127.0.0.1:3001')).toEqual([['Host', 'app.local']]);
    expect(backendHostHeader([['host', 'app.local'], ['A', 'b']], 'rewrite', '127.0.0.1:3001')).toEqual([['host', '127.0.0.1:3001'], ['A', 'b']]);
    expect(backendHostHeader([['A', 'b']], 'rewrite', '127.0.0.1:3001')).toEqual([['A', 'b']]);
  });
});
