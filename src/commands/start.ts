import { Command, Option } from 'commander';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { instancePath } from '../browser/instance.js';
import { proxyctlHome } from '../config/paths.js';
import { loadConfigFile } from '../config/load.js';
import { mergeSettings, startFlagsSchema, UsageError, type StartSettings } from '../config/start-options.js';
import { formatIssues, type ConfigFile } from '../config/schema.js';
import { AccessLogOpenError, attachAccessLog, openAccessLogFile, type AccessLogTarget, type AccessLogWriter } from '../ops/access-log-writer.js';
import { AdminListenError } from '../ops/admin-listen-error.js';
import { Runtime } from '../runtime.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `proxyctl start`: parse and validate, then hand everything to the runtime. */
export function startCommand(): Command {
  return new Command('start')
    .description('start the proxy (full-screen UI unless --no-tui)')
    .option('-p, --port <port>', 'listen port (0 picks a free one)', undefined)
    .option('--host <host>', 'listen address (default 127.0.0.1)')
    .option('--mode <mode>', 'regular | reverse:URL[,URL…] | upstream:URL | socks5 (default regular)')
    .option('--no-tui', 'run headless: print the ready line, then one access-log line per flow')
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--session <name>', 'session name to record into')
    .option('-k, --insecure', 'do not verify upstream TLS certificates')
    .option('--ignore-hosts <regex...>', 'tunnel matching CONNECT hosts without interception')
    .option('--resolve <host=addr>', 'resolve HOST to ADDR (repeatable, like curl --resolve)', collect)
    .option('--admin-port <port>', 'serve /healthz and Prometheus /metrics on this port of the listen host (0 picks a free one)')
    .addOption(new Option('--log-format <format>', 'access log format: text | json'))
    .option('--access-log <file>', 'append the access log to FILE (created if missing), in the UI too')
    .option('--upstream-timeout <ms>', 'wait this long for upstream response headers (default 60000)')
    .option('--max-body-bytes <n>', 'bytes of each body captured on a flow (default 4194304)')
    .option('--max-flows <n>', 'flows kept in memory (default 20000)')
    .option('--proxy-auth <user:pass|@file>', 'require proxy authentication (Basic): one user, or an htpasswd file')
    .option('--allow <cidr...>', 'client addresses admitted (default: loopback only)')
    .option('--compress', 'gzip/br-compress text-like responses for clients that accept it (config: compression)')
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const parsed = startFlagsSchema.safeParse(raw);
      if (!parsed.success) cmd.error(`error: ${formatIssues(parsed.error)[0]!.replace(/^(\w+): /, '')}`, { exitCode: 2, code: 'proxyctl.usage' });
      const flags = parsed.data!;
      let file: ConfigFile = {};
      if (flags.config) {
        const loaded = await loadConfigFile(flags.config);
        if (!loaded.ok) cmd.error(`error: config ${flags.config}:\n  ${loaded.problems.join('\n  ')}`, { exitCode: 2, code: 'proxyctl.config' });
        else file = loaded.config;
      }
      let settings: StartSettings;
      try {
        settings = mergeSettings(flags, file, flags.config ?? null);
      } catch (err) {
        if (err instanceof UsageError) cmd.error(`error: ${err.message}`, { exitCode: 2, code: 'proxyctl.usage' });
        throw err;
      }
      await run(settings!, file, flags.config ?? null, cmd);
    });
}


/** How long SIGINT/SIGTERM waits for flows in flight before cutting them (DESIGN.md §7). */
const SHUTDOWN_DEADLINE_MS = 5000;

async function run(initial: StartSettings, config: ConfigFile, configPath: string | null, cmd: Command): Promise<void> {
  let settings = initial;
  if (settings.tui && !(process.stdin.isTTY && process.stdout.isTTY)) {
    // No terminal to draw on (piped, under a service manager): do what --no-tui does, and say so.
    process.stderr.write('proxyctl: no terminal for the UI; running headless (pass --no-tui to silence this)\n');
    settings = { ...settings, tui: false };
  }
  const home = proxyctlHome();
  let runtime: Runtime;
  try {
    runtime = await Runtime.create({ home, settings, config, configPath });
  } catch (err) {
    if (err instanceof UsageError) cmd.error(`error: ${err.message}`, { exitCode: 2, code: 'proxyctl.config' });
    throw err;
  }
  // Opened before anything listens: a path that cannot be written is a usage error (exit 2).
  let logFile: AccessLogTarget | null = null;
  if (settings.accessLogFile) {
    try {
      logFile = openAccessLogFile(settings.accessLogFile);
    } catch (err) {
      if (err instanceof AccessLogOpenError) cmd.error(`error: ${err.message}`, { exitCode: 2, code: 'proxyctl.usage' });
      throw err;
    }
  }
  try {
    await runtime.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = err instanceof AdminListenError ? err.message : `cannot listen on ${settings.host}:${settings.port}: ${e.code ?? e.message}`;
    process.stderr.write(`proxyctl: ${why}\n`);
    logFile?.stream.destroy();
    process.exitCode = 1;
    return;
  }
  await mkdir(home, { recursive: true });
  await writeFile(instancePath(home), `${JSON.stringify({ url: runtime.url, pid: process.pid, startedAt: new Date().toISOString() })}\n`);

  // The session's lines go out before the access lines that name their flows (kill -9 loses nothing printed).
  const recordedFirst = { beforeWrite: () => runtime.recorder?.writePending() };
  let accessLog: AccessLogWriter | null = logFile ? attachAccessLog(runtime.bus, logFile, settings.logFormat, recordedFirst) : null;
  let stopping = false;
  /** Stop accepting, drain, flush the session and the access log, then exit 0 (DESIGN.md §7). */
  const stop = async () => {
    if (stopping) return; // a second signal waits for the same (bounded) drain
    stopping = true;
    if (!settings.tui) {
      const inFlight = runtime.proxy.emitter.active;
      process.stderr.write(`proxyctl: shutting down${inFlight ? `; waiting up to ${SHUTDOWN_DEADLINE_MS / 1000} s for ${inFlight} flow${inFlight === 1 ? '' : 's'} in flight` : ''}\n`);
    }
    await runtime.stop(SHUTDOWN_DEADLINE_MS);
    await accessLog?.close();
    await rm(instancePath(home), { force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  if (settings.tui) {
    // The UI owns stdout: notes go to its event log.
    if (runtime.admin) runtime.bus.log('info', `admin on ${runtime.admin.url}`);
    const { runTui } = await import('../tui/index.js');
    await runTui({
      store: runtime.store,
      commands: runtime.commands,
      info: { listen: runtime.url.replace(/^http:\/\//, ''), mode: settings.mode, session: runtime.recorder?.name ?? settings.session },
      toggles: runtime.toggles,
      rules: runtime.rules.list,
      backends: () => runtime.backends(),
    });
    await stop();
    return;
  }
  // The ready line is stdout's first line (the contract scripts wait for); notes go to stderr.
  process.stdout.write(`proxyctl listening on ${runtime.url}\n`);
  if (runtime.admin) process.stderr.write(`proxyctl: admin on ${runtime.admin.url}\n`);
  if ((settings.host === '0.0.0.0' || settings.host === '::') && !settings.allow && !config.access?.allow) {
    process.stderr.write('proxyctl: note: only loopback clients are admitted; set access.allow in the config (or --allow CIDR) to admit others\n');
  }
  accessLog ??= attachAccessLog(runtime.bus, { stream: process.stdout, owned: false, name: 'stdout' }, settings.logFormat, recordedFirst);
  const note = (e: { level: string; message: string; flowId?: string }) => {
    // Warnings and errors, and notes about the proxy as a whole (config reloaded, rule added).
    if (e.level === 'warn' || e.level === 'error') process.stderr.write(`proxyctl: ${e.level}: ${e.message}\n`);
    else if (e.level === 'info' && e.flowId === undefined) process.stderr.write(`proxyctl: ${e.message}\n`);
  };
  // What was said while starting (a certificate that does not name its server, unused config)
  // reached only the store's event log so far.
  for (const e of runtime.store.getSnapshot().log) note(e);
  runtime.bus.on('log', note);
}
