/**
 * The interactive terminal UI (issue 4): `proxyctl start` without `--no-tui` calls `runTui` and
 * stops the runtime when it resolves; `proxyctl open` runs it over a recorded session.
 */
import { render } from 'ink';
import { createElement } from 'react';
import type { CommandApi } from '../proxy/core/commands.js';
import type { FlowStore } from '../store/flow-store.js';
import type { RuleEntry } from '../store/rule-list.js';
import type { BackendStatus } from '../proxy/reverse/status.js';
import { App } from './app.js';
import { enterAltScreen } from './terminal.js';
import { ThemeContext, themeFor } from './theme.js';

export interface TuiContext {
  store: FlowStore;
  commands: CommandApi;
  /**
   * Static facts for the status bar. `readOnly`: a recorded session without a proxy (`proxyctl
   * open`); the bar names the session and the live-traffic keys refuse.
   */
  info: { listen: string; mode: string; session: string | null; readOnly?: boolean };
  /** Live toggles (cache, no-cache, intercept filter); subscribe like the store. */
  toggles: { subscribe(l: () => void): () => void; getSnapshot(): { cache: boolean; noCache: boolean; intercept: string | null } };
  /**
   * The rules in force (the runtime's `RuleList`), for the rules pane (`p`) and the status bar's
   * rule count; subscribe like the store.
   */
  rules: { subscribe(l: () => void): () => void; getSnapshot(): readonly RuleEntry[] };
  /**
   * Backend states (the runtime's `backends()`), polled about once a second for the backends pane
   * (`B`) and the status bar; absent or empty outside reverse mode.
   */
  backends?: () => readonly BackendStatus[];
  /** @default process.stdin */
  stdin?: NodeJS.ReadStream;
  /** @default process.stdout */
  stdout?: NodeJS.WriteStream;
}

/** Frames per second at most (DESIGN.md §10); the store already coalesces changes per 50 ms. */
const MAX_FPS = 20;

/**
 * Run the TUI on the alternate screen until the user quits (`q` in the list, Ctrl-C anywhere) or
 * the process gets SIGINT/SIGTERM; resolves once the terminal is restored. Rejects if the UI
 * crashed (the terminal is restored then too) or when stdin is not a terminal.
 */
export async function runTui(ctx: TuiContext): Promise<void> {
  const stdout = ctx.stdout ?? process.stdout;
  const stdin = ctx.stdin ?? process.stdin;
  // Ink needs raw mode for keys; without a terminal it would fail mid-render with a vaguer error.
  if (!stdin.isTTY) throw new Error('the terminal UI needs an interactive terminal (stdin is not a TTY); use --no-tui');
  const guard = enterAltScreen(stdout);
  let unmount: (() => void) | null = null;
  // A signal ends the UI like `q` does; the caller then shuts the proxy down as after a quit.
  const onSignal = () => unmount?.();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const app = createElement(App, { store: ctx.store, commands: ctx.commands, info: ctx.info, toggles: ctx.toggles, rules: ctx.rules, ...(ctx.backends ? { backends: ctx.backends } : {}) });
    const instance = render(createElement(ThemeContext.Provider, { value: themeFor(process.env) }, app), {
      stdout,
      stdin,
      exitOnCtrlC: false,
      // Ink routes stray console output around its frames; it needs the real console (test
      // runners replace it with one that has no `Console` class).
      patchConsole: typeof console.Console === 'function',
      maxFps: MAX_FPS,
      // Not `incrementalRendering`: in ink 6.8 it moves the cursor one row short for output that
      // ends in a newline (ours: see layout.ts), so every frame lands one row lower (seen in tmux).
    });
    unmount = () => instance.unmount();
    await instance.waitUntilExit();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    guard.restore();
    guard.dispose();
  }
}
