/**
 * `proxyctl export NAME|FILE --format har|curl|raw|nock|msw|vitest`: write a session (or a HAR
 * file) in a format other tools load (DESIGN.md §7, §9). Thin: validate every option, then hand a
 * plan to src/export/run-export.ts.
 */
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { z } from 'zod';
import { proxyctlHome } from '../config/paths.js';
import { formatIssues } from '../config/schema.js';
import { HarError } from '../export/har-import.js';
import { JsonPathError } from '../export/json-path.js';
import { EXPORT_FORMATS, outputLayout } from '../export/output-layout.js';
import { compileRedaction, defaultRedaction, type Redaction } from '../export/redact.js';
import { runExport } from '../export/run-export.js';
import { openSource, type FlowSource } from '../export/source.js';
import { formatFilterError, parseFilter, type FlowPredicate } from '../proxy/filter/index.js';
import { SessionError } from '../store/session-errors.js';

export interface ExportCommandIo {
  /** @default process.stdout */
  stdout?: NodeJS.WritableStream;
  /** @default process.stderr */
  stderr?: { write(chunk: string): unknown };
  /** Read for PROXYCTL_HOME. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const USAGE = { exitCode: 2, code: 'proxyctl.usage' } as const;

export const exportFlagsSchema = z
  .object({
    format: z.enum(EXPORT_FORMATS, { message: `--format must be one of ${EXPORT_FORMATS.join(', ')}` }),
    filter: z.string().min(1, '--filter must not be empty').optional(),
    output: z.string().min(1, '-o must not be empty').optional(),
    redact: z.boolean().default(true),
    redactHeader: z.array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, '--redact-header takes header names')).default([]),
    redactJsonPath: z.array(z.string()).default([]),
    lang: z.enum(['js', 'ts'], { message: '--lang must be js or ts' }).optional(),
    mock: z.enum(['msw', 'nock'], { message: '--mock must be msw or nock' }).default('msw'),
  })
  .strict();

export function exportCommand(io: ExportCommandIo = {}): Command {
  return new Command('export')
    .description('export a session or HAR file as har, curl, raw HTTP, or test fixtures (nock, msw, vitest)')
    .argument('<name-or-file>', 'a session name, a session directory, or a .har file')
    .option('--format <format>', `one of ${EXPORT_FORMATS.join(', ')}`)
    .option('--filter <expr>', 'only flows matching this filter expression (e.g. "~d api.example & ~m POST")')
    .option('-o, --output <path>', 'a file, or a directory for fixtures (handlers, nock.json, recorded.test); stdout if omitted')
    .option('--no-redact', 'keep Authorization, Cookie, Set-Cookie and the other secrets')
    .option('--redact-header <name...>', 'also redact these headers (default: Authorization, Proxy-Authorization, Cookie, Set-Cookie)')
    .option('--redact-json-path <path...>', 'redact these JSON body fields, e.g. $.token $.user.password $..secret')
    .option('--lang <lang>', 'js | ts for msw/vitest output in a directory (default: the file extension, else js)')
    .option('--mock <library>', 'vitest: serve the recording with msw (default) or nock')
    .action(async (nameOrFile: string, raw: Record<string, unknown>, cmd: Command) => {
      const parsed = exportFlagsSchema.safeParse(raw);
      if (!parsed.success) cmd.error(`error: ${formatIssues(parsed.error)[0]!.replace(/^\w+: /, '')}`, USAGE);
      const flags = parsed.data!;

      let filter: FlowPredicate | null = null;
      if (flags.filter) {
        const f = parseFilter(flags.filter);
        if (!f.ok) cmd.error(`error: --filter: ${formatFilterError(flags.filter, f.error)}`, USAGE);
        else filter = f.predicate;
      }
      let redaction: Redaction | null = null;
      if (flags.redact) {
        try {
          redaction = compileRedaction(defaultRedaction(flags.redactHeader, flags.redactJsonPath));
        } catch (err) {
          if (err instanceof JsonPathError) cmd.error(`error: --redact-json-path: ${err.message}`, USAGE);
          throw err;
        }
      } else if (flags.redactHeader.length || flags.redactJsonPath.length) {
        cmd.error('error: --no-redact cannot be combined with --redact-header or --redact-json-path', USAGE);
      }

      let source: FlowSource;
      try {
        source = await openSource(proxyctlHome(io.env ?? process.env), nameOrFile);
      } catch (err) {
        if ((err instanceof SessionError && (err.code === 'NOT_FOUND' || err.code === 'BAD_NAME')) || err instanceof HarError) cmd.error(`error: ${err.message}`, USAGE);
        throw err;
      }
      const outputIsDir = flags.output ? ((await stat(flags.output).catch(() => null))?.isDirectory() ?? false) : false;
      const files = outputLayout({ format: flags.format, output: flags.output ?? null, outputIsDir, lang: flags.lang ?? null, mock: flags.mock, label: source!.label.replace(/[^A-Za-z0-9._-]/g, '_') });
      const summary = await runExport(source!, { format: flags.format, filter, redaction, files, mock: flags.mock }, { stdout: io.stdout ?? process.stdout });

      const err = (s: string) => (io.stderr ?? process.stderr).write(`proxyctl: ${s}\n`);
      if (summary.report) err(`${summary.report.describe()}${summary.report.total ? ' (--no-redact keeps them)' : ''}`);
      if (summary.skipped) err(`left out of the fixtures: ${summary.skipped}`);
      if (summary.written.length) err(`exported ${summary.flows} flow${summary.flows === 1 ? '' : 's'} to ${summary.written.join(', ')}`);
      else if (summary.flows === 0) err('no flows matched; nothing exported');
    });
}
