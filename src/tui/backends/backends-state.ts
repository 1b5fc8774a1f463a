import { assertNever } from '../../proxy/core/assert-never.js';

/**
 * The backends pane (`B`): whether it is open over the current view, and how far it is scrolled.
 * A pure reducer; the pane is read-only, so there is no selection, only a first visible row.
 */
export interface BackendsPaneState {
  open: boolean;
  /** First visible backend row (clamped when drawn, as the list may shrink). */
  top: number;
}

export type BackendsPaneAction =
  | { type: 'open' }
  | { type: 'close' }
  | { type: 'scroll'; delta: number; length: number; height: number }
  | { type: 'scroll-to'; where: 'top' | 'bottom'; length: number; height: number };

export const initialBackendsPaneState: BackendsPaneState = { open: false, top: 0 };

/** The first visible row for `length` rows in `height`. */
export function backendsTop(state: BackendsPaneState, length: number, height: number): number {
  return Math.max(0, Math.min(state.top, length - Math.max(1, height)));
}

export function backendsPaneReducer(state: BackendsPaneState, action: BackendsPaneAction): BackendsPaneState {
  switch (action.type) {
    case 'open':
      return state.open ? state : { ...state, open: true };
    case 'close':
      return state.open ? { ...state, open: false } : state;
    case 'scroll': {
      const top = backendsTop({ ...state, top: backendsTop(state, action.length, action.height) + action.delta }, action.length, action.height);
      return top === state.top ? state : { ...state, top };
    }
    case 'scroll-to': {
      const top = action.where === 'top' ? 0 : backendsTop({ ...state, top: action.length }, action.length, action.height);
      return top === state.top ? state : { ...state, top };
    }
    default:
      return assertNever(action, 'backends pane action');
  }
}
