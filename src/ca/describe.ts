import { X509Certificate } from 'node:crypto';

export interface CertificateSummary {
  /** RDNs joined with ", " in encoded order, e.g. `CN=proxyctl CA 3f9a1c, O=proxyctl`. */
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** As Node prints them, e.g. `DNS:example.com`, `IP Address:127.0.0.1`. */
  sans: string[];
  /** Colon-separated upper-case hex SHA-256 of the DER. */
  fingerprintSha256: string;
}

/** Summarize a PEM certificate (the first one, if several are given). */
export function describeCertificate(pem: string): CertificateSummary {
  const cert = new X509Certificate(pem);
  return {
    subject: cert.subject.split('\n').join(', '),
    issuer: cert.issuer.split('\n').join(', '),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    sans: splitAltNames(cert.subjectAltName),
    fingerprintSha256: cert.fingerprint256,
  };
}

/**
 * Node joins SAN entries with ", " and JSON-quotes a value that contains a separator or quote
 * (the fix for CVE-2021-44532), so split only outside quotes.
 */
function splitAltNames(text: string | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted && ch === '\\') {
      current += ch + (text[++i] ?? '');
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === ',' && text[i + 1] === ' ') {
      out.push(current);
      current = '';
      i++;
      continue;
    }
    current += ch;
  }
  out.push(current);
  return out;
}
