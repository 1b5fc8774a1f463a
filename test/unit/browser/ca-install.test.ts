/**
 * `proxyctl ca install` (src/ca/install.ts, src/commands/ca-install.ts) against a temporary HOME
 * with the real NSS `certutil`; the database is then read back with `certutil -L`.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installIntoNss, manualTrustSteps, nssDbDir, nssNickname, parseNssList } from '../../../src/ca/install.js';
import { caInstallCommand } from '../../../src/commands/ca-install.js';
import { fixtureCaPaths, makeTempHome, readFixtureCaPem, type TempHome } from '../../helpers/test-ca.js';
import { originCa } from '../../helpers/origin-certs.js';

const NICK = 'proxyctl CA a421fd';

function certutil(args: string[]): string {
  return execFileSync('certutil', args, { encoding: 'utf8', timeout: 10_000 });
}

describe('nssNickname', () => {
  it('is the root CN, unique per install', async () => {
    expect(nssNickname((await readFixtureCaPem()).cert)).toBe(NICK);
  });
});

describe('parseNssList', () => {
  it('reads nicknames and trust flags, skipping the header', () => {
    const text = [
      '',
      'Certificate Nickname                                         Trust Attributes',
      '                                                             SSL,S/MIME,JAR/XPI',
      '',
      'proxyctl CA a421fd                                           C,,  ',
      'Some Corp Root  2                                            CT,C,C',
      'client                                                       u,u,u',
      '',
    ].join('\n');
    expect(parseNssList(text)).toEqual([
      { nickname: 'proxyctl CA a421fd', trust: 'C,,' },
      { nickname: 'Some Corp Root  2', trust: 'CT,C,C' },
      { nickname: 'client', trust: 'u,u,u' },
    ]);
  });
});

describe('manualTrustSteps', () => {
  it('covers each platform, Firefox and terminals, with copy-paste-safe paths', () => {
    const text = manualTrustSteps('/home/al ice/.proxyctl/ca/ca.pem', NICK);
    expect(text).toMatch(/sudo cp '\/home\/al ice\/.proxyctl\/ca\/ca.pem' \/usr\/local\/share\/ca-certificates\/proxyctl-ca\.crt && sudo update-ca-certificates/);
    expect(text).toMatch(/update-ca-trust/);
    expect(text).toMatch(/security add-trusted-cert -r trustRoot/);
    expect(text).toMatch(/certutil -user -addstore Root "\/home\/al ice\/.proxyctl\/ca\/ca.pem"/);
    expect(text).toMatch(/certutil -A -d sql:\$HOME\/\.pki\/nssdb -t C,, -n 'proxyctl CA a421fd'/);
    expect(text).toMatch(/Firefox/);
    expect(text).toContain('eval "$(proxyctl ca env)"');
  });
});

// Needs NSS's certutil (Debian: libnss3-tools); without it these fail with status 'no-certutil'.
describe('installIntoNss (real certutil)', () => {
  let userHome: string;
  let certPem: string;

  beforeEach(async () => {
    userHome = await mkdtemp(join(tmpdir(), 'proxyctl-nss-home-'));
    certPem = (await readFixtureCaPem()).cert;
  });
  afterEach(async () => {
    await rm(userHome, { recursive: true, force: true });
  });

  const install = () => installIntoNss({ certPem, certPath: fixtureCaPaths.cert, home: userHome });
  const db = () => `sql:${nssDbDir(userHome)}`;

  it('creates ~/.pki/nssdb when missing and trusts the root there for TLS servers', async () => {
    const r = await install();
    expect(r).toMatchObject({ status: 'installed', nickname: NICK, createdDb: true, replaced: 0, dbDir: nssDbDir(userHome) });
    expect(parseNssList(certutil(['-L', '-d', db()]))).toContainEqual({ nickname: NICK, trust: 'C,,' });
    expect((await stat(nssDbDir(userHome))).mode & 0o777).toBe(0o700);
  });

  it('is idempotent', async () => {
    await install();
    const again = await install();
    expect(again).toMatchObject({ status: 'already-installed', nickname: NICK });
    expect(parseNssList(certutil(['-L', '-d', db()])).filter((e) => e.nickname === NICK)).toHaveLength(1);
  });

  it('restores the trust flags of an entry the user had distrusted', async () => {
    await install();
    certutil(['-M', '-d', db(), '-n', NICK, '-t', ',,']);
    expect(await install()).toMatchObject({ status: 'already-installed' });
    expect(parseNssList(certutil(['-L', '-d', db()]))).toContainEqual({ nickname: NICK, trust: 'C,,' });
  });

  it('replaces an older certificate of the same nickname', async () => {
    await mkdir(nssDbDir(userHome), { recursive: true });
    certutil(['-N', '--empty-password', '-d', db()]);
    certutil(['-A', '-d', db(), '-t', 'C,,', '-n', NICK, '-i', originCa.certPath]);
    const r = await install();
    expect(r).toMatchObject({ status: 'installed', createdDb: false, replaced: 1 });
    const pem = certutil(['-L', '-d', db(), '-n', NICK, '-a']);
    expect(pem.replace(/\s+/g, '')).toBe(certPem.replace(/\s+/g, ''));
  });

  it('points out roots of other proxyctl installs', async () => {
    await mkdir(nssDbDir(userHome), { recursive: true });
    certutil(['-N', '--empty-password', '-d', db()]);
    certutil(['-A', '-d', db(), '-t', 'C,,', '-n', 'proxyctl CA 000000', '-i', originCa.certPath]);
    expect(await install()).toMatchObject({ status: 'installed', otherProxyctlRoots: ['proxyctl CA 000000'] });
  });

  it('reports a certutil failure with the step and certutil\'s words', async () => {
    const fake = join(userHome, 'certutil');
    await writeFile(fake, '#!/bin/sh\necho "certutil: database is locked" >&2\nexit 1\n');
    await chmod(fake, 0o755);
    const r = await installIntoNss({ certPem, certPath: fixtureCaPaths.cert, home: userHome, certutil: fake });
    expect(r).toMatchObject({ status: 'failed', step: 'create the database', message: expect.stringMatching(/code 1: certutil: database is locked/) });
  });

  it('reports a home where the database directory cannot be made', async () => {
    await mkdir(join(userHome, '.pki'));
    await writeFile(nssDbDir(userHome), 'not a directory');
    expect(await install()).toMatchObject({ status: 'failed', step: 'create the database directory' });
  });

  it('says so when certutil is missing', async () => {
    const r = await installIntoNss({ certPem, certPath: fixtureCaPaths.cert, home: userHome, certutil: join(userHome, 'no-such-certutil') });
    expect(r).toEqual({ status: 'no-certutil' });
  });
});

describe('proxyctl ca install', () => {
  let temp: TempHome;
  let userHome: string;

  beforeEach(async () => {
    temp = await makeTempHome();
    userHome = await mkdtemp(join(tmpdir(), 'proxyctl-nss-home-'));
  });
  afterEach(async () => {
    await temp.cleanup();
    await rm(userHome, { recursive: true, force: true });
  });

  async function run(args: string[], opts: { path?: string; platform?: NodeJS.Platform } = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const cmd: Command = caInstallCommand({
      env: { PROXYCTL_HOME: temp.home, HOME: userHome, PATH: opts.path ?? process.env['PATH'] },
      stdout: { write: (s) => out.push(s) },
      stderr: { write: (s) => err.push(s) },
      platform: opts.platform ?? 'linux',
    });
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
    let error: CommanderError | null = null;
    try {
      await cmd.parseAsync(args, { from: 'user' });
    } catch (e) {
      if (!(e instanceof CommanderError)) throw e;
      error = e;
    }
    return { error, stdout: out.join(''), stderr: err.join('') };
  }

  it('adds the CA to $HOME/.pki/nssdb', async () => {
    const r = await run([]);
    expect(r.error).toBeNull();
    expect(r.stdout).toContain(`trusted "${NICK}" in ${nssDbDir(userHome)} (new database)`);
    expect(r.stdout).toContain('eval "$(proxyctl ca env)"');
    expect(parseNssList(certutil(['-L', '-d', `sql:${nssDbDir(userHome)}`]))).toContainEqual({ nickname: NICK, trust: 'C,,' });
    expect((await run([])).stdout).toContain(`"${NICK}" was already trusted`);
  });

  it('prints the manual steps when certutil is not installed, changing nothing', async () => {
    const r = await run([], { path: userHome });
    expect(r.error).toBeNull();
    expect(r.stdout).toMatch(/certutil \(NSS tools\) is not installed, so nothing was changed/);
    expect(r.stdout).toMatch(/update-ca-certificates/);
    expect(r.stdout).toContain(join(temp.home, 'ca', 'ca.pem'));
  });

  it.each([['darwin'], ['win32']] as const)('prints the manual steps on %s', async (platform) => {
    const r = await run([], { platform });
    expect(r.error).toBeNull();
    expect(r.stdout).toMatch(/security add-trusted-cert/);
    expect(r.stdout).toMatch(/certutil -user -addstore Root/);
    await expect(stat(nssDbDir(userHome))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('--manual only prints', async () => {
    const r = await run(['--manual']);
    expect(r.stdout).toMatch(/Firefox keeps its own store/);
    await expect(stat(nssDbDir(userHome))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
