/**
 * Run Chromium to completion with a throw-away profile: spawn, forward Ctrl+C / SIGTERM, wait for
 * the exit, remove the profile. Chromium's own chatter is kept (bounded) and shown only if it fails.
 */
import { spawn } from 'node:child_process';
import { makeTempProfile } from './temp-profile.js';

/** How much of Chromium's stderr is kept for a failure report. */
const STDERR_TAIL_BYTES = 8 * 1024;
/** How long after Chromium's exit its stderr may still be read. */
const STDERR_GRACE_MS = 500;

export interface RunChromiumOptions {
  executable: string;
  /** Builds the argument list once the profile directory exists. */
  args: (userDataDir: string) => string[];
  /** The browser's environment. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Called with the profile directory once Chromium has been started. */
  onStarted?: (info: { pid: number | undefined; userDataDir: string }) => void;
}

export interface ChromiumExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when we passed on a SIGINT/SIGTERM we received (a normal way to end the session). */
  interrupted: boolean;
  /** The last few KiB Chromium wrote to stderr. */
  stderrTail: string;
}

/** Rejects only when Chromium cannot be started at all (ENOENT, EACCES …); the profile is removed either way. */
export async function runChromium(opts: RunChromiumOptions): Promise<ChromiumExit> {
  const profile = await makeTempProfile();
  try {
    return await runIn(profile.dir, opts);
  } finally {
    await profile.remove();
  }
}

function runIn(userDataDir: string, opts: RunChromiumOptions): Promise<ChromiumExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.executable, opts.args(userDataDir), {
      env: opts.env ?? process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let tail = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      tail = (tail + s).slice(-STDERR_TAIL_BYTES);
    });
    child.stderr.on('error', () => {
      // The pipe breaks only when Chromium dies, which 'exit' reports.
    });

    let interrupted = false;
    // A terminal's Ctrl+C reaches Chromium too (same process group); we stay alive to clean up.
    const forward = (signal: NodeJS.Signals) => {
      interrupted = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    const onInt = () => forward('SIGINT');
    const onTerm = () => forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const unlisten = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };

    child.once('spawn', () => opts.onStarted?.({ pid: child.pid, userDataDir }));
    child.once('error', (err) => {
      unlisten();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      unlisten();
      // Let the last stderr bytes arrive, but do not wait on a straggling helper process that
      // inherited the pipe.
      const finish = () => {
        clearTimeout(timer);
        resolve({ code, signal, interrupted, stderrTail: tail });
      };
      const timer = setTimeout(finish, STDERR_GRACE_MS);
      if (child.stderr.readableEnded || child.stderr.destroyed) finish();
      else child.stderr.once('close', finish);
    });
  });
}
