/**
 * `proxyctl ca path|show|export|env`: the root CA for users and scripts (DESIGN.md §7, §8).
 * Thin: validate options, then call src/ca.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import {
  CA_EXPORT_FORMATS,
  CertificateAuthority,
  certificateDer,
  certificatePkcs12,
  isCaExportFormat,
} from '../ca/index.js';
import { caDir, proxyctlHome } from '../config/paths.js';

/** Where the command writes; tests pass their own. */
export interface CaCommandIo {
  /** @default process.stdout */
  stdout?: { write(chunk: string | Uint8Array): unknown; isTTY?: boolean };
  /** @default process.stderr */
  stderr?: { write(chunk: string): unknown };
  /** Read for PROXYCTL_HOME. @default process.env */
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_PROXY_URL = 'http://127.0.0.1:8080';

/** Variables `ca env` sets; each tool reads a different one (proxy first, then trust). */
const PROXY_VARS = ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'] as const;
const CA_FILE_VARS = [
  'NODE_EXTRA_CA_CERTS', // Node.js
  'SSL_CERT_FILE', // OpenSSL-based tools, Ruby, Go on Linux
  'REQUESTS_CA_BUNDLE', // Python requests
  'CURL_CA_BUNDLE', // curl
  'GIT_SSL_CAINFO', // git over https
] as const;

const PROXY_PROTOCOLS = new Set(['http:', 'https:', 'socks5:', 'socks5h:']);

const USAGE = { exitCode: 2, code: 'proxyctl.usage' } as const;

export function caCommand(io: CaCommandIo = {}): Command {
  const out = () => io.stdout ?? process.stdout;
  const err = () => io.stderr ?? process.stderr;
  const open = async (): Promise<CertificateAuthority> => {
    const ca = await CertificateAuthority.loadOrCreate({ dir: caDir(proxyctlHome(io.env ?? process.env)) });
    if (ca.created) {
      err().write(`proxyctl: created a new root CA (${ca.subject}) in ${ca.certPath}\n`);
    }
    return ca;
  };

  const ca = new Command('ca').description(
    'the root certificate authority that signs intercepted hosts (created on first use)',
  );

  ca.command('path')
    .description('print the path of the root certificate (PEM), creating the CA if missing')
    .action(async () => {
      const authority = await open();
      out().write(`${authority.certPath}\n`);
    });

  ca.command('show')
    .description('print the root certificate: subject, fingerprints, validity, path')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const a = await open();
      const facts = {
        path: a.certPath,
        subject: a.subject,
        fingerprintSha256: a.fingerprintSha256,
        spkiSha256: a.spkiSha256,
        notBefore: a.notBefore.toISOString(),
        notAfter: a.notAfter.toISOString(),
      };
      if (opts.json) {
        out().write(`${JSON.stringify(facts)}\n`);
        return;
      }
      out().write(
        [
          `path         ${facts.path}`,
          `subject      ${facts.subject}`,
          `sha256       ${facts.fingerprintSha256}`,
          `spki sha256  ${facts.spkiSha256}  (Chromium --ignore-certificate-errors-spki-list)`,
          `valid from   ${facts.notBefore}`,
          `valid until  ${facts.notAfter}`,
          '',
        ].join('\n'),
      );
    });

  ca.command('export')
    .description('write the root certificate for a trust store: pem (default), der or p12')
    .option('--format <format>', `one of ${CA_EXPORT_FORMATS.join(', ')}`, 'pem')
    .option('-o, --output <file>', 'write to FILE instead of stdout (required for der/p12 on a terminal)')
    .option('--with-key', 'p12 only: include the root PRIVATE KEY (anyone holding it can impersonate any site to you)')
    .action(async (opts: { format: string; output?: string; withKey?: boolean }, cmd: Command) => {
      const format = opts.format.toLowerCase();
      if (!isCaExportFormat(format)) {
        cmd.error(`error: --format must be one of ${CA_EXPORT_FORMATS.join(', ')} (got "${opts.format}")`, USAGE);
      }
      if (opts.withKey && format !== 'p12') cmd.error('error: --with-key applies to --format p12 only', USAGE);
      const stdout = out();
      if (!opts.output && format !== 'pem' && stdout.isTTY) {
        cmd.error(`error: refusing to write binary ${format} to a terminal; use -o FILE or redirect stdout`, USAGE);
      }
      const a = await open();
      let data: string | Buffer;
      switch (format) {
        case 'pem':
          data = a.certPem;
          break;
        case 'der':
          data = certificateDer(a.certPem);
          break;
        case 'p12': {
          const keyPem = opts.withKey && a.keyPath ? await readFile(a.keyPath, 'utf8') : undefined;
          data = certificatePkcs12(a.certPem, keyPem);
          break;
        }
      }
      if (!opts.output) {
        stdout.write(data);
        return;
      }
      const mode = opts.withKey ? 0o600 : 0o644;
      await writeFile(opts.output, data, { mode });
      // writeFile's mode only applies when it creates the file.
      if (opts.withKey) await chmod(opts.output, mode);
      err().write(`proxyctl: wrote ${opts.output} (${format}${opts.withKey ? ', with the private key' : ''})\n`);
    });

  ca.command('env')
    .description('print shell exports that send tools through the proxy and trust the CA: eval "$(proxyctl ca env)"')
    .option('--proxy <url>', 'the proxy URL', DEFAULT_PROXY_URL)
    .action(async (opts: { proxy: string }, cmd: Command) => {
      let url: URL;
      try {
        url = new URL(opts.proxy);
      } catch {
        cmd.error(`error: --proxy must be a URL such as ${DEFAULT_PROXY_URL} (got "${opts.proxy}")`, USAGE);
      }
      if (!PROXY_PROTOCOLS.has(url.protocol)) {
        cmd.error(`error: --proxy must use http, https, socks5 or socks5h (got "${url.protocol}")`, USAGE);
      }
      const a = await open();
      const lines = ['# eval "$(proxyctl ca env)"'];
      for (const name of PROXY_VARS) lines.push(exportLine(name, opts.proxy));
      for (const name of CA_FILE_VARS) lines.push(exportLine(name, a.certPath ?? ''));
      out().write(`${lines.join('\n')}\n`);
    });

  return ca;
}

/** POSIX shell single quoting: a `'` inside becomes `'\''`. */
function exportLine(name: string, value: string): string {
  return `export ${name}='${value.replaceAll("'", `'\\''`)}'`;
}
