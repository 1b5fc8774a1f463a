import { assertNever } from '../../proxy/core/assert-never.js';

/**
 * The flow list's selection and scroll, as a pure reducer. The selection is a flow's arrival
 * sequence number, not a row: new flows, eviction and filtering move rows, never the selection.
 */

/** The list as the reducer sees it (the filter index implements it). */
export interface ListView {
  readonly length: number;
  /** Sequence number at a view position, -1 outside. */
  seqAt(index: number): number;
  /** First view position whose sequence is `>= seq`. */
  lowerBound(seq: number): number;
}

export interface ListState {
  /** Keep the newest flow selected and in view. */
  follow: boolean;
  /** Sequence number of the selected flow (ignored while following). */
  selectedSeq: number | null;
  /** First visible view position, as last scrolled to (clamped when used). */
  top: number;
}

export type ListAction =
  | { type: 'move'; delta: number; view: ListView; height: number }
  | { type: 'top'; view: ListView; height: number }
  | { type: 'bottom'; view: ListView; height: number }
  | { type: 'select'; index: number; view: ListView; height: number };

export const initialListState: ListState = { follow: true, selectedSeq: null, top: 0 };

/** View position of the selection: the flow itself, or where it was if it left the view. */
export function selectedIndex(state: ListState, view: ListView): number {
  if (view.length === 0) return -1;
  if (state.follow || state.selectedSeq === null) return view.length - 1;
  return Math.min(view.lowerBound(state.selectedSeq), view.length - 1);
}

/** First visible position: as scrolled, moved just enough to show the selection. */
export function visibleTop(state: ListState, view: ListView, height: number): number {
  const h = Math.max(1, height);
  const maxTop = Math.max(0, view.length - h);
  const sel = selectedIndex(state, view);
  if (sel < 0) return 0;
  if (state.follow) return maxTop;
  const top = Math.min(Math.max(state.top, sel - h + 1), sel);
  return Math.min(Math.max(0, top), maxTop);
}

function selectIndex(state: ListState, index: number, view: ListView, height: number, towardEnd: boolean): ListState {
  if (view.length === 0) return state;
  const i = Math.min(Math.max(0, index), view.length - 1);
  // Reaching the last row going down resumes following, like `tail -f` after scrolling back.
  const follow = towardEnd && i === view.length - 1;
  // Scroll as little as possible from what is on screen now.
  const next: ListState = { follow, selectedSeq: view.seqAt(i), top: visibleTop(state, view, height) };
  return { ...next, top: visibleTop({ ...next, follow: false }, view, height) };
}

export function listReducer(state: ListState, action: ListAction): ListState {
  switch (action.type) {
    case 'move': {
      const cur = selectedIndex(state, action.view);
      if (cur < 0) return state;
      return selectIndex(state, cur + action.delta, action.view, action.height, action.delta > 0);
    }
    case 'top':
      return selectIndex(state, 0, action.view, action.height, false);
    case 'bottom':
      return selectIndex(state, action.view.length - 1, action.view, action.height, true);
    case 'select':
      return selectIndex(state, action.index, action.view, action.height, false);
    default:
      return assertNever(action, 'list action');
  }
}
