/**
 * X.509 v3 certificate structures (RFC 5280 §4.1) built with forge's ASN.1 tools and signed with
 * node:crypto. forge's own `pki.Certificate.sign` only knows RSA keys in JavaScript (~25 ms per
 * signature here, DESIGN.md §8); native `crypto.sign` takes well under a millisecond and also
 * covers EC keys, so the structure is assembled here and only the signature comes from OpenSSL.
 */
import { createHash, sign, type KeyObject } from 'node:crypto';
import {
  type Asn1,
  bitString,
  bool,
  children,
  content,
  decode,
  encode,
  explicit,
  implicit,
  isContext,
  namedBits,
  nul,
  octets,
  oid,
  oidOf,
  seq,
  set,
  smallInt,
  time,
  uint,
  utf8,
} from './der.js';

export const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
} as const;

/** KeyUsage bit positions (RFC 5280 §4.2.1.3). */
export const KeyUsageBit = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** One attribute per RDN, in the order given (which is also the order `openssl` and Node print). */
export function name(attributes: ReadonlyArray<readonly [oid: string, value: string]>): Asn1 {
  return seq(...attributes.map(([type, value]) => set(seq(oid(type), utf8(value)))));
}

export function extension(extnId: string, critical: boolean, value: Asn1): Asn1 {
  const parts = [oid(extnId)];
  // DER: a DEFAULT FALSE field is omitted when false (X.690 §11.5).
  if (critical) parts.push(bool(true));
  parts.push(octets(encode(value)));
  return seq(...parts);
}

export function basicConstraints(ca: boolean, pathLen?: number): Asn1 {
  if (!ca) return extension(OID.basicConstraints, false, seq());
  const body = [bool(true)];
  if (pathLen !== undefined) body.push(smallInt(pathLen));
  return extension(OID.basicConstraints, true, seq(...body));
}

export function keyUsage(bits: readonly number[]): Asn1 {
  return extension(OID.keyUsage, true, namedBits(bits));
}

export function extKeyUsage(purposes: readonly string[]): Asn1 {
  return extension(OID.extKeyUsage, false, seq(...purposes.map(oid)));
}

export function subjectKeyIdentifier(keyId: Uint8Array): Asn1 {
  return extension(OID.subjectKeyIdentifier, false, octets(keyId));
}

export function authorityKeyIdentifier(keyId: Uint8Array): Asn1 {
  return extension(OID.authorityKeyIdentifier, false, seq(implicit(0, keyId)));
}

export type SubjectAltName = { kind: 'dns'; name: string } | { kind: 'ip'; bytes: Uint8Array };

export function subjectAltName(names: readonly SubjectAltName[]): Asn1 {
  return extension(
    OID.subjectAltName,
    false,
    seq(
      ...names.map((n) =>
        n.kind === 'dns' ? implicit(2, Buffer.from(n.name, 'ascii')) : implicit(7, n.bytes),
      ),
    ),
  );
}

/** The AlgorithmIdentifier for signing with `key` using SHA-256. */
export function signatureAlgorithmFor(key: KeyObject): Asn1 | null {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      // RFC 4055 §5: the parameters field MUST be NULL for PKCS#1 v1.5 algorithms.
      return seq(oid(OID.sha256WithRSAEncryption), nul());
    case 'ec':
      // RFC 5758 §3.2: ECDSA algorithm identifiers carry no parameters.
      return seq(oid(OID.ecdsaWithSHA256));
    default:
      return null;
  }
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's bits. */
export function keyIdentifier(spkiDer: Uint8Array): Buffer {
  const bits = content(children(decode(spkiDer), 'SubjectPublicKeyInfo')[1], 'subjectPublicKey');
  return createHash('sha1').update(bits.subarray(1)).digest();
}

export interface TbsFields {
  /** Big-endian magnitude; encoded as a positive INTEGER. */
  serial: Uint8Array;
  signatureAlgorithm: Asn1;
  issuer: Asn1;
  subject: Asn1;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo, already an ASN.1 node (decoded once from the key's SPKI DER). */
  subjectPublicKeyInfo: Asn1;
  extensions: readonly Asn1[];
}

export function tbsCertificate(f: TbsFields): Asn1 {
  return seq(
    explicit(0, smallInt(2)), // v3
    uint(f.serial),
    f.signatureAlgorithm,
    f.issuer,
    seq(time(f.notBefore), time(f.notAfter)),
    f.subject,
    f.subjectPublicKeyInfo,
    explicit(3, seq(...f.extensions)),
  );
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }. */
export function signCertificate(tbs: Asn1, signatureAlgorithm: Asn1, key: KeyObject): Buffer {
  const tbsDer = encode(tbs);
  // RSA: PKCS#1 v1.5 is crypto.sign's default; EC: a DER Ecdsa-Sig-Value is its default encoding.
  const signature = sign('sha256', tbsDer, key);
  const tail = Buffer.concat([encode(signatureAlgorithm), encode(bitString(signature))]);
  return Buffer.concat([derHeader(0x30, tbsDer.length + tail.length), tbsDer, tail]);
}

/** Tag and definite length (X.690 §8.1.3) for a constructed value we concatenate by hand. */
function derHeader(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.of(tag, length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n >>>= 8) bytes.unshift(n & 0xff);
  return Buffer.of(tag, 0x80 | bytes.length, ...bytes);
}

export interface IssuerFacts {
  /** The subject Name exactly as encoded, to be copied as the issuer of every leaf. */
  subject: Asn1;
  /** The subjectKeyIdentifier, or one computed from the key when the extension is absent. */
  keyId: Buffer;
}

/** Read what a leaf needs from its issuer's certificate DER. Throws on a malformed structure. */
export function issuerFacts(certDer: Uint8Array): IssuerFacts {
  const tbs = children(children(decode(certDer), 'Certificate')[0], 'TBSCertificate');
  // version is `[0] EXPLICIT ... DEFAULT v1`, so it is absent from v1 certificates.
  const at = isContext(tbs[0], 0) ? 1 : 0;
  const subject = tbs[at + 4];
  const spki = tbs[at + 5];
  children(subject, 'subject Name');
  children(spki, 'SubjectPublicKeyInfo');
  let keyId: Buffer | undefined;
  for (const field of tbs.slice(at + 6)) {
    if (!isContext(field, 3)) continue;
    for (const ext of children(children(field, 'extensions')[0], 'Extensions')) {
      const parts = children(ext, 'Extension');
      if (oidOf(parts[0], 'extnID') !== OID.subjectKeyIdentifier) continue;
      const value = content(parts[parts.length - 1], 'extnValue');
      keyId = content(decode(value), 'SubjectKeyIdentifier');
    }
  }
  return { subject: subject!, keyId: keyId ?? keyIdentifier(encode(spki!)) };
}
