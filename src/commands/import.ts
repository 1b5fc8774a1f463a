/**
 * `proxyctl import FILE.har [--session NAME]`: make a session from a HAR file (a browser's devtools
 * export, Playwright's recordHar, or our own export). Thin: validate, then src/export/import-har.ts.
 */
import { basename, extname } from 'node:path';
import { Command } from 'commander';
import { proxyctlHome } from '../config/paths.js';
import { HarError } from '../export/har-import.js';
import { importHarFile } from '../export/import-har.js';
import { SessionError } from '../store/session-errors.js';
import { checkSessionName, defaultSessionName } from '../store/session-paths.js';
import { sessionNameSchema } from '../store/schemas.js';

export interface ImportCommandIo {
  /** @default process.stdout */
  stdout?: { write(chunk: string): unknown };
  /** Read for PROXYCTL_HOME. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const USAGE = { exitCode: 2, code: 'proxyctl.usage' } as const;

export function importCommand(io: ImportCommandIo = {}): Command {
  return new Command('import')
    .description('create a session from a HAR file')
    .argument('<file>', 'a .har file')
    .option('--session <name>', 'the new session (default: the file name, or the current time)')
    .action(async (file: string, opts: { session?: string }, cmd: Command) => {
      let name: string;
      try {
        name = opts.session !== undefined ? checkSessionName(opts.session) : nameFromFile(file);
      } catch (err) {
        if (err instanceof SessionError) cmd.error(`error: --session: ${err.message}`, USAGE);
        throw err;
      }
      try {
        const result = await importHarFile(proxyctlHome(io.env ?? process.env), file, name!);
        (io.stdout ?? process.stdout).write(`imported ${result.flows} flow${result.flows === 1 ? '' : 's'} into session ${result.session}\n`);
      } catch (err) {
        if (err instanceof SessionError && err.code === 'EXISTS') cmd.error(`error: session ${name!} already exists; choose another with --session NAME`, USAGE);
        if (err instanceof SessionError || err instanceof HarError) cmd.error(`error: ${err.message}`, USAGE);
        throw err;
      }
    });
}

/** `traffic.har` → `traffic`; a file name that is no valid session name → the current time. */
function nameFromFile(file: string): string {
  const stem = basename(file, extname(file)).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  return sessionNameSchema.safeParse(stem).success ? stem : defaultSessionName();
}
