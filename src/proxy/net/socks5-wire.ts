/**
 * The SOCKS5 wire format (RFC 1928, username/password from RFC 1929) as pure functions over
 * buffers: each parser says "need more bytes", "here is the message and its length", or "invalid,
 * answer this and close". No IO here; src/proxy/net/socks5.ts drives a socket with them.
 */
import net from 'node:net';
import { canonicalIpv6 } from '../../ca/host.js';

export const SOCKS_VERSION = 0x05;
/** RFC 1929 §2: the version of the username/password subnegotiation. */
export const USERPASS_VERSION = 0x01;

/** Authentication methods (RFC 1928 §3). */
export const Method = {
  NO_AUTH: 0x00,
  USER_PASS: 0x02,
  NO_ACCEPTABLE: 0xff,
} as const;
export type MethodCode = (typeof Method)[keyof typeof Method];

/** Reply codes (RFC 1928 §6). */
export const Reply = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;
export type ReplyCode = (typeof Reply)[keyof typeof Reply];

const CMD_CONNECT = 0x01;
const COMMAND_NAMES: Record<number, string> = { 0x01: 'CONNECT', 0x02: 'BIND', 0x03: 'UDP ASSOCIATE' };
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

export type Parsed<T> =
  | { kind: 'more' }
  | { kind: 'done'; value: T; /** Bytes the message took. */ length: number }
  | { kind: 'invalid'; message: string; /** Sent before closing; null: close without a word. */ reply: Buffer | null };

const MORE = { kind: 'more' } as const;

/** Client greeting: VER, NMETHODS, METHODS (RFC 1928 §3). */
export function parseGreeting(buf: Buffer): Parsed<{ methods: number[] }> {
  if (buf.length < 1) return MORE;
  // Not SOCKS5 (a SOCKS4 client, noise): there is no version-5 way to say so.
  if (buf[0] !== SOCKS_VERSION) return { kind: 'invalid', message: `not a SOCKS5 greeting (version byte ${buf[0]})`, reply: null };
  if (buf.length < 2) return MORE;
  const n = buf[1]!;
  if (n === 0) return { kind: 'invalid', message: 'the SOCKS5 greeting offers no authentication method', reply: methodChoice(Method.NO_ACCEPTABLE) };
  if (buf.length < 2 + n) return MORE;
  return { kind: 'done', value: { methods: [...buf.subarray(2, 2 + n)] }, length: 2 + n };
}

/**
 * The method to use. With proxy auth configured only username/password will do; without it,
 * no-auth is preferred and username/password is accepted (any credentials) from a client that
 * offers nothing else.
 */
export function chooseMethod(offered: readonly number[], authRequired: boolean): MethodCode {
  if (authRequired) return offered.includes(Method.USER_PASS) ? Method.USER_PASS : Method.NO_ACCEPTABLE;
  if (offered.includes(Method.NO_AUTH)) return Method.NO_AUTH;
  return offered.includes(Method.USER_PASS) ? Method.USER_PASS : Method.NO_ACCEPTABLE;
}

/** Username/password request: VER=1, ULEN, UNAME, PLEN, PASSWD (RFC 1929 §2), UTF-8 text. */
export function parseUserPass(buf: Buffer): Parsed<{ user: string; password: string }> {
  if (buf.length < 1) return MORE;
  if (buf[0] !== USERPASS_VERSION) return { kind: 'invalid', message: `username/password subnegotiation has version ${buf[0]} (expected 1)`, reply: authStatus(false) };
  if (buf.length < 2) return MORE;
  const ulen = buf[1]!;
  if (buf.length < 3 + ulen) return MORE;
  const plen = buf[2 + ulen]!;
  const length = 3 + ulen + plen;
  if (buf.length < length) return MORE;
  return { kind: 'done', value: { user: buf.toString('utf8', 2, 2 + ulen), password: buf.toString('utf8', 3 + ulen, length) }, length };
}

/** A CONNECT request's destination. */
export interface Socks5Target {
  host: string;
  port: number;
}

/** Request: VER, CMD, RSV, ATYP, DST.ADDR, DST.PORT (RFC 1928 §4). Only CONNECT is accepted. */
export function parseRequest(buf: Buffer): Parsed<Socks5Target> {
  if (buf.length < 1) return MORE;
  if (buf[0] !== SOCKS_VERSION) return invalid(`request has version ${buf[0]} (expected 5)`, Reply.GENERAL_FAILURE);
  if (buf.length < 5) return MORE;
  const cmd = buf[1]!;
  const atyp = buf[3]!;
  let host: string;
  let end: number;
  switch (atyp) {
    case ATYP_IPV4:
      end = 4 + 4;
      if (buf.length < end + 2) return MORE;
      host = [...buf.subarray(4, end)].join('.');
      break;
    case ATYP_IPV6:
      end = 4 + 16;
      if (buf.length < end + 2) return MORE;
      host = formatIpv6(buf.subarray(4, end));
      break;
    case ATYP_DOMAIN: {
      const len = buf[4]!;
      end = 5 + len;
      if (buf.length < end + 2) return MORE;
      const name = buf.toString('latin1', 5, end);
      const problem = domainProblem(name);
      if (problem) return invalid(problem, Reply.GENERAL_FAILURE);
      host = name.toLowerCase();
      break;
    }
    default:
      return invalid(`address type ${atyp} is not supported`, Reply.ADDRESS_TYPE_NOT_SUPPORTED);
  }
  const port = buf.readUInt16BE(end);
  if (cmd !== CMD_CONNECT) return invalid(`${COMMAND_NAMES[cmd] ?? `command ${cmd}`} is not supported (CONNECT only)`, Reply.COMMAND_NOT_SUPPORTED);
  if (port === 0) return invalid('destination port 0', Reply.GENERAL_FAILURE);
  return { kind: 'done', value: { host, port }, length: end + 2 };
}

/** The server's method choice (RFC 1928 §3). */
export function methodChoice(method: MethodCode): Buffer {
  return Buffer.from([SOCKS_VERSION, method]);
}

/** The username/password status (RFC 1929 §2): 0 success, anything else failure. */
export function authStatus(ok: boolean): Buffer {
  return Buffer.from([USERPASS_VERSION, ok ? 0x00 : 0x01]);
}

/**
 * A reply (RFC 1928 §6). BND.ADDR/BND.PORT say where the server's own end of the connection is;
 * an IPv4 address is given when known, `0.0.0.0:0` otherwise (clients of CONNECT ignore it).
 */
export function reply(code: ReplyCode, bound?: { address?: string | undefined; port?: number | undefined }): Buffer {
  const out = Buffer.from([SOCKS_VERSION, code, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0]);
  const address = bound?.address?.replace(/^::ffff:(?=\d+\.)/, '');
  if (address && net.isIPv4(address)) {
    address.split('.').forEach((octet, i) => out.writeUInt8(Number(octet), 4 + i));
    out.writeUInt16BE(bound?.port ?? 0, 8);
  }
  return out;
}

/** The reply code that best names why a destination could not be reached. */
export function replyForError(code: string): ReplyCode {
  switch (code) {
    case 'UPSTREAM_REFUSED':
      return Reply.CONNECTION_REFUSED;
    case 'UPSTREAM_DNS':
    case 'UPSTREAM_UNREACHABLE':
      return Reply.HOST_UNREACHABLE;
    case 'UPSTREAM_TIMEOUT':
      // RFC 1928 names no timeout; "TTL expired" is what SOCKS servers commonly send for one.
      return Reply.TTL_EXPIRED;
    default:
      return Reply.GENERAL_FAILURE;
  }
}

function invalid(message: string, code: ReplyCode): Parsed<never> {
  return { kind: 'invalid', message, reply: reply(code) };
}

/** Why a DST.ADDR domain name cannot be a host, or null when it can. */
function domainProblem(name: string): string | null {
  if (name === '') return 'empty destination host name';
  // An IPv6 literal sent as a name (some clients do) is fine; otherwise a host name character set.
  if (net.isIPv6(name)) return null;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return `destination host name ${JSON.stringify(name)} has characters a host name cannot have`;
  return null;
}

/** 16 bytes → the RFC 5952 text form (lowercase, longest run of zero groups as `::`). */
export const formatIpv6 = canonicalIpv6;
