/**
 * The proxy's pregenerated TEST root CA (fixtures/ca/, made by fixtures/generate-test-ca.ts through
 * the same code path as a real install), so tests never generate an RSA key.
 */
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CertificateAuthority } from '../../src/ca/index.js';
import { caCertPath, caDir, caKeyPath } from '../../src/config/paths.js';

/** Absolute paths of the fixture root certificate and key. */
export const fixtureCaPaths = {
  cert: fileURLToPath(new URL('../../fixtures/ca/ca.pem', import.meta.url)),
  key: fileURLToPath(new URL('../../fixtures/ca/ca.key', import.meta.url)),
} as const;

let cached: Promise<CertificateAuthority> | undefined;

/**
 * The fixture CA, loaded once per test process (its leaf key too). Shared: tests that count
 * issuances or fill the cache should make their own with `CertificateAuthority.fromPem`.
 */
export function loadFixtureCa(): Promise<CertificateAuthority> {
  cached ??= (async () => {
    const [cert, key] = await Promise.all([readFile(fixtureCaPaths.cert, 'utf8'), readFile(fixtureCaPaths.key, 'utf8')]);
    return CertificateAuthority.fromPem(cert, key);
  })();
  return cached;
}

/** The fixture root certificate and key as PEM text. */
export async function readFixtureCaPem(): Promise<{ cert: string; key: string }> {
  const [cert, key] = await Promise.all([readFile(fixtureCaPaths.cert, 'utf8'), readFile(fixtureCaPaths.key, 'utf8')]);
  return { cert, key };
}

export interface TempHome {
  /** Use as PROXYCTL_HOME. */
  home: string;
  cleanup(): Promise<void>;
}

/** A fresh temporary PROXYCTL_HOME whose `ca/` holds the fixture CA (dir 0700, key 0600). */
export async function makeTempHome(): Promise<TempHome> {
  const home = await mkdtemp(join(tmpdir(), 'proxyctl-home-'));
  await mkdir(caDir(home), { mode: 0o700 });
  await copyFile(fixtureCaPaths.cert, caCertPath(home));
  await copyFile(fixtureCaPaths.key, caKeyPath(home));
  // A git checkout does not keep the key's 0600.
  await chmod(caKeyPath(home), 0o600);
  return { home, cleanup: () => rm(home, { recursive: true, force: true }) };
}
