/**
 * Reads certificate extensions with forge's own decoder (`pki.certificateExtensionFromAsn1`), an
 * implementation independent of the encoder under test. Node's X509Certificate does not expose
 * key usage bits, basic constraints' criticality or key identifiers.
 */
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';

export interface DecodedExtension {
  id: string;
  name?: string;
  critical: boolean;
  /** The extnValue bytes (forge binary string). */
  value: string;
  cA?: boolean;
  pathLenConstraint?: number;
  digitalSignature?: boolean;
  keyCertSign?: boolean;
  cRLSign?: boolean;
  keyEncipherment?: boolean;
  serverAuth?: boolean;
  clientAuth?: boolean;
  altNames?: Array<{ type: number; value: string; ip?: string }>;
  subjectKeyIdentifier?: string;
}

const decodeExtension = (forge.pki as unknown as { certificateExtensionFromAsn1(ext: forge.asn1.Asn1): DecodedExtension })
  .certificateExtensionFromAsn1;

/** Extensions by name (or OID when forge has no name for it). */
export function extensionsOf(pem: string): Map<string, DecodedExtension> {
  const der = Buffer.from(new X509Certificate(pem).raw).toString('latin1');
  const cert = forge.asn1.fromDer(der);
  const tbs = (cert.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
  const wrapper = tbs.find((n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  const out = new Map<string, DecodedExtension>();
  if (!wrapper) return out;
  for (const ext of ((wrapper.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])) {
    const decoded = decodeExtension(ext);
    out.set(decoded.name ?? decoded.id, decoded);
  }
  return out;
}

/** The keyIdentifier of an authorityKeyIdentifier extension, as lower-case hex. */
export function authorityKeyId(ext: DecodedExtension): string {
  const seq = forge.asn1.fromDer(ext.value);
  const keyId = (seq.value as forge.asn1.Asn1[]).find(
    (n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 0,
  );
  return forge.util.bytesToHex(keyId!.value as string);
}

/** The signature algorithm OID of a certificate. */
export function signatureAlgorithmOid(pem: string): string {
  const der = Buffer.from(new X509Certificate(pem).raw).toString('latin1');
  const cert = forge.asn1.fromDer(der);
  const algId = (cert.value as forge.asn1.Asn1[])[1]!.value as forge.asn1.Asn1[];
  return forge.asn1.derToOid(algId[0]!.value as string);
}
