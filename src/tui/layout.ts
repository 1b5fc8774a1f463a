/** How the screen is divided (pure, from the terminal size and what is open). */
export interface ScreenLayout {
  width: number;
  /** Rows the app draws (one less than the terminal, see `screenLayout`). */
  height: number;
  /** Rows of the main area (list, detail or help). */
  main: number;
  /** Flow rows in the list (main minus its column header). */
  listRows: number;
  /** Document rows in the detail view (main minus tab bar and summary). */
  detailRows: number;
  /** Rows of the event-log pane, 0 when hidden. */
  log: number;
  /** Rows of the prompt/message area (2 while a syntax error is shown, 3 for the export chooser). */
  prompt: number;
}

/**
 * The app leaves the terminal's last row empty: once its output is as tall as the terminal, Ink
 * clears the whole terminal before every frame (visible flicker); one row less and it erases and
 * rewrites just its own lines.
 */
export function screenLayout(columns: number, rows: number, opts: { showLog: boolean; promptError: boolean; promptRows?: number }): ScreenLayout {
  const width = Math.max(20, columns);
  const height = Math.max(6, rows - 1);
  const prompt = opts.promptRows ?? (opts.promptError ? 2 : 1);
  const status = 1;
  const log = opts.showLog ? Math.min(10, Math.max(3, Math.floor((height - status - prompt) / 3))) : 0;
  const main = Math.max(3, height - status - prompt - log);
  return { width, height, main, listRows: Math.max(1, main - 1), detailRows: Math.max(1, main - 2), log, prompt };
}
