/** Terminal control sequences and the guard that always puts the terminal back. */

/** Switch to the alternate screen (xterm private mode 1049 saves the cursor and clears it). */
export const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
/** Back to the normal screen, as it was before. */
export const LEAVE_ALT_SCREEN = '\x1b[?1049l';
export const SHOW_CURSOR = '\x1b[?25h';

/**
 * The OSC 52 "set clipboard" escape (xterm's ctlseqs): terminals that allow it (and tmux with
 * `set-clipboard on`) put the text on the system clipboard, even over SSH.
 */
export function osc52(text: string): string {
  return `\x1b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\x07`;
}

export interface ScreenGuard {
  /** Leave the alternate screen and show the cursor (idempotent). */
  restore(): void;
  /** Remove the process hooks (after a normal exit). */
  dispose(): void;
}

type Writable = Pick<NodeJS.WriteStream, 'write'>;
type ProcessLike = Pick<NodeJS.Process, 'on' | 'off'>;

/**
 * Enter the alternate screen and make sure it is left however the process ends: on `exit`, and
 * through `uncaughtExceptionMonitor`, which runs before Node prints the error, so the stack trace
 * lands on the normal screen where it stays readable. (The monitor does not change whether the
 * process dies; Node still reports and exits as usual.)
 */
export function enterAltScreen(stdout: Writable, proc: ProcessLike = process): ScreenGuard {
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      stdout.write(LEAVE_ALT_SCREEN + SHOW_CURSOR);
    } catch {
      // The terminal may already be gone (hang-up); there is nothing left to restore then.
    }
  };
  proc.on('exit', restore);
  proc.on('uncaughtExceptionMonitor', restore);
  stdout.write(ENTER_ALT_SCREEN);
  return {
    restore,
    dispose() {
      proc.off('exit', restore);
      proc.off('uncaughtExceptionMonitor', restore);
    },
  };
}
