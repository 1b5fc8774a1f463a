/**
 * Host names as certificates need them: validated, lowercased, with IP literals told apart (they go
 * into an iPAddress SAN, never a dNSName one: RFC 5280 §4.2.1.6, and clients ignore an IP written
 * as a dNSName).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { CaError } from './errors.js';

export type CertHost =
  /** `name` is lowercase ASCII (A-labels), without a trailing dot. */
  | { kind: 'dns'; name: string }
  /** `name` is the canonical text form (RFC 5952 for IPv6); `bytes` the 4 or 16 address octets. */
  | { kind: 'ip'; name: string; bytes: Buffer };

/** RFC 1035 §2.3.4: 255 octets on the wire, i.e. 253 characters in text form. */
const MAX_NAME = 253;
const MAX_LABEL = 63;
// Letters, digits, hyphen, plus underscore, which real (if non-conforming) host names use. No "*":
// one certificate per exact host, never a wildcard.
const LABEL = /^[a-z0-9_-]+$/;

/** Validate and normalize a host for a leaf certificate. Throws `CaError('CA_INVALID_HOST')`. */
export function parseCertHost(input: string): CertHost {
  if (typeof input !== 'string' || input.length === 0) throw invalid(input, 'empty');
  if (input.length > MAX_NAME + 2) throw invalid(input, 'too long');

  if (isIPv4(input)) {
    return { kind: 'ip', name: input, bytes: Buffer.from(input.split('.').map(Number)) };
  }
  const unbracketed = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  if (unbracketed.includes(':')) {
    // A zone ("fe80::1%eth0") is local to one machine and has no place in a certificate.
    if (!isIPv6(unbracketed) || unbracketed.includes('%')) throw invalid(input, 'not an IPv6 address');
    const bytes = ipv6Bytes(unbracketed);
    return { kind: 'ip', name: canonicalIpv6(bytes), bytes };
  }
  if (unbracketed !== input) throw invalid(input, 'brackets around a non-IPv6 name');

  let name = input.toLowerCase();
  if (/[^\x00-\x7f]/.test(name)) {
    // A U-label name: certificates and SNI carry the A-label (RFC 5890 §2.3.2.1).
    name = domainToASCII(name);
    if (name === '') throw invalid(input, 'not a valid internationalized name');
  }
  // "example.com." is the same host; the certificate carries it without the root dot.
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0 || name.length > MAX_NAME) throw invalid(input, 'bad length');
  for (const label of name.split('.')) {
    if (label.length === 0) throw invalid(input, 'empty label');
    if (label.length > MAX_LABEL) throw invalid(input, 'label longer than 63 characters');
    if (!LABEL.test(label)) throw invalid(input, 'characters not allowed in a host name');
  }
  return { kind: 'dns', name };
}

function invalid(input: unknown, why: string): CaError {
  const shown = typeof input === 'string' ? JSON.stringify(input.slice(0, 80)) : String(input);
  return new CaError('CA_INVALID_HOST', `invalid host name for a certificate (${why}): ${shown}`);
}

/** 16 octets of an IPv6 literal already accepted by `isIPv6` (so the shape is known good). */
function ipv6Bytes(text: string): Buffer {
  let s = text;
  // An embedded IPv4 tail ("::ffff:1.2.3.4", RFC 4291 §2.2) becomes two hex groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** RFC 5952 §4: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
export function canonicalIpv6(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
