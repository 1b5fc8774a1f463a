/**
 * `proxyctl ca install`: trust the root for Chromium/Chrome on Linux through the user's NSS
 * database, or print the manual steps for every platform (DESIGN.md §7). Thin: call src/ca.
 */
import { homedir } from 'node:os';
import { Command } from 'commander';
import { CertificateAuthority } from '../ca/index.js';
import { installIntoNss, manualTrustSteps, nssNickname, type NssInstallResult } from '../ca/index.js';
import { caDir, proxyctlHome } from '../config/paths.js';
import { assertNever } from '../proxy/core/assert-never.js';

export interface CaInstallCommandIo {
  /** @default process.stdout */
  stdout?: { write(chunk: string): unknown };
  /** @default process.stderr */
  stderr?: { write(chunk: string): unknown };
  /** PROXYCTL_HOME, HOME, PATH (for certutil). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Only Linux (and the BSDs) keep browser trust in `~/.pki/nssdb`. @default process.platform */
  platform?: NodeJS.Platform;
}

const RUNTIME = { exitCode: 1, code: 'proxyctl.runtime' } as const;

export function caInstallCommand(io: CaInstallCommandIo = {}): Command {
  return new Command('install')
    .description("trust the root CA for Chromium/Chrome on Linux (the user's NSS database, no root needed); elsewhere, print the steps")
    .option('--manual', 'only print the manual steps for every platform; change nothing')
    .action(async (opts: { manual?: boolean }, cmd: Command) => {
      const env = io.env ?? process.env;
      const out = io.stdout ?? process.stdout;
      const err = io.stderr ?? process.stderr;
      const platform = io.platform ?? process.platform;
      const ca = await CertificateAuthority.loadOrCreate({ dir: caDir(proxyctlHome(env)) });
      if (ca.created) err.write(`proxyctl: created a new root CA (${ca.subject}) in ${ca.certPath}\n`);
      // loadOrCreate always has a path; fromPem (tests elsewhere) has none.
      const certPath = ca.certPath!;
      const nickname = nssNickname(ca.certPem);
      const steps = () => `${manualTrustSteps(certPath, nickname)}\n`;

      if (opts.manual) return void out.write(steps());
      if (platform === 'darwin' || platform === 'win32') {
        out.write(`Browsers on ${platform === 'darwin' ? 'macOS' : 'Windows'} use the system store, which proxyctl does not change by itself.\n\n`);
        return void out.write(steps());
      }

      const home = env['HOME'] || homedir();
      const result: NssInstallResult = await installIntoNss({ certPem: ca.certPem, certPath, home, env });
      switch (result.status) {
        case 'installed':
        case 'already-installed': {
          const what =
            result.status === 'already-installed'
              ? `"${result.nickname}" was already trusted in ${result.dbDir}`
              : `trusted "${result.nickname}" in ${result.dbDir}${result.createdDb ? ' (new database)' : ''}${result.replaced ? `, replacing ${result.replaced} older entr${result.replaced === 1 ? 'y' : 'ies'} of that name` : ''}`;
          const lines = [
            `proxyctl: ${what}.`,
            'Chromium and Chrome use it from their next start. Firefox keeps its own store (`proxyctl ca install --manual`);',
            'terminals: eval "$(proxyctl ca env)".',
          ];
          for (const other of result.otherProxyctlRoots) {
            lines.push(`note: the database also trusts "${other}", another proxyctl root; remove it with: certutil -D -d sql:${result.dbDir} -n '${other}'`);
          }
          out.write(`${lines.join('\n')}\n`);
          return;
        }
        case 'no-certutil':
          out.write('certutil (NSS tools) is not installed, so nothing was changed. Install it (Debian/Ubuntu: apt-get install libnss3-tools; Fedora: dnf install nss-tools) and run `proxyctl ca install` again, or:\n\n');
          out.write(steps());
          return;
        case 'failed':
          return cmd.error(`proxyctl: could not ${result.step} in ${result.dbDir}: ${result.message}`, RUNTIME);
        default:
          return assertNever(result, 'install result');
      }
    });
}
