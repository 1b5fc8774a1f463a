import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CaError, type CertificateAuthority, describeCertificate } from '../../../src/ca/index.js';
import { loadFixtureCa } from '../../helpers/test-ca.js';
import { authorityKeyId, extensionsOf, signatureAlgorithmOid } from './cert-inspect.js';

const DAY = 24 * 60 * 60 * 1000;

describe('leaf certificates', () => {
  let ca: CertificateAuthority;
  let root: X509Certificate;

  beforeAll(async () => {
    ca = await loadFixtureCa();
    root = new X509Certificate(ca.certPem);
  });

  it.each([
    { host: 'example.com', cn: 'example.com', sans: ['DNS:example.com'], check: { host: 'example.com' } },
    { host: 'API.Example.COM', cn: 'api.example.com', sans: ['DNS:api.example.com'], check: { host: 'api.example.com' } },
    { host: 'localhost', cn: 'localhost', sans: ['DNS:localhost'], check: { host: 'localhost' } },
    { host: '127.0.0.1', cn: '127.0.0.1', sans: ['IP Address:127.0.0.1'], check: { ip: '127.0.0.1' } },
    { host: '::1', cn: '::1', sans: ['IP Address:0:0:0:0:0:0:0:1'], check: { ip: '::1' } },
    {
      host: '[2001:db8::42]',
      cn: '2001:db8::42',
      sans: ['IP Address:2001:DB8:0:0:0:0:0:42'],
      check: { ip: '2001:db8::42' },
    },
  ])('issues a leaf for $host with SAN $sans', ({ host, cn, sans, check }) => {
    const before = Date.now();
    const leaf = ca.leafFor(host);
    const cert = new X509Certificate(leaf.certPem);
    const summary = describeCertificate(leaf.certPem);

    expect(summary.subject).toBe(`CN=${cn}`);
    expect(summary.issuer).toBe(ca.subject);
    expect(summary.sans).toEqual(sans);
    if (check.host !== undefined) expect(cert.checkHost(check.host)).toBe(check.host);
    if (check.ip !== undefined) expect(cert.checkIP(check.ip)).toBe(check.ip);

    // Signed by the root, with the root as issuer.
    expect(cert.verify(root.publicKey)).toBe(true);
    expect(cert.checkIssued(root)).toBe(true);
    expect(signatureAlgorithmOid(leaf.certPem)).toBe('1.2.840.113549.1.1.11');

    // Backdated two days; valid a year, under the 397-day browser ceiling.
    const notBefore = summary.notBefore.getTime();
    const notAfter = summary.notAfter.getTime();
    expect(Math.abs(notBefore - (before - 2 * DAY))).toBeLessThan(60_000);
    expect(Math.abs(notAfter - (before + 365 * DAY))).toBeLessThan(60_000);
    expect(notAfter - notBefore).toBeLessThan(397 * DAY);
    expect(leaf.notAfter.getTime()).toBe(notAfter);

    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // Node names the EKU list keyUsage
    expect(cert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    const ext = extensionsOf(leaf.certPem);
    expect(ext.get('keyUsage')).toMatchObject({ critical: true, digitalSignature: true, keyCertSign: false });
    expect(ext.get('basicConstraints')).toMatchObject({ cA: false });
    expect(ext.get('extKeyUsage')).toMatchObject({ serverAuth: true });
    expect(ext.get('subjectKeyIdentifier')?.subjectKeyIdentifier).toMatch(/^[0-9a-f]{40}$/);
    const rootKeyId = extensionsOf(ca.certPem).get('subjectKeyIdentifier')?.subjectKeyIdentifier;
    expect(authorityKeyId(ext.get('authorityKeyIdentifier')!)).toBe(rootKeyId);
  });

  it('shares one leaf key across hosts', () => {
    const a = ca.leafFor('a.example');
    const b = ca.leafFor('b.example');
    expect(a.keyPem).toBe(b.keyPem);
    const spki = (pem: string) => new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
    expect(spki(a.certPem).equals(spki(b.certPem))).toBe(true);
    // The key actually matches the certificate it is served with.
    expect(new X509Certificate(a.certPem).checkPrivateKey(createPrivateKey(a.keyPem))).toBe(true);
  });

  it('truncates the CN at 64 characters and keeps the full name in the SAN', () => {
    const host = ['a'.repeat(60), 'b'.repeat(60), 'example'].join('.');
    const summary = describeCertificate(ca.leafFor(host).certPem);
    expect(summary.subject).toBe(`CN=${host.slice(0, 64)}`);
    expect(summary.sans).toEqual([`DNS:${host}`]);
  });

  it('gives every issued leaf its own serial', () => {
    const serials = new Set(
      ['s1.example', 's2.example', 's3.example'].map((h) => new X509Certificate(ca.leafFor(h).certPem).serialNumber),
    );
    expect(serials.size).toBe(3);
  });

  it.each(['', '*.example.com', 'foo/bar', 'a'.repeat(300), 'x y'])('refuses the host %j', (host) => {
    expect(() => ca.secureContextFor(host)).toThrow(CaError);
    expect(() => ca.leafFor(host)).toThrow(expect.objectContaining({ code: 'CA_INVALID_HOST' }));
  });

  it('reports the root facts', () => {
    expect(ca.fingerprintSha256).toBe(root.fingerprint256);
    expect(ca.subject).toMatch(/^CN=proxyctl CA [0-9a-f]{6}, O=proxyctl$/);
    expect(ca.certPath).toBeNull();
    const spki = root.publicKey.export({ type: 'spki', format: 'der' });
    expect(ca.spkiSha256).toBe(createHash('sha256').update(spki).digest('base64'));
    expect(ca.notAfter.getTime()).toBe(new Date(root.validTo).getTime());
  });
});
