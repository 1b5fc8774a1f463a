/**
 * The root CA: generating a new one (one per install, DESIGN.md §8) and validating one loaded from
 * PEM into the facts leaf issuance needs.
 */
import {
  createHash,
  createPrivateKey,
  generateKeyPair,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import type { Asn1 } from './der.js';
import { decode, toPem } from './der.js';
import { CaError } from './errors.js';
import {
  basicConstraints,
  issuerFacts,
  KeyUsageBit,
  keyIdentifier,
  keyUsage,
  name,
  OID,
  signatureAlgorithmFor,
  signCertificate,
  subjectKeyIdentifier,
  tbsCertificate,
} from './x509.js';

const generateKeyPairAsync = promisify(generateKeyPair);

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RootPem {
  certPem: string;
  keyPem: string;
}

/**
 * Make a new root CA: RSA 2048 (generated on libuv's thread pool, not the event loop), SHA-256,
 * `CN=proxyctl CA <6 hex>, O=proxyctl`, CA:true pathlen 0, keyCertSign + cRLSign, valid from a day
 * ago (clients with a slightly slow clock) for ten years.
 */
export async function generateRootPem(now: Date = new Date()): Promise<RootPem> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  // A random suffix makes the name unique per install, so two installs' roots never get confused
  // in a trust store (and removing one by name never removes the other).
  const subject = name([
    [OID.commonName, `proxyctl CA ${randomBytes(3).toString('hex')}`],
    [OID.organizationName, 'proxyctl'],
  ]);
  const notBefore = new Date(now.getTime() - DAY_MS);
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 10);
  const algorithm = signatureAlgorithmFor(privateKey)!;
  const tbs = tbsCertificate({
    serial: positiveSerial(),
    signatureAlgorithm: algorithm,
    issuer: subject,
    subject,
    notBefore,
    notAfter,
    subjectPublicKeyInfo: decode(spkiDer),
    extensions: [
      basicConstraints(true, 0),
      keyUsage([KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign]),
      subjectKeyIdentifier(keyIdentifier(spkiDer)),
    ],
  });
  return {
    certPem: toPem(signCertificate(tbs, algorithm, privateKey), 'CERTIFICATE'),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * 16 random bytes as a positive INTEGER (RFC 5280 §4.1.2.2: at most 20 octets, positive; CA/B
 * Forum BR §7.1: at least 64 bits of CSPRNG output). Setting 0x40 and clearing 0x80 in the first
 * byte keeps it positive and exactly 16 octets in DER.
 */
export function positiveSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

/** A validated root, ready to sign leaves. */
export interface RootMaterial {
  certPem: string;
  cert: X509Certificate;
  key: KeyObject;
  /** AlgorithmIdentifier matching `key` (sha256WithRSAEncryption or ecdsa-with-SHA256). */
  signatureAlgorithm: Asn1;
  /** The root's subject, copied byte for byte as every leaf's issuer. */
  subject: Asn1;
  /** The root's key identifier, every leaf's authorityKeyIdentifier. */
  keyId: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** base64 SHA-256 of the SubjectPublicKeyInfo DER. */
  spkiSha256: string;
}

export interface RootSource {
  certPath?: string;
  keyPath?: string;
}

/**
 * Parse and check a root: a CA certificate, a key that matches it, an algorithm we can sign with,
 * not expired at `now`. Every failure is a `CaError` naming the file when there is one.
 */
export function loadRoot(certPem: string, keyPem: string, now: Date, source: RootSource = {}): RootMaterial {
  const certName = source.certPath ?? 'the root certificate';
  const keyName = source.keyPath ?? 'the root key';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (cause) {
    throw new CaError('CA_CERT_INVALID', `${certName} is not a valid PEM certificate: ${reason(cause)}`, {
      cause,
      path: source.certPath,
    });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (cause) {
    throw new CaError('CA_KEY_INVALID', `${keyName} is not a valid PEM private key: ${reason(cause)}`, {
      cause,
      path: source.keyPath,
    });
  }
  if (!cert.checkPrivateKey(key)) {
    throw new CaError('CA_KEY_MISMATCH', `${keyName} does not belong to the certificate ${certName}`, {
      path: source.keyPath,
    });
  }
  if (!cert.ca) {
    throw new CaError('CA_NOT_CA', `${certName} is not a CA certificate (basicConstraints CA:false)`, {
      path: source.certPath,
    });
  }
  const signatureAlgorithm = signatureAlgorithmFor(key);
  if (!signatureAlgorithm) {
    throw new CaError('CA_UNSUPPORTED_KEY', `${keyName} is a ${key.asymmetricKeyType} key; use RSA or EC`, {
      path: source.keyPath,
    });
  }
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (!(notAfter.getTime() > now.getTime())) {
    throw new CaError(
      'CA_EXPIRED',
      `${certName} expired on ${notAfter.toISOString()}; remove it and its key to create a new CA`,
      { path: source.certPath },
    );
  }
  let facts;
  try {
    facts = issuerFacts(cert.raw);
  } catch (cause) {
    throw new CaError('CA_CERT_INVALID', `${certName} could not be read: ${reason(cause)}`, {
      cause,
      path: source.certPath,
    });
  }
  const spkiDer = cert.publicKey.export({ type: 'spki', format: 'der' });
  return {
    certPem: cert.toString(),
    cert,
    key,
    signatureAlgorithm,
    subject: facts.subject,
    keyId: facts.keyId,
    notBefore,
    notAfter,
    spkiSha256: createHash('sha256').update(spkiDer).digest('base64'),
  };
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
