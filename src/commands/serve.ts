/**
 * `proxyctl serve NAME|FILE [--port N]`: server replay. A proxy on loopback that answers every
 * request from a recording and never goes upstream (DESIGN.md §7). Thin: validate, load the
 * recording and the CA, start src/export/serve-server.ts, stop on SIGINT/SIGTERM.
 */
import { Command } from 'commander';
import { z } from 'zod';
import { CertificateAuthority } from '../ca/index.js';
import { caDir, proxyctlHome } from '../config/paths.js';
import { formatIssues } from '../config/schema.js';
import { HarError } from '../export/har-import.js';
import { ReplayIndex } from '../export/serve-match.js';
import { ReplayServer } from '../export/serve-server.js';
import { openSource, type FlowSource } from '../export/source.js';
import type { Flow } from '../proxy/core/flow.js';
import { SessionError } from '../store/session-errors.js';

export interface ServeCommandIo {
  /** @default process.stdout */
  stdout?: { write(chunk: string): unknown };
  /** @default process.stderr */
  stderr?: { write(chunk: string): unknown };
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Called with the running server instead of waiting for a signal (tests). */
  onStarted?: (server: ReplayServer, port: number) => void;
}

const USAGE = { exitCode: 2, code: 'proxyctl.usage' } as const;

export const serveFlagsSchema = z
  .object({
    port: z
      .string()
      .regex(/^\d+$/, '--port must be a whole number')
      .transform(Number)
      .refine((n) => n <= 65535, '--port must be between 0 and 65535')
      .default(8080),
    ignoreQuery: z.boolean().default(false),
    matchHeaders: z.boolean().default(false),
    ignoreHeader: z.array(z.string().min(1)).default([]),
  })
  .strict();

export function serveCommand(io: ServeCommandIo = {}): Command {
  return new Command('serve')
    .description('server replay: a proxy that answers from a recording and never goes upstream')
    .argument('<name-or-file>', 'a session name, a session directory, or a .har file')
    .option('-p, --port <port>', 'listen port on 127.0.0.1 (0 picks a free one; default 8080)')
    .option('--ignore-query', 'match URLs without their query string')
    .option('--match-headers', 'also require equal request headers (off by default)')
    .option('--ignore-header <name...>', 'with --match-headers: leave these headers out of the match')
    .action(async (nameOrFile: string, raw: Record<string, unknown>, cmd: Command) => {
      const parsed = serveFlagsSchema.safeParse(raw);
      if (!parsed.success) cmd.error(`error: ${formatIssues(parsed.error)[0]!.replace(/^\w+: /, '')}`, USAGE);
      const flags = parsed.data!;
      if (flags.ignoreHeader.length && !flags.matchHeaders) {
        cmd.error('error: --ignore-header applies with --match-headers (headers do not take part in matching by default)', USAGE);
      }
      const home = proxyctlHome(io.env ?? process.env);
      let source: FlowSource;
      try {
        source = await openSource(home, nameOrFile);
      } catch (err) {
        if ((err instanceof SessionError && (err.code === 'NOT_FOUND' || err.code === 'BAD_NAME')) || err instanceof HarError) cmd.error(`error: ${err.message}`, USAGE);
        throw err;
      }
      const flows: Flow[] = [];
      for await (const flow of source!.flows()) flows.push(flow);
      const index = new ReplayIndex(flows, { ignoreQuery: flags.ignoreQuery, matchHeaders: flags.matchHeaders, ignoreHeaders: flags.ignoreHeader });
      const ca = await CertificateAuthority.loadOrCreate({ dir: caDir(home) });
      const err = (s: string) => (io.stderr ?? process.stderr).write(`proxyctl: ${s}\n`);
      if (ca.created) err(`created a new root CA (${ca.subject}) in ${ca.certPath}`);
      const out = (s: string) => (io.stdout ?? process.stdout).write(`${s}\n`);

      const server = new ReplayServer({ port: flags.port, index, certificates: ca, onLog: out });
      let address;
      try {
        address = await server.listen();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        cmd.error(`proxyctl: cannot listen on 127.0.0.1:${flags.port}: ${code}`, { exitCode: 1, code: 'proxyctl.runtime' });
      }
      out(`proxyctl serving ${source!.label} on http://127.0.0.1:${address!.port}`);
      if (index.size === 0) err(`${source!.label} has no finished HTTP exchanges to answer with; every request will get 404`);
      if (io.onStarted) {
        io.onStarted(server, address!.port);
        return;
      }
      await new Promise<void>((resolve) => {
        const stop = () => void server.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
