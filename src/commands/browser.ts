/**
 * `proxyctl browser [--url URL] [--proxy URL]`: an isolated Chromium that goes through the proxy
 * and trusts our root for its own throw-away profile only; nothing on the system changes
 * (DESIGN.md §7). Thin: choose the proxy, find Chromium, build its arguments, run it.
 */
import { Command } from 'commander';
import { chromiumArgs } from '../browser/chromium-args.js';
import { findChromium, noChromiumMessage } from '../browser/find-chromium.js';
import { instancePath, readInstance } from '../browser/instance.js';
import { isExecutableFile } from '../browser/is-executable.js';
import { runChromium, type ChromiumExit } from '../browser/launch.js';
import { isListening } from '../browser/probe.js';
import { chooseProxy, defaultPageUrl } from '../browser/proxy-choice.js';
import { CertificateAuthority } from '../ca/index.js';
import { caDir, proxyctlHome } from '../config/paths.js';

/** Where the command writes and what it reads; tests pass their own. */
export interface BrowserCommandIo {
  /** @default process.stderr */
  stderr?: { write(chunk: string): unknown };
  /** PROXYCTL_HOME, PROXYCTL_CHROMIUM, PATH; also the browser's environment. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Adds `--no-sandbox` (Chromium's sandbox refuses to start as root). @default process.getuid?.() === 0 */
  runningAsRoot?: boolean;
}

const USAGE = { exitCode: 2, code: 'proxyctl.usage' } as const;
const RUNTIME = { exitCode: 1, code: 'proxyctl.runtime' } as const;

export function browserCommand(io: BrowserCommandIo = {}): Command {
  return new Command('browser')
    .description('open an isolated Chromium (temporary profile) that uses the proxy and trusts its CA; the system is left untouched')
    .option('--url <url>', 'page to open (default: the proxy\'s own page, with the CA download)')
    .option('--proxy <url>', 'the proxy (default: the running `proxyctl start`, else http://127.0.0.1:8080)')
    .action(async (opts: { url?: string; proxy?: string }, cmd: Command) => {
      const env = io.env ?? process.env;
      const err = io.stderr ?? process.stderr;
      const home = proxyctlHome(env);

      if (opts.url !== undefined && (opts.url === '' || opts.url.startsWith('-'))) {
        cmd.error(`error: --url must be a page address (got "${opts.url}")`, USAGE);
      }
      const choice = chooseProxy(opts.proxy, await readInstance(home), instancePath(home));
      if (!choice.ok) return cmd.error(`error: ${choice.problem}`, USAGE);
      if (choice.warning) err.write(`proxyctl: ${choice.warning}\n`);

      const chromium = findChromium({ env, isExecutable: isExecutableFile });
      if (!chromium.found) return cmd.error(`proxyctl: ${noChromiumMessage(chromium)}`, RUNTIME);

      const ca = await CertificateAuthority.loadOrCreate({ dir: caDir(home) });
      if (ca.created) err.write(`proxyctl: created a new root CA (${ca.subject}) in ${ca.certPath}\n`);
      if (!(await isListening(choice.url))) {
        err.write(`proxyctl: nothing answers at ${choice.url} yet; start the proxy with \`proxyctl start\` (pages fail until it runs)\n`);
      }

      const runningAsRoot = io.runningAsRoot ?? process.getuid?.() === 0;
      const url = opts.url ?? defaultPageUrl(choice.url);
      let exit: ChromiumExit;
      try {
        exit = await runChromium({
          executable: chromium.path,
          env,
          args: (userDataDir) =>
            chromiumArgs({ proxyUrl: choice.url, spkiSha256: ca.spkiSha256, userDataDir, runningAsRoot, url }),
          onStarted: ({ userDataDir }) =>
            err.write(`proxyctl: Chromium (${chromium.path}) through ${choice.url}, temporary profile ${userDataDir}; close it to finish\n`),
        });
      } catch (e) {
        return cmd.error(`proxyctl: cannot start ${chromium.path}: ${(e as Error).message}`, RUNTIME);
      }
      if (exit.code === 0 || exit.interrupted) return;
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      const tail = exit.stderrTail.trim().split('\n').slice(-10).join('\n');
      cmd.error(`proxyctl: Chromium ${how}${tail ? `; its last words:\n${tail}` : ''}`, RUNTIME);
    });
}
