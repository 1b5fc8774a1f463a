/** The root certificate in the formats trust stores import. */
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { buf } from './der.js';

export type CaExportFormat = 'pem' | 'der' | 'p12';

export const CA_EXPORT_FORMATS: readonly CaExportFormat[] = ['pem', 'der', 'p12'];

export function isCaExportFormat(value: string): value is CaExportFormat {
  return (CA_EXPORT_FORMATS as readonly string[]).includes(value);
}

export function certificateDer(certPem: string): Buffer {
  return Buffer.from(new X509Certificate(certPem).raw);
}

/**
 * PKCS#12 with an empty password. Without `keyPem` it holds only the certificate, which is what
 * importing a trusted root needs (Windows, Android, macOS Keychain); with it, the root key too.
 * 3DES rather than forge's default AES: older importers (Windows 7-era CryptoAPI, Android < 12)
 * reject AES-encrypted PKCS#12 files.
 */
export function certificatePkcs12(certPem: string, keyPem?: string): Buffer {
  const cert = forge.pki.certificateFromPem(certPem);
  const key = keyPem === undefined ? null : forge.pki.privateKeyFromPem(keyPem);
  const pfx = forge.pkcs12.toPkcs12Asn1(key, [cert], '', {
    algorithm: '3des',
    friendlyName: cert.subject.getField('CN')?.value ?? 'proxyctl CA',
  });
  return buf(forge.asn1.toDer(pfx).getBytes());
}
