import { generateKeyPairSync } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readOrCreateCaFiles } from '../../../src/ca/ca-files.js';
import { CaError, CertificateAuthority } from '../../../src/ca/index.js';
import { caCertPath, caDir, caKeyPath } from '../../../src/config/paths.js';
import { loadFixtureCa, makeTempHome, readFixtureCaPem, type TempHome } from '../../helpers/test-ca.js';

describe('loading an existing CA', () => {
  let temp: TempHome;

  beforeEach(async () => {
    temp = await makeTempHome();
  });

  afterEach(async () => {
    await temp.cleanup();
  });

  it('returns the root on disk without creating anything', async () => {
    const fixture = await readFixtureCaPem();
    const ca = await CertificateAuthority.loadOrCreate({ dir: caDir(temp.home) });
    expect(ca.created).toBe(false);
    expect(ca.certPem).toBe(fixture.cert);
    expect(ca.certPath).toBe(caCertPath(temp.home));
    expect(ca.fingerprintSha256).toBe((await loadFixtureCa()).fingerprintSha256);
    expect(await readFile(caKeyPath(temp.home), 'utf8')).toBe(fixture.key);
  });

  const otherEcKey = () =>
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });

  it.each([
    { what: 'a corrupt ca.pem', file: 'cert', content: () => 'not a certificate\n', code: 'CA_CERT_INVALID' },
    {
      what: 'a truncated ca.pem',
      file: 'cert',
      content: async () => (await readFixtureCaPem()).cert.slice(0, 400),
      code: 'CA_CERT_INVALID',
    },
    { what: 'a corrupt ca.key', file: 'key', content: () => '-----BEGIN PRIVATE KEY-----\nAAAA\n', code: 'CA_KEY_INVALID' },
    { what: 'a ca.key of another CA', file: 'key', content: () => otherEcKey().toString(), code: 'CA_KEY_MISMATCH' },
    { what: 'a missing ca.key', file: 'key', content: () => null, code: 'CA_KEY_INVALID' },
  ] as const)('refuses $what with $code naming the file', async ({ file, content, code }) => {
    const path = file === 'cert' ? caCertPath(temp.home) : caKeyPath(temp.home);
    const text = await content();
    if (text === null) await rm(path);
    else await writeFile(path, text);

    const error = await CertificateAuthority.loadOrCreate({ dir: caDir(temp.home) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaError);
    expect(error).toMatchObject({ code, path });
    expect((error as Error).message).toContain(path);
  });

  it('refuses a certificate that is not a CA', async () => {
    const leaf = (await loadFixtureCa()).leafFor('not-a-ca.example');
    await writeFile(caCertPath(temp.home), leaf.certPem);
    await writeFile(caKeyPath(temp.home), leaf.keyPem);
    await expect(CertificateAuthority.loadOrCreate({ dir: caDir(temp.home) })).rejects.toMatchObject({
      code: 'CA_NOT_CA',
      path: caCertPath(temp.home),
    });
  });

  it('refuses an expired root', async () => {
    const { cert, key } = await readFixtureCaPem();
    const later = new Date(Date.now() + 20 * 365 * 24 * 60 * 60 * 1000);
    await expect(CertificateAuthority.fromPem(cert, key, { now: () => later })).rejects.toMatchObject({
      code: 'CA_EXPIRED',
    });
  });

  it('reports a key without its certificate (an interrupted first start) instead of replacing it', async () => {
    await rm(caCertPath(temp.home));
    const error = await readOrCreateCaFiles(caDir(temp.home), {
      waitMs: 100,
      generate: () => Promise.reject(new Error('must not generate')),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CA_INCOMPLETE', path: caKeyPath(temp.home) });
    expect((error as Error).message).toContain(caCertPath(temp.home));
  });

  it('waits for the certificate of a first start in progress', async () => {
    const fixture = await readFixtureCaPem();
    await rm(caCertPath(temp.home));
    const loading = readOrCreateCaFiles(caDir(temp.home), {
      waitMs: 5_000,
      generate: () => Promise.reject(new Error('must not generate')),
    });
    await new Promise((resolve) => setTimeout(resolve, 120));
    await writeFile(caCertPath(temp.home), fixture.cert);
    await expect(loading).resolves.toMatchObject({ certPem: fixture.cert, created: false });
  });
});
