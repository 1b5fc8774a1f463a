/**
 * Root CA generation. The only test file that generates RSA keys (each ~0.1-0.5 s on the thread
 * pool); everything else uses the fixture CA.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../../src/ca/index.js';
import { caCommand } from '../../../src/commands/ca.js';
import { caCertPath, caDir, caKeyPath } from '../../../src/config/paths.js';
import { extensionsOf, signatureAlgorithmOid } from './cert-inspect.js';

const DAY = 24 * 60 * 60 * 1000;

describe('root CA generation', () => {
  let base: string;
  let home: string;
  let first: CertificateAuthority;
  let second: CertificateAuthority;
  let startedAt: number;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'proxyctl-ca-gen-'));
    home = join(base, 'home');
    startedAt = Date.now();
    // Two first starts at once, as two processes would race on a fresh install.
    [first, second] = await Promise.all([
      CertificateAuthority.loadOrCreate({ dir: caDir(home) }),
      CertificateAuthority.loadOrCreate({ dir: caDir(home) }),
    ]);
  });

  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('creates ca/ 0700 with ca.pem and a 0600 ca.key, and nothing else', async () => {
    expect((await stat(caDir(home))).mode & 0o777).toBe(0o700);
    expect((await stat(caKeyPath(home))).mode & 0o777).toBe(0o600);
    expect((await stat(caCertPath(home))).isFile()).toBe(true);
    expect((await readdir(caDir(home))).sort()).toEqual(['ca.key', 'ca.pem']);
    expect(first.certPath).toBe(caCertPath(home));
    expect(first.keyPath).toBe(caKeyPath(home));
  });

  it('gives concurrent first starts one matching pair', async () => {
    expect(second.certPem).toBe(first.certPem);
    expect([first.created, second.created].filter(Boolean)).toHaveLength(1);
    const cert = new X509Certificate(await readFile(caCertPath(home), 'utf8'));
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(caKeyPath(home), 'utf8')))).toBe(true);
    expect(cert.toString()).toBe(first.certPem);
  });

  it('makes an RSA 2048 / SHA-256 self-signed CA certificate with the required fields', () => {
    const cert = new X509Certificate(first.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toMatch(/^CN=proxyctl CA [0-9a-f]{6}\nO=proxyctl$/);
    expect(cert.issuer).toBe(cert.subject);
    expect(first.subject).toBe(cert.subject.replace('\n', ', '));
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(signatureAlgorithmOid(first.certPem)).toBe('1.2.840.113549.1.1.11');
    // Positive 16-byte serial: 32 hex digits, top bit clear.
    expect(cert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);

    const notBefore = new Date(cert.validFrom).getTime();
    const notAfter = new Date(cert.validTo).getTime();
    expect(Math.abs(notBefore - (startedAt - DAY))).toBeLessThan(60_000);
    expect((notAfter - notBefore) / (365.25 * DAY)).toBeCloseTo(10, 1);
    expect(first.notAfter.getTime()).toBe(notAfter);

    const ext = extensionsOf(first.certPem);
    expect(ext.get('basicConstraints')).toMatchObject({ critical: true, cA: true, pathLenConstraint: 0 });
    expect(ext.get('keyUsage')).toMatchObject({
      critical: true,
      keyCertSign: true,
      cRLSign: true,
      digitalSignature: false,
      keyEncipherment: false,
    });
    expect(ext.get('subjectKeyIdentifier')?.subjectKeyIdentifier).toMatch(/^[0-9a-f]{40}$/);
  });

  it('reloads the same root on the next start', async () => {
    const again = await CertificateAuthority.loadOrCreate({ dir: caDir(home) });
    expect(again.created).toBe(false);
    expect(again.certPem).toBe(first.certPem);
    expect(again.fingerprintSha256).toBe(first.fingerprintSha256);
  });

  it('gives every install its own root name and key', async () => {
    const other = await CertificateAuthority.loadOrCreate({ dir: join(base, 'other', 'ca') });
    expect(other.subject).not.toBe(first.subject);
    expect(other.spkiSha256).not.toBe(first.spkiSha256);
  });

  it('`proxyctl ca path` creates the CA in an empty home and prints ca/ca.pem', async () => {
    const emptyHome = join(base, 'empty-home');
    const out: string[] = [];
    const err: string[] = [];
    const cmd = caCommand({
      env: { PROXYCTL_HOME: emptyHome },
      stdout: { write: (c) => out.push(String(c)) },
      stderr: { write: (c) => err.push(c) },
    });
    await cmd.parseAsync(['path'], { from: 'user' });
    expect(out.join('')).toBe(`${caCertPath(emptyHome)}\n`);
    expect(err.join('')).toContain('created a new root CA');
    expect(new X509Certificate(await readFile(caCertPath(emptyHome), 'utf8')).ca).toBe(true);
  });
});
