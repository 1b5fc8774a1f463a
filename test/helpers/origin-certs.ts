/**
 * The ORIGIN test PKI (fixtures/origin/, made once by fixtures/generate-origin-certs.ts): the root CA
 * that test origin servers chain to, and their leaves. This is not the proxy's CA; the proxy trusts
 * `originCa.cert` only when a test passes it as an extra upstream trust anchor.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of the fixtures/origin directory. */
export const originFixturesDir = fileURLToPath(new URL('../../fixtures/origin/', import.meta.url));

export interface CertPair {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (PKCS#8). */
  key: string;
  certPath: string;
  keyPath: string;
}

function load(name: string): CertPair {
  const certPath = `${originFixturesDir}${name}.pem`;
  const keyPath = `${originFixturesDir}${name}.key`;
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, keyPath };
}

/** The origin test root CA (trust it on a client to accept `valid`, `expired`, `wrongHost` leaves). */
export const originCa: CertPair = load('ca');

/** Leaves used by `startOrigin({ tls })`. */
export const originCerts = {
  /** SAN: localhost, origin.test, *.origin.test, 127.0.0.1, ::1; valid for 20 years. */
  valid: load('valid'),
  /** Same SANs as `valid`; validity ended a year before generation. */
  expired: load('expired'),
  /** SAN: other.example only. */
  wrongHost: load('wrong-host'),
  /** Not issued by the origin CA; SAN: localhost, 127.0.0.1. */
  selfSigned: load('self-signed'),
} as const satisfies Record<string, CertPair>;

export type OriginTlsKind = 'valid' | 'expired' | 'wrong-host' | 'self-signed';

/** The leaf pair for a `startOrigin` TLS kind. */
export function originCertFor(kind: OriginTlsKind): CertPair {
  switch (kind) {
    case 'valid':
      return originCerts.valid;
    case 'expired':
      return originCerts.expired;
    case 'wrong-host':
      return originCerts.wrongHost;
    case 'self-signed':
      return originCerts.selfSigned;
  }
}
