import { describe, expect, it } from 'vitest';
import { initialListState, listReducer, selectedIndex, visibleTop, type ListAction, type ListState, type ListView } from '../../../src/tui/state/list-state.js';

/** A view over explicit sequence numbers (ascending), as the filter index provides. */
function view(seqs: number[]): ListView {
  return {
    length: seqs.length,
    seqAt: (i) => seqs[i] ?? -1,
    lowerBound: (seq) => {
      const i = seqs.findIndex((s) => s >= seq);
      return i < 0 ? seqs.length : i;
    },
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const H = 5;

function run(state: ListState, ...actions: ListAction[]): ListState {
  return actions.reduce(listReducer, state);
}

describe('listReducer', () => {
  const v = view(range(0, 20));

  it('follows the tail initially', () => {
    expect(selectedIndex(initialListState, v)).toBe(19);
    expect(visibleTop(initialListState, v, H)).toBe(15);
  });

  it.each<[string, ListAction[], number, boolean, number]>([
    ['up stops following', [{ type: 'move', delta: -1, view: v, height: H }], 18, false, 15],
    ['up three', [{ type: 'move', delta: -3, view: v, height: H }], 16, false, 15],
    ['up past the window scrolls', [{ type: 'move', delta: -6, view: v, height: H }], 13, false, 13],
    ['top', [{ type: 'top', view: v, height: H }], 0, false, 0],
    ['top then down', [{ type: 'top', view: v, height: H }, { type: 'move', delta: 1, view: v, height: H }], 1, false, 0],
    ['down past the window', [{ type: 'top', view: v, height: H }, { type: 'move', delta: 7, view: v, height: H }], 7, false, 3],
    ['clamped at the top', [{ type: 'move', delta: -100, view: v, height: H }], 0, false, 0],
    ['bottom follows again', [{ type: 'top', view: v, height: H }, { type: 'bottom', view: v, height: H }], 19, true, 15],
    ['moving down onto the last row follows again', [{ type: 'move', delta: -2, view: v, height: H }, { type: 'move', delta: 5, view: v, height: H }], 19, true, 15],
    ['select a row', [{ type: 'select', index: 4, view: v, height: H }], 4, false, 4],
  ])('%s', (_name, actions, index, follow, top) => {
    const s = run(initialListState, ...actions);
    expect(selectedIndex(s, v)).toBe(index);
    expect(s.follow).toBe(follow);
    expect(visibleTop(s, v, H)).toBe(top);
  });

  it('keeps the selection on its flow when flows arrive and old ones are evicted', () => {
    const s = run(initialListState, { type: 'move', delta: -3, view: v, height: H }); // seq 16
    expect(s.selectedSeq).toBe(16);
    const later = view(range(10, 40)); // 10 evicted, 20 new
    expect(later.seqAt(selectedIndex(s, later))).toBe(16);
    const top = visibleTop(s, later, H);
    expect(top).toBeLessThanOrEqual(selectedIndex(s, later));
    expect(top + H).toBeGreaterThan(selectedIndex(s, later));
  });

  it('lands on the next flow when the selected one leaves the view', () => {
    const s = run(initialListState, { type: 'select', index: 5, view: v, height: H }); // seq 5
    expect(selectedIndex(s, view([1, 3, 7, 9]))).toBe(2); // seq 7
    expect(selectedIndex(s, view([1, 3]))).toBe(1); // nothing after: the last
  });

  it('follows the tail of a growing list', () => {
    expect(selectedIndex(initialListState, view(range(0, 50)))).toBe(49);
  });

  it('is a no-op on an empty view', () => {
    const empty = view([]);
    expect(run(initialListState, { type: 'move', delta: 1, view: empty, height: H })).toBe(initialListState);
    expect(selectedIndex(initialListState, empty)).toBe(-1);
  });
});
