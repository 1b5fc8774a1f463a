/**
 * `proxyctl open NAME|FILE`: browse a recorded session (or a HAR file, or a session directory) in
 * the terminal UI without starting a proxy (issue 7). Thin: resolve the recording as `export`
 * does, index it into a read-only SessionViewer (rows and bodies are read on demand), run the same
 * TUI as `start`.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { proxyctlHome } from '../config/paths.js';
import { HarError } from '../export/har-import.js';
import { openSource, type FlowSource } from '../export/source.js';
import { SessionViewer } from '../session-viewer.js';
import { listSessions } from '../store/session-catalog.js';
import { SessionError } from '../store/session-errors.js';
import { sessionDir } from '../store/session-paths.js';

export interface OpenCommandIo {
  /** @default process.stdin */
  stdin?: NodeJS.ReadStream;
  /** @default process.stdout */
  stdout?: NodeJS.WriteStream;
  /** Read for PROXYCTL_HOME. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const USAGE = { exitCode: 2, code: 'proxyctl.usage' } as const;

export function openCommand(io: OpenCommandIo = {}): Command {
  return new Command('open')
    .description('browse a recorded session (or a HAR file) in the terminal UI, without a proxy: filter, search, mark, replay, export')
    .argument('<name-or-file>', 'a session name, a session directory, or a .har file')
    .action(async (nameOrFile: string, _opts: unknown, cmd: Command) => {
      const home = proxyctlHome(io.env ?? process.env);
      let source: FlowSource;
      try {
        source = await openSource(home, nameOrFile);
      } catch (err) {
        if (err instanceof HarError) return cmd.error(`error: ${nameOrFile}: ${err.message}`, USAGE);
        if (err instanceof SessionError && (err.code === 'NOT_FOUND' || err.code === 'BAD_NAME')) {
          // A file that exists but is no recording says so; a name that matches nothing lists the sessions.
          const exists = await stat(resolve(nameOrFile)).then(
            () => true,
            () => false,
          );
          return cmd.error(`error: ${exists ? err.message : await missingMessage(home, nameOrFile)}`, USAGE);
        }
        throw err;
      }
      const stdin = io.stdin ?? process.stdin;
      const stdout = io.stdout ?? process.stdout;
      if (!stdin.isTTY || !stdout.isTTY) {
        return cmd.error('error: proxyctl open needs an interactive terminal (stdin and stdout must be a TTY); `proxyctl sessions show NAME` and `proxyctl export` work without one', USAGE);
      }

      const viewer = new SessionViewer();
      try {
        try {
          // A session is indexed and read on demand (bounded memory); a HAR file is parsed whole anyway.
          const dir = source.kind === 'session' ? sessionDir(home, nameOrFile) : source.kind === 'dir' ? resolve(nameOrFile) : null;
          if (dir) await viewer.loadSession(dir);
          else await viewer.load(source.flows({ onWarning: (m) => viewer.log('warn', m) }));
        } catch (err) {
          // A corrupt line or blob: the recording cannot be read as a whole.
          if (err instanceof SessionError || err instanceof HarError) return cmd.error(`error: ${source.label}: ${err.message}`, USAGE);
          throw err;
        }
        const { runTui } = await import('../tui/index.js');
        await runTui({
          store: viewer.store,
          commands: viewer.commands,
          info: { listen: '', mode: '', session: source.label, readOnly: true },
          toggles: viewer.toggles,
          rules: viewer.rules,
          stdin,
          stdout,
        });
      } finally {
        viewer.close();
      }
    });
}

/** `no session or file named X`, and the sessions there are. */
async function missingMessage(home: string, name: string): Promise<string> {
  const sessions = await listSessions(home).catch(() => []);
  const head = `no session or file named ${name}`;
  if (sessions.length === 0) return `${head}; there are no sessions yet (proxyctl start records one; proxyctl import FILE.har makes one)`;
  const width = Math.max(...sessions.map((s) => s.name.length));
  const rows = sessions.map((s) => `  ${s.name.padEnd(width)}  ${s.flowCount} flow${s.flowCount === 1 ? '' : 's'}`);
  return `${head}; available sessions (proxyctl sessions list):\n${rows.join('\n')}`;
}
