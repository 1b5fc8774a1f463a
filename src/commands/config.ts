/**
 * `proxyctl config check FILE`: validate a config file (DESIGN.md §7) the way `proxyctl start
 * --config FILE` and hot reload will, and print every problem with its path. Thin: parse with
 * src/config/load.ts, resolve references with src/config/references.ts, then format.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { parseConfigText } from '../config/load.js';
import { checkConfigReferences } from '../config/references.js';
import type { ConfigFile } from '../config/schema.js';
import { parseMode } from '../config/mode.js';
import { resolveReverseSettings } from '../config/reverse-settings.js';
import { UsageError } from '../config/usage-error.js';

export interface ConfigCommandIo {
  /** @default process.stdout */
  stdout?: { write(chunk: string): unknown };
  /** @default process.stderr */
  stderr?: { write(chunk: string): unknown };
  /** Read for PATH when checking `command` rules. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** The result of checking one file; `--json` prints exactly this. */
export interface ConfigCheckResult {
  ok: boolean;
  /** `path: problem` lines that make the file unusable. */
  problems: string[];
  /** `path: problem` lines about references that may be fixed before they matter. */
  warnings: string[];
}

/** Exit 2 with everything already printed: main() maps this code to "usage or config error". */
const configError = () => new CommanderError(2, 'proxyctl.config', '');

export function configCommand(io: ConfigCommandIo = {}): Command {
  const out = (s: string) => (io.stdout ?? process.stdout).write(s);
  const err = (s: string) => (io.stderr ?? process.stderr).write(s);
  const config = new Command('config').description('config files: check FILE');

  config
    .command('check')
    .description('validate a config file (YAML or JSON) and the files and programs it refers to; exit 2 on any problem')
    .argument('<file>', 'the config file')
    .option('--json', 'print { ok, problems, warnings } as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const problem = `${file}: cannot read: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? (e as Error).message)}`;
        if (opts.json) out(`${JSON.stringify({ ok: false, problems: [problem], warnings: [] } satisfies ConfigCheckResult)}\n`);
        else err(`proxyctl: ${problem}\n`);
        throw configError();
      }

      const { result, config: parsed } = await checkConfigText(text, file, io.env ?? process.env);
      if (opts.json) {
        out(`${JSON.stringify(result)}\n`);
        if (!result.ok) throw configError();
        return;
      }
      for (const w of result.warnings) err(`warning: ${w}\n`);
      if (!result.ok) {
        const n = result.problems.length;
        err(`${file}: ${n} problem${n === 1 ? '' : 's'}\n${result.problems.map((p) => `  ${p}\n`).join('')}`);
        throw configError();
      }
      const rules = parsed?.rules?.length ?? 0;
      out(`${file}: ok (${rules} rule${rules === 1 ? '' : 's'})\n  ${describeConfig(parsed ?? {})}\n`);
    });

  return config;
}

/**
 * Parse, validate and resolve references: the whole check, without printing. Schema problems stop
 * it (the references of a config that does not parse are not worth guessing at).
 */
export async function checkConfigText(text: string, file: string, env: NodeJS.ProcessEnv): Promise<{ result: ConfigCheckResult; config: ConfigFile | null }> {
  const parsed = parseConfigText(text, file);
  if (!parsed.ok) return { result: { ok: false, problems: parsed.problems, warnings: [] }, config: null };
  const refs = await checkConfigReferences(parsed.config, dirname(resolve(file)), { env });
  const problems = [...refs.errors, ...modeProblems(parsed.config)];
  return { result: { ok: problems.length === 0, problems, warnings: refs.warnings }, config: parsed.config };
}

/** What `start` would refuse about the mode: a reverse mode without backends, a bad group name. */
function modeProblems(config: ConfigFile): string[] {
  if (!config.mode) return [];
  try {
    const mode = parseMode(config.mode);
    if (mode.kind === 'reverse') resolveReverseSettings(mode.urls, config.reverse);
    return [];
  } catch (err) {
    if (err instanceof UsageError) return [`mode: ${err.message}`];
    throw err;
  }
}

/**
 * One line naming what the file sets (unset keys keep their defaults), e.g.
 * `listen 127.0.0.1:8080; mode regular; cache on; rules: block 1, mock 2`.
 */
export function describeConfig(c: ConfigFile): string {
  const parts: string[] = [];
  if (c.listen) parts.push(`listen ${c.listen.host ?? '127.0.0.1'}:${c.listen.port ?? 8080}`);
  if (c.mode) parts.push(`mode ${c.mode}`);
  if (c.upstream?.insecure !== undefined) parts.push(`upstream TLS ${c.upstream.insecure ? 'not verified' : 'verified'}`);
  if (c.cache?.enabled !== undefined) parts.push(`cache ${c.cache.enabled ? 'on' : 'off'}`);
  if (c.noCache !== undefined) parts.push(`no-cache ${c.noCache ? 'on' : 'off'}`);
  if (c.proxyAuth) {
    const users = c.proxyAuth.users?.length ?? 0;
    const sources = [users ? `${users} user${users === 1 ? '' : 's'}` : '', c.proxyAuth.htpasswd ? 'htpasswd' : ''].filter(Boolean);
    parts.push(`proxy auth${sources.length ? ` (${sources.join(' + ')})` : ''}`);
  }
  if (c.access) parts.push(`access: ${c.access.allow?.length ?? 0} allow, ${c.access.deny?.length ?? 0} deny`);
  if (c.admin?.port !== undefined && c.admin.port !== null) parts.push(`admin port ${c.admin.port}`);
  if (c.accessLog) parts.push(`access log ${c.accessLog.format ?? 'text'}${c.accessLog.file ? ` to ${c.accessLog.file}` : ''}`);
  if (c.ignoreHosts?.length) parts.push(`ignore hosts ${c.ignoreHosts.length}`);
  if (c.resolve && Object.keys(c.resolve).length) parts.push(`resolve ${Object.keys(c.resolve).length}`);
  if (c.rules) {
    const counts = new Map<string, number>();
    for (const r of c.rules) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const disabled = c.rules.filter((r) => r.enabled === false).length;
    parts.push(`rules: ${[...counts].map(([t, n]) => `${t} ${n}`).join(', ') || 'none'}${disabled ? ` (${disabled} disabled)` : ''}`);
  }
  if (c.reverse) {
    const groups = Object.keys(c.reverse.groups ?? {}).length;
    parts.push(`reverse: ${c.reverse.backends?.length ?? 0} backends, ${groups} group${groups === 1 ? '' : 's'}, ${c.reverse.routes?.length ?? 0} routes`);
  }
  return parts.length ? parts.join('; ') : 'sets nothing: every option keeps its default';
}
