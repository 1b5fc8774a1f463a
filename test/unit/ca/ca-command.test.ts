import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { type Command, CommanderError } from 'commander';
import forge from 'node-forge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caCommand } from '../../../src/commands/ca.js';
import { caCertPath, caDir } from '../../../src/config/paths.js';
import { makeTempHome, readFixtureCaPem, type TempHome } from '../../helpers/test-ca.js';

interface Run {
  stdout: Buffer;
  text: string;
  stderr: string;
}

/** Make commander throw instead of exiting, and capture its own output, on every subcommand. */
function captureCommander(cmd: Command, sink: string[]): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: (s) => sink.push(s), writeErr: (s) => sink.push(s) });
  for (const sub of cmd.commands) captureCommander(sub, sink);
}

describe('proxyctl ca', () => {
  let temp: TempHome;
  let scratch: string;

  beforeEach(async () => {
    temp = await makeTempHome();
    scratch = await mkdtemp(join(tmpdir(), 'proxyctl-ca-cmd-'));
  });

  afterEach(async () => {
    await temp.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  async function run(args: string[], opts: { isTTY?: boolean; home?: string } = {}): Promise<Run> {
    const chunks: Buffer[] = [];
    const stderr: string[] = [];
    const cmd = caCommand({
      env: { PROXYCTL_HOME: opts.home ?? temp.home },
      stdout: { write: (c) => chunks.push(Buffer.from(c)), isTTY: opts.isTTY ?? false },
      stderr: { write: (c) => stderr.push(c) },
    });
    captureCommander(cmd, stderr);
    try {
      await cmd.parseAsync(args, { from: 'user' });
    } catch (err) {
      // Keep commander's message with the error for the assertions below.
      if (err instanceof CommanderError) err.message = `${err.message} | ${stderr.join('')}`;
      throw err;
    }
    const stdout = Buffer.concat(chunks);
    return { stdout, text: stdout.toString('utf8'), stderr: stderr.join('') };
  }

  it('path prints $PROXYCTL_HOME/ca/ca.pem', async () => {
    const { text, stderr } = await run(['path']);
    expect(text).toBe(`${caCertPath(temp.home)}\n`);
    expect(stderr).toBe('');
  });

  it('show prints subject, fingerprints, validity and path', async () => {
    const cert = new X509Certificate((await readFixtureCaPem()).cert);
    const { text } = await run(['show']);
    expect(text).toContain(`path         ${caCertPath(temp.home)}\n`);
    expect(text).toContain(`subject      ${cert.subject.replace('\n', ', ')}\n`);
    expect(text).toContain(`sha256       ${cert.fingerprint256}\n`);
    expect(text).toContain(`valid until  ${new Date(cert.validTo).toISOString()}\n`);

    const json = JSON.parse((await run(['show', '--json'])).text) as Record<string, string>;
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    expect(json).toEqual({
      path: caCertPath(temp.home),
      subject: cert.subject.replace('\n', ', '),
      fingerprintSha256: cert.fingerprint256,
      spkiSha256: createHash('sha256').update(spki).digest('base64'),
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
    });
  });

  describe('export', () => {
    it('writes PEM to stdout by default, even to a terminal', async () => {
      const { text } = await run(['export'], { isTTY: true });
      expect(text).toBe((await readFixtureCaPem()).cert);
    });

    it('writes DER to a file', async () => {
      const out = join(scratch, 'ca.der');
      const { stdout, stderr } = await run(['export', '--format', 'der', '-o', out]);
      expect(stdout.length).toBe(0);
      expect(stderr).toContain(out);
      const der = await readFile(out);
      expect(new X509Certificate(der).fingerprint256).toBe(new X509Certificate((await readFixtureCaPem()).cert).fingerprint256);
      expect((await stat(out)).mode & 0o777).toBe(0o644);
    });

    it('writes DER to a non-terminal stdout', async () => {
      const { stdout } = await run(['export', '--format', 'DER']);
      expect(Buffer.compare(stdout, Buffer.from(new X509Certificate((await readFixtureCaPem()).cert).raw))).toBe(0);
    });

    it('writes a certificate-only PKCS#12 with an empty password', async () => {
      const out = join(scratch, 'ca.p12');
      await run(['export', '--format', 'p12', '-o', out]);
      const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer((await readFile(out)).toString('latin1')), '');
      const certs = p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
      const keys = p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? [];
      expect(certs).toHaveLength(1);
      expect(keys).toHaveLength(0);
      expect(forge.pki.certificateToPem(certs[0]!.cert!).replace(/\r\n/g, '\n')).toBe((await readFixtureCaPem()).cert);
    });

    it('includes the key only with --with-key, in a 0600 file OpenSSL can load', async () => {
      const out = join(scratch, 'ca-with-key.p12');
      const { stderr } = await run(['export', '--format', 'p12', '--with-key', '-o', out]);
      expect(stderr).toContain('private key');
      expect((await stat(out)).mode & 0o777).toBe(0o600);
      // OpenSSL (through Node) decrypts it, checks the MAC and pairs key and certificate.
      const pfx = await readFile(out);
      expect(() => createSecureContext({ pfx, passphrase: '' })).not.toThrow();
    });

    it.each([
      { what: 'an unknown format', args: ['export', '--format', 'jks'], message: '--format must be one of pem, der, p12' },
      { what: 'DER to a terminal', args: ['export', '--format', 'der'], tty: true, message: 'refusing to write binary der' },
      { what: 'p12 to a terminal', args: ['export', '--format', 'p12'], tty: true, message: 'refusing to write binary p12' },
      { what: '--with-key for PEM', args: ['export', '--with-key'], message: '--with-key applies to --format p12 only' },
    ])('refuses $what as a usage error (exit 2)', async ({ args, tty, message }) => {
      const error = await run(args, { isTTY: tty ?? false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommanderError);
      expect(error).toMatchObject({ exitCode: 2, code: 'proxyctl.usage' });
      expect((error as Error).message).toContain(message);
    });
  });

  describe('env', () => {
    const names = [
      'HTTPS_PROXY',
      'HTTP_PROXY',
      'https_proxy',
      'http_proxy',
      'NODE_EXTRA_CA_CERTS',
      'SSL_CERT_FILE',
      'REQUESTS_CA_BUNDLE',
      'CURL_CA_BUNDLE',
      'GIT_SSL_CAINFO',
    ];

    it('prints the eval hint and one export per variable', async () => {
      const { text } = await run(['env']);
      const pem = caCertPath(temp.home);
      expect(text.split('\n')).toEqual([
        '# eval "$(proxyctl ca env)"',
        ...names.slice(0, 4).map((n) => `export ${n}='http://127.0.0.1:8080'`),
        ...names.slice(4).map((n) => `export ${n}='${pem}'`),
        '',
      ]);
    });

    it('uses --proxy', async () => {
      const { text } = await run(['env', '--proxy', 'http://127.0.0.1:9090']);
      expect(text).toContain("export HTTPS_PROXY='http://127.0.0.1:9090'\n");
    });

    it('quotes values so a shell reads them back exactly', async () => {
      const odd = join(scratch, `it's a "home" $HOME`);
      await cp(caDir(temp.home), caDir(odd), { recursive: true });
      const { text } = await run(['env'], { home: odd });
      const seen = execFileSync('sh', ['-c', `${text}\nprintf '%s|%s' "$NODE_EXTRA_CA_CERTS" "$https_proxy"`], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      });
      expect(seen).toBe(`${caCertPath(odd)}|http://127.0.0.1:8080`);
    });

    it.each(['not a url', 'ftp://127.0.0.1:21'])('refuses --proxy %j as a usage error', async (proxy) => {
      await expect(run(['env', '--proxy', proxy])).rejects.toMatchObject({ exitCode: 2, code: 'proxyctl.usage' });
    });
  });
});
