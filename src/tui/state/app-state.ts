import { assertNever } from '../../proxy/core/assert-never.js';
import type { FlowPredicate } from '../list/filter-index.js';
import { detailReducer, initialDetailState, type DetailAction, type DetailState } from './detail-state.js';
import { initialListState, listReducer, type ListAction, type ListState } from './list-state.js';
import { promptReducer, type PromptAction, type PromptState } from './prompt-state.js';

export type MessageLevel = 'info' | 'warn' | 'error';

/** The active view filter: what was typed and what it compiled to. */
export interface ViewFilter {
  expression: string;
  predicate: FlowPredicate;
}

/** Everything the TUI remembers between frames (the flows themselves live in the store). */
export interface AppState {
  view: 'list' | 'detail';
  /** Sequence number of the flow the detail view shows. */
  detailSeq: number | null;
  help: { open: boolean; scroll: number };
  showLog: boolean;
  message: { text: string; level: MessageLevel } | null;
  filter: ViewFilter | null;
  list: ListState;
  detail: DetailState;
  prompt: PromptState | null;
}

export type AppAction =
  | { type: 'list'; action: ListAction }
  | { type: 'detail'; action: DetailAction }
  | { type: 'prompt'; action: PromptAction }
  | { type: 'open-detail'; seq: number }
  | { type: 'back' }
  | { type: 'toggle-help' }
  | { type: 'help-scroll'; delta: number; length: number; height: number }
  | { type: 'toggle-log' }
  | { type: 'message'; text: string; level: MessageLevel }
  | { type: 'clear-message' }
  | { type: 'set-filter'; filter: ViewFilter | null };

export const initialAppState: AppState = {
  view: 'list',
  detailSeq: null,
  help: { open: false, scroll: 0 },
  showLog: false,
  message: null,
  filter: null,
  list: initialListState,
  detail: initialDetailState,
  prompt: null,
};

export function appReducer(state: AppState, action: AppAction): AppState {
  switch (action.type) {
    case 'list':
      return { ...state, list: listReducer(state.list, action.action) };
    case 'detail':
      return { ...state, detail: detailReducer(state.detail, action.action) };
    case 'prompt':
      return { ...state, prompt: promptReducer(state.prompt, action.action) };
    case 'open-detail':
      return {
        ...state,
        view: 'detail',
        detailSeq: action.seq,
        detail: state.detailSeq === action.seq ? state.detail : detailReducer(state.detail, { type: 'reset' }),
        // The detail view's flow becomes the list's selection, so going back lands on it.
        list: { ...state.list, follow: false, selectedSeq: action.seq },
      };
    case 'back':
      if (state.help.open) return { ...state, help: { open: false, scroll: 0 } };
      return { ...state, view: 'list' };
    case 'toggle-help':
      return { ...state, help: { open: !state.help.open, scroll: 0 } };
    case 'help-scroll': {
      const max = Math.max(0, action.length - action.height);
      return { ...state, help: { ...state.help, scroll: Math.max(0, Math.min(max, state.help.scroll + action.delta)) } };
    }
    case 'toggle-log':
      return { ...state, showLog: !state.showLog };
    case 'message':
      return { ...state, message: { text: action.text, level: action.level } };
    case 'clear-message':
      return state.message ? { ...state, message: null } : state;
    case 'set-filter':
      return { ...state, filter: action.filter };
    default:
      return assertNever(action, 'app action');
  }
}
