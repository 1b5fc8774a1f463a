import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN, SHOW_CURSOR } from '../terminal.js';

/** Ink hides the cursor once, at start; the editor showed it. */
const HIDE_CURSOR = '\x1b[?25l';

export type EditResult = { ok: true; text: string } | { ok: false; error: string };

/** The terminal the UI owns, as far as handing it to an editor needs. */
export interface Handover {
  stdout: Pick<NodeJS.WriteStream, 'write'>;
  stdin: { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
}

/**
 * `$VISUAL`, else `$EDITOR`, else `vi`. The value is run by `/bin/sh`, so `code -w` or
 * `vim -u NONE` work as they do for git.
 */
export function editorCommand(env: NodeJS.ProcessEnv): string {
  return env.VISUAL?.trim() || env.EDITOR?.trim() || 'vi';
}

/**
 * Let the user edit `text` in their editor, synchronously: leave the alternate screen and raw
 * mode, run the editor on a private temp file (mode 0600, removed afterwards) with the terminal
 * inherited, then take the screen back. The event loop is blocked meanwhile, so Ink neither draws
 * nor reads keys; the caller's next state change redraws the whole screen (Ink writes full frames
 * for a full-screen app, and the alternate screen starts cleared).
 */
export function editInTerminal(text: string, name: string, term: Handover, env: NodeJS.ProcessEnv = process.env): EditResult {
  const dir = mkdtempSync(join(tmpdir(), 'proxyctl-edit-'));
  const file = join(dir, name);
  const raw = term.stdin.isTTY === true && typeof term.stdin.setRawMode === 'function';
  try {
    writeFileSync(file, text, { mode: 0o600 });
    term.stdout.write(LEAVE_ALT_SCREEN + SHOW_CURSOR);
    if (raw) term.stdin.setRawMode!(false);
    const editor = editorCommand(env);
    let r: ReturnType<typeof spawnSync>;
    try {
      r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'proxyctl-editor', file], { stdio: 'inherit', env });
    } finally {
      if (raw) term.stdin.setRawMode!(true);
      term.stdout.write(ENTER_ALT_SCREEN + HIDE_CURSOR);
    }
    if (r.error) return { ok: false, error: `could not run the editor (${editor}): ${r.error.message}` };
    if (r.status !== 0) return { ok: false, error: `the editor (${editor}) exited with ${r.status ?? r.signal}; nothing changed` };
    return { ok: true, text: readFileSync(file, 'utf8') };
  } catch (err) {
    return { ok: false, error: `editing failed: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
