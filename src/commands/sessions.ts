/**
 * `proxyctl sessions [list|show NAME|rm NAME]`: the recorded sessions in `$PROXYCTL_HOME/sessions`
 * (DESIGN.md §7, §9). Thin: validate the name, then call src/store.
 */
import { Command } from 'commander';
import { proxyctlHome } from '../config/paths.js';
import { flowUrl } from '../proxy/core/flow.js';
import { listSessions, removeSession, sessionExists } from '../store/session-catalog.js';
import { SessionError } from '../store/session-errors.js';
import { checkSessionName } from '../store/session-paths.js';
import { readSession } from '../store/session-reader.js';

export interface SessionsCommandIo {
  /** @default process.stdout */
  stdout?: { write(chunk: string): unknown };
  /** @default process.stderr */
  stderr?: { write(chunk: string): unknown };
  /** Read for PROXYCTL_HOME. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const USAGE = { exitCode: 2, code: 'proxyctl.usage' } as const;

export function sessionsCommand(io: SessionsCommandIo = {}): Command {
  const out = (s: string) => (io.stdout ?? process.stdout).write(s);
  const home = () => proxyctlHome(io.env ?? process.env);
  const sessions = new Command('sessions').description('recorded sessions: list (default), show NAME, rm NAME');

  sessions
    .command('list', { isDefault: true })
    .description('list sessions: name, created, flows, size')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { json?: boolean }) => {
      const list = await listSessions(home());
      if (opts.json) {
        for (const s of list) out(`${JSON.stringify({ name: s.name, created: s.created, flows: s.flowCount, bytes: s.bytes })}\n`);
        return;
      }
      if (list.length === 0) {
        out('no sessions yet (proxyctl start records one; proxyctl import FILE.har makes one)\n');
        return;
      }
      out(table(['NAME', 'CREATED', 'FLOWS', 'SIZE'], list.map((s) => [s.name, localTime(s.created), String(s.flowCount), humanBytes(s.bytes)]), [false, false, true, true]));
    });

  sessions
    .command('show')
    .description('the flows of a session: method, status, URL')
    .argument('<name>', 'session name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const valid = validName(name, cmd);
      if (!(await sessionExists(home(), valid))) cmd.error(`error: no session named ${name} (see proxyctl sessions list)`, USAGE);
      const rows: string[][] = [];
      let n = 0;
      // Bodies are not needed for the summary: stream the log without loading blobs.
      for await (const flow of readSession(home(), valid, { bodies: false, onWarning: (m) => (io.stderr ?? process.stderr).write(`proxyctl: warning: ${m}\n`) })) {
        n++;
        const status = flow.response ? String(flow.response.status) : flow.error ? flow.error.code : '-';
        const target = flow.kind === 'tunnel' ? `${flow.request.host}:${flow.request.port}` : flowUrl(flow.request);
        rows.push([String(n), flow.kind === 'websocket' ? 'WS' : flow.request.method, status, target]);
      }
      if (rows.length === 0) {
        out(`session ${valid} has no flows\n`);
        return;
      }
      out(table(['#', 'METHOD', 'STATUS', 'URL'], rows, [true, false, false, false]));
    });

  sessions
    .command('rm')
    .description('remove a session (its directory and index entry)')
    .argument('<name>', 'session name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const valid = validName(name, cmd);
      try {
        await removeSession(home(), valid);
      } catch (err) {
        if (err instanceof SessionError && err.code === 'NOT_FOUND') cmd.error(`error: no session named ${name}`, USAGE);
        throw err;
      }
      out(`removed session ${valid}\n`);
    });

  return sessions;
}

function validName(name: string, cmd: Command): string {
  try {
    return checkSessionName(name);
  } catch (err) {
    if (err instanceof SessionError) cmd.error(`error: ${err.message}`, USAGE);
    throw err;
  }
}

/** Columns padded to their widest cell; `right[i]` right-aligns column i. The last column is not padded. */
export function table(head: string[], rows: string[][], right: boolean[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 && !right[i] ? c : right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

/** `1.5 KiB`, `12 B`, `3.2 MiB`. */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
