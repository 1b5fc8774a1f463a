/**
 * Small constructors over node-forge's ASN.1 tools. forge represents byte strings as "binary"
 * (latin1) JavaScript strings; these helpers take and return Buffers so the rest of src/ca never
 * handles that representation.
 */
import forge from 'node-forge';

const { asn1 } = forge;
const { Class, Type } = asn1;

export type Asn1 = forge.asn1.Asn1;

/** Buffer → forge binary string. */
export function bin(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** forge binary string → Buffer. */
export function buf(binary: string): Buffer {
  return Buffer.from(binary, 'latin1');
}

export function encode(node: Asn1): Buffer {
  return buf(asn1.toDer(node).getBytes());
}

/**
 * Parse DER without forge's heuristic decoding of BIT STRING contents: an EC point or a signature
 * that happens to look like ASN.1 must stay opaque bytes so it re-encodes unchanged.
 */
export function decode(der: Uint8Array): Asn1 {
  // The typings only know the boolean `strict` form; the options object is the documented one.
  const fromDer = asn1.fromDer as unknown as (
    bytes: string,
    options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean },
  ) => Asn1;
  return fromDer(bin(der), { strict: true, parseAllBytes: true, decodeBitStrings: false });
}

export function seq(...items: Asn1[]): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, items);
}

export function set(...items: Asn1[]): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.SET, true, items);
}

export function oid(dotted: string): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.OID, false, asn1.oidToDer(dotted).getBytes());
}

/** A non-negative INTEGER from its big-endian magnitude (a 0x00 is prepended when needed). */
export function uint(magnitude: Uint8Array): Asn1 {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const needsPad = trimmed.length === 0 || (trimmed[0]! & 0x80) !== 0;
  const value = needsPad ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed;
  return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, bin(value));
}

export function smallInt(n: number): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, asn1.integerToDer(n).getBytes());
}

export function bool(value: boolean): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.BOOLEAN, false, value ? '\xff' : '\x00');
}

export function nul(): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.NULL, false, '');
}

export function octets(bytes: Uint8Array): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, bin(bytes));
}

/** A BIT STRING whose length is a whole number of bytes (the leading "unused bits" octet is 0). */
export function bitString(bytes: Uint8Array): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, '\x00' + bin(bytes));
}

/** A BIT STRING of named bits (X.680 §22.7: DER drops trailing zero bits). Bit 0 is the MSB. */
export function namedBits(bits: readonly number[]): Asn1 {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc((highest >> 3) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  const unused = 7 - (highest & 7);
  return asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, String.fromCharCode(unused) + bin(bytes));
}

export function utf8(text: string): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.UTF8, false, bin(Buffer.from(text, 'utf8')));
}

/** `[tag] IMPLICIT` primitive, e.g. GeneralName dNSName [2] or iPAddress [7]. */
export function implicit(tag: number, bytes: Uint8Array): Asn1 {
  return asn1.create(Class.CONTEXT_SPECIFIC, tag, false, bin(bytes));
}

/** `[tag] EXPLICIT` wrapper, e.g. the TBSCertificate version [0] and extensions [3]. */
export function explicit(tag: number, inner: Asn1): Asn1 {
  return asn1.create(Class.CONTEXT_SPECIFIC, tag, true, [inner]);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Zulu. */
export function time(date: Date): Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(Class.UNIVERSAL, Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(Class.UNIVERSAL, Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

/** The children of a constructed node; throws when the shape is not what the caller expects. */
export function children(node: Asn1 | undefined, what: string): Asn1[] {
  if (!node || !Array.isArray(node.value)) throw new Error(`malformed ${what}`);
  return node.value;
}

/** The content bytes of a primitive node. */
export function content(node: Asn1 | undefined, what: string): Buffer {
  if (!node || typeof node.value !== 'string') throw new Error(`malformed ${what}`);
  return buf(node.value);
}

export function isContext(node: Asn1 | undefined, tag: number): boolean {
  return node?.tagClass === Class.CONTEXT_SPECIFIC && node.type === tag;
}

export function oidOf(node: Asn1 | undefined, what: string): string {
  if (node?.type !== Type.OID || typeof node.value !== 'string') throw new Error(`malformed ${what}`);
  return asn1.derToOid(node.value);
}

/** Wrap DER as PEM with 64-column lines (RFC 7468 §2). */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}
