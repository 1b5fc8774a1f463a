import { assertNever } from '../../proxy/core/assert-never.js';

export type PromptKind = 'filter' | 'intercept' | 'search' | 'respond' | 'url' | 'export';

/**
 * A one-line text prompt (filter, intercept filter, search, a paused flow's response or URL, the
 * export's file name).
 */
export interface PromptState {
  kind: PromptKind;
  text: string;
  /** Cursor position in UTF-16 units, 0..text.length. */
  cursor: number;
  /** A second line under the prompt: the caret and message of a syntax error. */
  error: string | null;
  /** The paused flow a `respond` or `url` prompt acts on. */
  flowId: string | null;
  /** Shown before the text instead of the kind's usual label (the export names what it writes). */
  label?: string | null;
}

export type PromptAction =
  | { type: 'open'; kind: PromptKind; text: string; flowId?: string; label?: string }
  | { type: 'insert'; text: string }
  | { type: 'backspace' }
  | { type: 'left' }
  | { type: 'right' }
  | { type: 'home' }
  | { type: 'end' }
  | { type: 'kill-line' }
  | { type: 'kill-word' }
  | { type: 'error'; error: string | null }
  | { type: 'close' };

export const PROMPT_LABELS: Readonly<Record<PromptKind, string>> = {
  filter: 'filter: ',
  intercept: 'intercept: ',
  search: '/',
  respond: 'respond (status [type] [body]): ',
  url: 'url: ',
  export: 'export to: ',
};

export function promptReducer(state: PromptState | null, action: PromptAction): PromptState | null {
  if (action.type === 'open') {
    return { kind: action.kind, text: action.text, cursor: action.text.length, error: null, flowId: action.flowId ?? null, label: action.label ?? null };
  }
  if (!state) return null;
  const { text, cursor } = state;
  switch (action.type) {
    case 'insert': {
      // Pasted text may hold line breaks and other controls; a prompt is one line.
      // eslint-disable-next-line no-control-regex
      const clean = action.text.replace(/[\x00-\x1f\x7f]+/g, ' ');
      if (!clean) return state;
      return { ...state, text: text.slice(0, cursor) + clean + text.slice(cursor), cursor: cursor + clean.length, error: null };
    }
    case 'backspace':
      if (cursor === 0) return state;
      return { ...state, text: text.slice(0, cursor - 1) + text.slice(cursor), cursor: cursor - 1, error: null };
    case 'left':
      return { ...state, cursor: Math.max(0, cursor - 1) };
    case 'right':
      return { ...state, cursor: Math.min(text.length, cursor + 1) };
    case 'home':
      return { ...state, cursor: 0 };
    case 'end':
      return { ...state, cursor: text.length };
    case 'kill-line':
      return { ...state, text: text.slice(cursor), cursor: 0, error: null };
    case 'kill-word': {
      const before = text.slice(0, cursor).replace(/\S+\s*$/, '');
      return { ...state, text: before + text.slice(cursor), cursor: before.length, error: null };
    }
    case 'error':
      return { ...state, error: action.error };
    case 'close':
      return null;
    default:
      return assertNever(action, 'prompt action');
  }
}
