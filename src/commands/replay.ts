/**
 * `proxyctl replay NAME|FILE [--target URL] [--filter EXPR] [--timeout MS] [--json]`: send the
 * recorded requests again, straight to the origin (or `--target`), and compare each answer with
 * the recording. Exit 0 when all match, 1 when any differs or fails (for CI), 2 for usage errors.
 * Thin: validate, then hand over to src/replay.
 */
import { Command } from 'commander';
import { z } from 'zod';
import { proxyctlHome } from '../config/paths.js';
import { formatIssues } from '../config/schema.js';
import { hostHeader } from '../proxy/core/authority.js';
import type { Flow } from '../proxy/core/flow.js';
import { formatFilterError, parseFilter } from '../proxy/filter/index.js';
import { HarError } from '../export/har-import.js';
import { openSource } from '../export/source.js';
import { SessionError } from '../store/session-errors.js';
import { exitCodeFor, formatResultLine, formatSummary, type ReplayResult } from '../replay/report.js';
import { parseReplayTarget, type ReplayTarget } from '../replay/request-plan.js';
import { runReplay, type ReplayRun } from '../replay/runner.js';
import { createSender, defaultSendOptions } from '../replay/send.js';

/** Where the command writes and what it reads; tests pass their own. */
export interface ReplayCommandIo {
  /** Result lines and the summary (or the JSON report). @default process.stdout */
  stdout?: { write(chunk: string): unknown };
  /** Warnings. @default process.stderr */
  stderr?: { write(chunk: string): unknown };
  /** For PROXYCTL_HOME (sessions by name). @default process.env */
  env?: NodeJS.ProcessEnv;
}

const USAGE = { exitCode: 2, code: 'proxyctl.usage' } as const;
const RUNTIME = { exitCode: 1, code: 'proxyctl.runtime' } as const;

const MAX_TIMEOUT_MS = 3_600_000;

/** The flags as commander hands them over, checked once (STYLE.md: zod at the edge). */
const replayFlagsSchema = z.object({
  target: z.string().optional(),
  filter: z.string().optional(),
  timeout: z
    .string()
    .regex(/^\d+$/, 'expected a whole number of milliseconds')
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_TIMEOUT_MS, `expected between 1 and ${MAX_TIMEOUT_MS} milliseconds`)
    .optional(),
  json: z.boolean().optional(),
  insecure: z.boolean().optional(),
});

export function replayCommand(io: ReplayCommandIo = {}): Command {
  return new Command('replay')
    .description('send recorded requests again (a HAR file or a session) and compare the answers with the recording; exit 1 when any differs')
    .argument('<recording>', 'HAR file, session directory, or session name')
    .option('--target <url>', 'send to this origin (scheme://host[:port]) instead of the recorded one; path and query stay')
    .option('--filter <expr>', 'replay only the recorded flows matching this filter expression')
    .option('--timeout <ms>', `bound for each request, connect to last byte (default ${defaultSendOptions.timeoutMs})`)
    .option('-k, --insecure', 'do not verify the TLS certificate of the origin')
    .option('--json', 'print one JSON report instead of lines')
    .action(async (recording: string, raw: Record<string, unknown>, cmd: Command) => {
      const stdout = io.stdout ?? process.stdout;
      const stderr = io.stderr ?? process.stderr;
      const parsed = replayFlagsSchema.safeParse(raw);
      if (!parsed.success) return cmd.error(`error: --${formatIssues(parsed.error)[0]!}`, USAGE);
      const flags = parsed.data;

      let target: ReplayTarget | null = null;
      if (flags.target !== undefined) {
        const t = parseReplayTarget(flags.target);
        if (typeof t === 'string') return cmd.error(`error: ${t}`, USAGE);
        target = t;
      }
      let select: ((flow: Flow) => boolean) | undefined;
      if (flags.filter !== undefined) {
        const f = parseFilter(flags.filter);
        if (!f.ok) return cmd.error(`error: --filter: ${formatFilterError(flags.filter, f.error)}`, USAGE);
        select = f.predicate;
      }

      const sender = createSender({ ...defaultSendOptions, timeoutMs: flags.timeout ?? defaultSendOptions.timeoutMs, insecure: flags.insecure ?? false });
      let run: ReplayRun;
      try {
        // The same NAME|FILE resolution as export and serve: a session name, a session directory, a HAR file.
        const source = await openSource(proxyctlHome(io.env ?? process.env), recording);
        run = await runReplay(
          source.flows({ onWarning: (m) => stderr.write(`proxyctl: warning: ${m}\n`) }),
          {
            target,
            ...(select ? { select } : {}),
            // Lines as results arrive, so a long replay shows progress; --json prints once at the end.
            ...(flags.json ? {} : { onResult: (r: ReplayResult) => stdout.write(`${formatResultLine(r)}\n`) }),
          },
          sender.send,
        );
      } catch (err) {
        // A recording that cannot be read (missing, not a HAR, a corrupt session line) is an input error.
        if (err instanceof HarError) return cmd.error(`error: ${recording}: ${err.message}`, USAGE);
        if (err instanceof SessionError) return cmd.error(`error: ${err.message}`, USAGE);
        throw err;
      } finally {
        sender.close();
      }

      if (run.selected === 0) {
        const why = run.total === 0 ? 'the recording holds no requests' : `--filter ${JSON.stringify(flags.filter)} selected none of the ${run.total} recorded requests`;
        return cmd.error(`error: nothing to replay: ${why}`, USAGE);
      }
      if (flags.json) {
        const targetUrl = target ? `${target.scheme}://${hostHeader(target.scheme, target.host, target.port)}` : null;
        stdout.write(`${JSON.stringify({ recording, target: targetUrl, summary: run.summary, results: run.results.map(roundDurations) }, null, 2)}\n`);
      } else stdout.write(`${formatSummary(run.summary)}\n`);
      if (run.summary.replayed === 0) return cmd.error(`error: nothing to replay: none of the ${run.selected} selected requests can be replayed`, USAGE);
      if (exitCodeFor(run.summary) !== 0) {
        const bad = run.summary.differed + run.summary.failed;
        cmd.error(`proxyctl: replay: ${bad} of ${run.summary.replayed} requests did not match the recording`, RUNTIME);
      }
    });
}

function roundDurations(r: ReplayResult): ReplayResult {
  return 'durationMs' in r ? { ...r, durationMs: Math.round(r.durationMs * 10) / 10 } : r;
}
