import { Command, CommanderError } from 'commander';
import { caCommand } from './commands/ca.js';
import { startCommand } from './commands/start.js';
import { browserCommand } from './commands/browser.js';
import { replayCommand } from './commands/replay.js';
import { sessionsCommand } from './commands/sessions.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { serveCommand } from './commands/serve.js';
import { caInstallCommand } from './commands/ca-install.js';
import { configCommand } from './commands/config.js';
import { openCommand } from './commands/open.js';

/** The commander program, assembled from src/commands/* (DESIGN.md §7). */
export function buildProgram(): Command {
  const program = new Command('proxyctl')
    .description('a personal MITM debugging proxy: HTTP/1.1, HTTP/2, WebSocket and HTTPS interception')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(startCommand());
  const ca = caCommand();
  ca.addCommand(caInstallCommand());
  program.addCommand(ca);
  program.addCommand(browserCommand());
  program.addCommand(replayCommand());
  program.addCommand(sessionsCommand());
  program.addCommand(exportCommand());
  program.addCommand(importCommand());
  program.addCommand(serveCommand());
  program.addCommand(openCommand());
  program.addCommand(configCommand());
  overrideExits(program);
  return program;
}

/** Commander exits by itself unless told not to, command by command; main() decides exit codes. */
function overrideExits(cmd: Command): void {
  for (const sub of cmd.commands) {
    sub.exitOverride();
    overrideExits(sub);
  }
}

/** Run the CLI: usage errors exit 2, runtime failures exit 1 (DESIGN.md §7). */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" to commander with exit code 0.
      if (err.exitCode === 0) process.exit(0);
      process.exit(err.code === 'proxyctl.runtime' ? 1 : 2);
    }
    process.stderr.write(`proxyctl: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
