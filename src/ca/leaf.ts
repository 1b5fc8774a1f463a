/**
 * Per-host leaf certificates, issued synchronously (they are needed inside an SNI callback). Every
 * leaf shares one EC P-256 key made at start-up, so issuing is one TBS encoding plus one native
 * signature by the root key.
 */
import type { KeyObject } from 'node:crypto';
import { type Asn1, decode, toPem } from './der.js';
import type { CertHost } from './host.js';
import { positiveSerial, type RootMaterial } from './root.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extKeyUsage,
  keyIdentifier,
  keyUsage,
  KeyUsageBit,
  name,
  OID,
  signCertificate,
  subjectAltName,
  subjectKeyIdentifier,
  tbsCertificate,
} from './x509.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Backdating absorbs clients whose clocks run behind (and time zone bugs in some of them). */
export const LEAF_BACKDATE_MS = 2 * DAY_MS;
/**
 * Well under the 397-day ceiling browsers enforce for TLS server certificates (CA/B Forum BR
 * §6.3.2; Apple and Chrome reject longer ones even from locally trusted roots on some versions).
 */
export const LEAF_LIFETIME_MS = 365 * DAY_MS;
/** X.520 ub-common-name: a CN is at most 64 characters; the SAN carries the full name. */
const MAX_CN = 64;

export interface IssuedCert {
  certPem: string;
  notAfter: Date;
}

export class LeafIssuer {
  readonly #root: RootMaterial;
  readonly #spki: Asn1;
  readonly #fixedExtensions: readonly Asn1[];

  constructor(root: RootMaterial, leafPublicKey: KeyObject) {
    this.#root = root;
    const spkiDer = leafPublicKey.export({ type: 'spki', format: 'der' });
    this.#spki = decode(spkiDer);
    this.#fixedExtensions = [
      basicConstraints(false),
      keyUsage([KeyUsageBit.digitalSignature]),
      extKeyUsage([OID.serverAuth]),
      subjectKeyIdentifier(keyIdentifier(spkiDer)),
      authorityKeyIdentifier(root.keyId),
    ];
  }

  issue(host: CertHost, now: Date): IssuedCert {
    const root = this.#root;
    const notBefore = new Date(now.getTime() - LEAF_BACKDATE_MS);
    // A leaf must not outlive its issuer (RFC 5280 §6.1.3 checks every certificate in the path).
    const notAfter = new Date(Math.min(now.getTime() + LEAF_LIFETIME_MS, root.notAfter.getTime()));
    const tbs = tbsCertificate({
      serial: positiveSerial(),
      signatureAlgorithm: root.signatureAlgorithm,
      issuer: root.subject,
      subject: name([[OID.commonName, host.name.slice(0, MAX_CN)]]),
      notBefore,
      notAfter,
      subjectPublicKeyInfo: this.#spki,
      extensions: [
        subjectAltName([host.kind === 'dns' ? { kind: 'dns', name: host.name } : { kind: 'ip', bytes: host.bytes }]),
        ...this.#fixedExtensions,
      ],
    });
    const der = signCertificate(tbs, root.signatureAlgorithm, root.key);
    // DER has whole seconds; report what the certificate says.
    return { certPem: toPem(der, 'CERTIFICATE'), notAfter: new Date(Math.floor(notAfter.getTime() / 1000) * 1000) };
  }
}
