/**
 * The SOCKS5 wire format (RFC 1928, RFC 1929) without sockets: greetings, method choice,
 * username/password, requests of every address type, replies, and the errors a malformed message
 * gets.
 */
import { describe, expect, it } from 'vitest';
import {
  Method,
  Reply,
  authStatus,
  chooseMethod,
  formatIpv6,
  parseGreeting,
  parseRequest,
  parseUserPass,
  reply,
  replyForError,
} from '../../../src/proxy/net/socks5-wire.js';

const b = (...bytes: number[]) => Buffer.from(bytes);

/** A request: VER 5, CMD, RSV 0, then ATYP + address + port. */
function request(cmd: number, addr: Buffer, port: number): Buffer {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port);
  return Buffer.concat([b(5, cmd, 0), addr, p]);
}
const ipv4 = (...octets: number[]) => b(1, ...octets);
const domain = (name: string) => Buffer.concat([b(3, Buffer.byteLength(name, 'latin1')), Buffer.from(name, 'latin1')]);
const ipv6 = (hex: string) => Buffer.concat([b(4), Buffer.from(hex, 'hex')]);

describe('parseGreeting', () => {
  it('reads the offered methods and the length taken', () => {
    expect(parseGreeting(b(5, 2, 0, 2, 0xaa))).toEqual({ kind: 'done', value: { methods: [0, 2] }, length: 4 });
  });

  it.each([[b()], [b(5)], [b(5, 2, 0)]])('asks for more bytes on a partial greeting %#', (buf) => {
    expect(parseGreeting(buf)).toEqual({ kind: 'more' });
  });

  it('closes silently on another version (nothing in SOCKS5 can say so)', () => {
    const r = parseGreeting(b(4, 1, 0, 80));
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') {
      expect(r.reply).toBeNull();
      expect(r.message).toContain('version byte 4');
    }
  });

  it('answers "no acceptable method" to a greeting that offers none', () => {
    const r = parseGreeting(b(5, 0));
    expect(r).toMatchObject({ kind: 'invalid', reply: b(5, 0xff) });
  });
});

describe('chooseMethod', () => {
  it.each([
    { offered: [0], auth: false, want: Method.NO_AUTH },
    { offered: [0, 2], auth: false, want: Method.NO_AUTH },
    { offered: [2], auth: false, want: Method.USER_PASS },
    { offered: [1], auth: false, want: Method.NO_ACCEPTABLE },
    { offered: [0, 2], auth: true, want: Method.USER_PASS },
    { offered: [2], auth: true, want: Method.USER_PASS },
    { offered: [0], auth: true, want: Method.NO_ACCEPTABLE },
    { offered: [0, 1], auth: true, want: Method.NO_ACCEPTABLE },
  ])('offered $offered with auth=$auth → $want', ({ offered, auth, want }) => {
    expect(chooseMethod(offered, auth)).toBe(want);
  });
});

describe('parseUserPass', () => {
  it('reads a UTF-8 user name and password', () => {
    const user = Buffer.from('zoë', 'utf8');
    const pass = Buffer.from('s3cret', 'utf8');
    const msg = Buffer.concat([b(1, user.length), user, b(pass.length), pass]);
    expect(parseUserPass(msg)).toEqual({ kind: 'done', value: { user: 'zoë', password: 's3cret' }, length: msg.length });
  });

  it('accepts an empty password (the check refuses it, not the parser)', () => {
    expect(parseUserPass(b(1, 1, 0x61, 0))).toEqual({ kind: 'done', value: { user: 'a', password: '' }, length: 4 });
  });

  it.each([[b(1)], [b(1, 3, 0x61)], [b(1, 1, 0x61)], [b(1, 1, 0x61, 2, 0x62)]])('asks for more bytes on a partial message %#', (buf) => {
    expect(parseUserPass(buf)).toEqual({ kind: 'more' });
  });

  it('answers failure to a subnegotiation of another version', () => {
    expect(parseUserPass(b(5, 1, 0x61, 1, 0x62))).toMatchObject({ kind: 'invalid', reply: b(1, 1) });
  });
});

describe('parseRequest', () => {
  it.each([
    { name: 'IPv4', addr: ipv4(127, 0, 0, 1), host: '127.0.0.1' },
    { name: 'domain (lowercased)', addr: domain('Origin.TEST'), host: 'origin.test' },
    { name: 'IPv6 loopback', addr: ipv6('00000000000000000000000000000001'), host: '::1' },
    { name: 'IPv6 with one zero run', addr: ipv6('20010db8000000000000000000000001'), host: '2001:db8::1' },
    { name: 'IPv6 as a name', addr: domain('::1'), host: '::1' },
  ])('reads a CONNECT to an $name address', ({ addr, host }) => {
    const msg = request(1, addr, 443);
    expect(parseRequest(Buffer.concat([msg, b(0x16, 3, 1)]))).toEqual({ kind: 'done', value: { host, port: 443 }, length: msg.length });
  });

  it('asks for more bytes until the whole request is there', () => {
    const msg = request(1, domain('example.test'), 8080);
    for (let n = 0; n < msg.length; n++) expect(parseRequest(msg.subarray(0, n)), `${n} bytes`).toEqual({ kind: 'more' });
    expect(parseRequest(msg).kind).toBe('done');
  });

  it.each([
    { name: 'BIND', cmd: 2, text: 'BIND is not supported' },
    { name: 'UDP ASSOCIATE', cmd: 3, text: 'UDP ASSOCIATE is not supported' },
    { name: 'an unknown command', cmd: 9, text: 'command 9 is not supported' },
  ])('answers "command not supported" (0x07) to $name', ({ cmd, text }) => {
    const r = parseRequest(request(cmd, ipv4(127, 0, 0, 1), 80));
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') {
      expect(r.reply?.[1]).toBe(Reply.COMMAND_NOT_SUPPORTED);
      expect(r.message).toContain(text);
    }
  });

  it('answers "address type not supported" (0x08) to an unknown address type', () => {
    const r = parseRequest(b(5, 1, 0, 7, 1, 2, 3, 4, 0, 80));
    expect(r.kind === 'invalid' && r.reply?.[1]).toBe(Reply.ADDRESS_TYPE_NOT_SUPPORTED);
  });

  it.each([
    { name: 'an empty host name', msg: request(1, domain(''), 80), text: 'empty destination host name' },
    { name: 'a host name with a slash', msg: request(1, domain('a/b'), 80), text: 'characters a host name cannot have' },
    { name: 'a host name with a NUL', msg: request(1, domain('a\u0000b'), 80), text: 'characters a host name cannot have' },
    { name: 'port 0', msg: request(1, ipv4(127, 0, 0, 1), 0), text: 'destination port 0' },
    { name: 'another version', msg: Buffer.concat([b(4), request(1, ipv4(127, 0, 0, 1), 80).subarray(1)]), text: 'version 4' },
  ])('answers general failure (0x01) to $name', ({ msg, text }) => {
    const r = parseRequest(msg);
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') {
      expect(r.reply?.[1]).toBe(Reply.GENERAL_FAILURE);
      expect(r.message).toContain(text);
    }
  });
});

describe('replies', () => {
  it('carries an IPv4 bound address and port', () => {
    expect(reply(Reply.SUCCEEDED, { address: '127.0.0.1', port: 8080 })).toEqual(b(5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90));
  });

  it('unwraps an IPv4-mapped address', () => {
    expect(reply(Reply.SUCCEEDED, { address: '::ffff:10.1.2.3', port: 1 })).toEqual(b(5, 0, 0, 1, 10, 1, 2, 3, 0, 1));
  });

  it('says 0.0.0.0:0 when the bound address is IPv6 or unknown', () => {
    expect(reply(Reply.NOT_ALLOWED, { address: '::1', port: 9 })).toEqual(b(5, 2, 0, 1, 0, 0, 0, 0, 0, 0));
    expect(reply(Reply.GENERAL_FAILURE)).toEqual(b(5, 1, 0, 1, 0, 0, 0, 0, 0, 0));
  });

  it('answers username/password with RFC 1929 status bytes', () => {
    expect(authStatus(true)).toEqual(b(1, 0));
    expect(authStatus(false)).toEqual(b(1, 1));
  });

  it.each([
    ['UPSTREAM_REFUSED', Reply.CONNECTION_REFUSED],
    ['UPSTREAM_DNS', Reply.HOST_UNREACHABLE],
    ['UPSTREAM_UNREACHABLE', Reply.HOST_UNREACHABLE],
    ['UPSTREAM_TIMEOUT', Reply.TTL_EXPIRED],
    ['TUNNEL_FAILED', Reply.GENERAL_FAILURE],
  ])('maps %s to reply %i', (code, want) => {
    expect(replyForError(code)).toBe(want);
  });
});

describe('formatIpv6', () => {
  it.each([
    ['00000000000000000000000000000000', '::'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000100010001000100010001', '2001:db8:1:1:1:1:1:1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['fe800000000000000000000000000000', 'fe80::'],
  ])('%s → %s', (hex, want) => {
    expect(formatIpv6(Buffer.from(hex, 'hex'))).toBe(want);
  });
});
