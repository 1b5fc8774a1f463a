import { assertNever } from '../../proxy/core/assert-never.js';
import type { MatchPos } from '../detail/search.js';
import type { DetailTab } from '../detail/tabs.js';

/** The detail view: which tab, how far scrolled, and the search in it. */
export interface DetailState {
  tab: DetailTab;
  /** First visible row. */
  scroll: number;
  /** The last search: its query and the match shown (null when nothing matched). */
  search: { query: string; match: MatchPos | null } | null;
}

export type DetailAction =
  | { type: 'reset' }
  | { type: 'tab'; delta: 1 | -1; tabs: readonly DetailTab[] }
  | { type: 'scroll'; delta: number; length: number; height: number }
  | { type: 'scroll-to'; where: 'top' | 'bottom'; length: number; height: number }
  | { type: 'search'; query: string; match: MatchPos | null; length: number; height: number };

export const initialDetailState: DetailState = { tab: 'request', scroll: 0, search: null };

/** Rows of context kept above a match scrolled into view. */
const MATCH_CONTEXT = 2;

function clampScroll(scroll: number, length: number, height: number): number {
  return Math.max(0, Math.min(scroll, Math.max(0, length - Math.max(1, height))));
}

export function detailReducer(state: DetailState, action: DetailAction): DetailState {
  switch (action.type) {
    case 'reset':
      return { ...initialDetailState, tab: state.tab === 'websocket' ? 'request' : state.tab };
    case 'tab': {
      const i = action.tabs.indexOf(state.tab);
      const n = action.tabs.length;
      if (n === 0) return state;
      const next = action.tabs[(((i < 0 ? 0 : i + action.delta) % n) + n) % n]!;
      return { ...state, tab: next, scroll: 0, search: state.search ? { query: state.search.query, match: null } : null };
    }
    case 'scroll':
      return { ...state, scroll: clampScroll(state.scroll + action.delta, action.length, action.height) };
    case 'scroll-to':
      return { ...state, scroll: action.where === 'top' ? 0 : clampScroll(action.length, action.length, action.height) };
    case 'search': {
      let scroll = state.scroll;
      const m = action.match;
      if (m && (m.line < scroll || m.line >= scroll + action.height)) scroll = clampScroll(m.line - MATCH_CONTEXT, action.length, action.height);
      return { ...state, scroll, search: { query: action.query, match: m } };
    }
    default:
      return assertNever(action, 'detail action');
  }
}
