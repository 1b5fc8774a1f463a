/**
 * The CA's two files in `$PROXYCTL_HOME/ca/`: `ca.pem` (the path scripts rely on) and `ca.key`
 * (0600, directory 0700).
 *
 * Two first starts at once must not leave a certificate and a key from different generations. The
 * key is the commit point: each contender writes its pair to temporary files, then `link()`s its
 * key into place, which fails with EEXIST for everyone but the first. The winner then renames its
 * certificate into place, last, so `ca.pem` existing means the pair is complete; losers discard
 * their pair and wait for the winner's `ca.pem`.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CaError } from './errors.js';
import type { RootPem } from './root.js';

export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca.key';

export interface CaFiles extends RootPem {
  certPath: string;
  keyPath: string;
  /** True when this call generated and wrote the pair. */
  created: boolean;
}

export interface ReadOrCreateOptions {
  /** Makes a new pair when none exists (called at most once). */
  generate: () => Promise<RootPem>;
  /**
   * How long to wait for another process's `ca.pem` when its `ca.key` is already there.
   * @default 15000
   */
  waitMs?: number;
}

export async function readOrCreateCaFiles(dir: string, opts: ReadOrCreateOptions): Promise<CaFiles> {
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  const waitMs = opts.waitMs ?? 15_000;

  const existing = await readPair(certPath, keyPath);
  if (existing) return { ...existing, certPath, keyPath, created: false };
  if (await exists(keyPath)) return { ...(await waitForPair(certPath, keyPath, waitMs)), certPath, keyPath, created: false };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask and ignored for an existing directory.
  await chmod(dir, 0o700);
  const pair = await opts.generate();
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmpKey = join(dir, `.${CA_KEY_FILE}.${tag}.tmp`);
  const tmpCert = join(dir, `.${CA_CERT_FILE}.${tag}.tmp`);
  try {
    await writeNew(tmpKey, pair.keyPem, 0o600);
    await writeNew(tmpCert, pair.certPem, 0o644);
    if (!(await claimKey(tmpKey, keyPath))) {
      return { ...(await waitForPair(certPath, keyPath, waitMs)), certPath, keyPath, created: false };
    }
    await rename(tmpCert, certPath);
    return { ...pair, certPath, keyPath, created: true };
  } finally {
    await rm(tmpKey, { force: true });
    await rm(tmpCert, { force: true });
  }
}

/** Exclusive, complete placement of the key: true if ours is now `ca.key`, false if another won. */
async function claimKey(tmpKey: string, keyPath: string): Promise<boolean> {
  try {
    await link(tmpKey, keyPath);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // Filesystems without hard links (FAT, some network shares): an exclusive copy still has one
    // winner; its content is complete before anyone reads it, because readers wait for ca.pem.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
  }
  try {
    await copyFile(tmpKey, keyPath, constants.COPYFILE_EXCL);
    await chmod(keyPath, 0o600);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(text);
    // The mode passed to open() is filtered by the umask; make it exact.
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readPair(certPath: string, keyPath: string): Promise<RootPem | null> {
  let certPem: string;
  try {
    certPem = await readFile(certPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CaError('CA_CERT_INVALID', `cannot read ${certPath}: ${(err as Error).message}`, {
      cause: err,
      path: certPath,
    });
  }
  try {
    return { certPem, keyPem: await readFile(keyPath, 'utf8') };
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CaError(
      'CA_KEY_INVALID',
      missing ? `${keyPath} is missing (the key for ${certPath})` : `cannot read ${keyPath}: ${(err as Error).message}`,
      { cause: err, path: keyPath },
    );
  }
}

async function waitForPair(certPath: string, keyPath: string, waitMs: number): Promise<RootPem> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const pair = await readPair(certPath, keyPath);
    if (pair) return pair;
    if (Date.now() >= deadline) {
      throw new CaError(
        'CA_INCOMPLETE',
        `${keyPath} exists but ${certPath} does not (an interrupted first start?); ` +
          `remove ${keyPath} to create a new CA`,
        { path: keyPath },
      );
    }
    await sleep(50);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
