import type { Key } from 'ink';
import type { PromptAction } from './state/prompt-state.js';

/**
 * One key press, named in the keymap's vocabulary (see keymap.ts), or a run of typed text for a
 * prompt (`name` null).
 */
export interface KeyEvent {
  name: string | null;
  text: string;
}

/**
 * A key Ink recognized as special (arrows, Enter, Esc, Tab, Backspace, Ctrl-letter), or null when
 * the input is plain text (possibly several characters: a paste, or keys typed faster than read).
 */
export function specialKey(input: string, key: Key): KeyEvent | null {
  const named = (name: string): KeyEvent => ({ name, text: '' });
  if (key.upArrow) return named('up');
  if (key.downArrow) return named('down');
  if (key.leftArrow) return named('left');
  if (key.rightArrow) return named('right');
  if (key.pageUp) return named('pgup');
  if (key.pageDown) return named('pgdn');
  if (key.home) return named('home');
  if (key.end) return named('end');
  if (key.return) return named('enter');
  if (key.tab) return named(key.shift ? 'shift+tab' : 'tab');
  // Ink reports the DEL byte most terminals send for Backspace as `delete`.
  if (key.backspace || key.delete) return named('backspace');
  if (key.escape) return named('esc');
  if (key.ctrl && input.length === 1) return named(`ctrl+${input.toLowerCase()}`);
  if (key.meta) return { name: null, text: '' }; // Alt-combinations: not bound, never typed text
  return null;
}

/** The key name of one character of plain input. */
export function charKey(ch: string): string {
  if (ch === '\r' || ch === '\n') return 'enter';
  if (ch === '\t') return 'tab';
  if (ch === '\x7f' || ch === '\b') return 'backspace';
  if (ch === ' ') return 'space';
  const code = ch.charCodeAt(0);
  if (code >= 1 && code <= 26) return `ctrl+${String.fromCharCode(code + 96)}`;
  return ch;
}

/**
 * Take the next event off plain input. For the keymap (`keys`) that is one character; for a
 * prompt (`text`) a whole run of printable characters is one event, so a paste costs one update.
 */
export function takeKey(raw: string, mode: 'keys' | 'text'): [KeyEvent, string] {
  const first = String.fromCodePoint(raw.codePointAt(0)!);
  const name = charKey(first);
  if (mode === 'text' && name.length > 0 && (name === first || name === 'space')) {
    // eslint-disable-next-line no-control-regex
    const run = /^[^\x00-\x1f\x7f]+/.exec(raw)![0];
    return [{ name: null, text: run }, raw.slice(run.length)];
  }
  return [{ name, text: first }, raw.slice(first.length)];
}

/** What a key does in an open prompt (readline-like editing). */
export function promptKey(ev: KeyEvent): PromptAction | 'submit' | 'cancel' | 'quit' | null {
  if (ev.name === null) return ev.text ? { type: 'insert', text: ev.text } : null;
  switch (ev.name) {
    case 'enter':
      return 'submit';
    case 'esc':
    case 'ctrl+g':
      return 'cancel';
    case 'ctrl+c':
      return 'quit';
    case 'backspace':
    case 'ctrl+h':
      return { type: 'backspace' };
    case 'left':
    case 'ctrl+b':
      return { type: 'left' };
    case 'right':
    case 'ctrl+f':
      return { type: 'right' };
    case 'home':
    case 'ctrl+a':
      return { type: 'home' };
    case 'end':
    case 'ctrl+e':
      return { type: 'end' };
    case 'ctrl+u':
      return { type: 'kill-line' };
    case 'ctrl+w':
      return { type: 'kill-word' };
    case 'space':
      return { type: 'insert', text: ' ' };
    default:
      return ev.name.length === 1 ? { type: 'insert', text: ev.name } : null;
  }
}
