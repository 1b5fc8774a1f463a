import { describe, expect, it } from 'vitest';
import type { DetailTab } from '../../../src/tui/detail/tabs.js';
import { detailReducer, initialDetailState, type DetailAction, type DetailState } from '../../../src/tui/state/detail-state.js';

const tabs: DetailTab[] = ['request', 'response', 'timing', 'raw'];

describe('detailReducer', () => {
  it.each<[string, DetailState, DetailAction, Partial<DetailState>]>([
    ['next tab', initialDetailState, { type: 'tab', delta: 1, tabs }, { tab: 'response', scroll: 0 }],
    ['previous tab wraps', initialDetailState, { type: 'tab', delta: -1, tabs }, { tab: 'raw' }],
    ['next tab wraps', { ...initialDetailState, tab: 'raw' }, { type: 'tab', delta: 1, tabs }, { tab: 'request' }],
    ['a tab missing here starts over', { ...initialDetailState, tab: 'websocket' }, { type: 'tab', delta: 1, tabs }, { tab: 'request' }],
    ['switching tabs scrolls to the top', { ...initialDetailState, scroll: 9 }, { type: 'tab', delta: 1, tabs }, { scroll: 0 }],
    ['scroll down', initialDetailState, { type: 'scroll', delta: 3, length: 100, height: 10 }, { scroll: 3 }],
    ['scroll clamps at the end', initialDetailState, { type: 'scroll', delta: 500, length: 100, height: 10 }, { scroll: 90 }],
    ['scroll clamps at the top', { ...initialDetailState, scroll: 2 }, { type: 'scroll', delta: -5, length: 100, height: 10 }, { scroll: 0 }],
    ['short documents do not scroll', initialDetailState, { type: 'scroll', delta: 1, length: 5, height: 10 }, { scroll: 0 }],
    ['bottom', initialDetailState, { type: 'scroll-to', where: 'bottom', length: 100, height: 10 }, { scroll: 90 }],
    ['top', { ...initialDetailState, scroll: 50 }, { type: 'scroll-to', where: 'top', length: 100, height: 10 }, { scroll: 0 }],
    [
      'a match off screen is scrolled into view with context',
      initialDetailState,
      { type: 'search', query: 'x', match: { line: 40, start: 2 }, length: 100, height: 10 },
      { scroll: 38, search: { query: 'x', match: { line: 40, start: 2 } } },
    ],
    [
      'a match on screen does not scroll',
      initialDetailState,
      { type: 'search', query: 'x', match: { line: 4, start: 0 }, length: 100, height: 10 },
      { scroll: 0 },
    ],
    ['no match keeps the query', initialDetailState, { type: 'search', query: 'x', match: null, length: 100, height: 10 }, { search: { query: 'x', match: null } }],
    ['reset', { tab: 'websocket', scroll: 5, search: { query: 'a', match: null } }, { type: 'reset' }, { tab: 'request', scroll: 0, search: null }],
    ['reset keeps a tab every flow has', { tab: 'timing', scroll: 5, search: null }, { type: 'reset' }, { tab: 'timing', scroll: 0 }],
  ])('%s', (_name, state, action, expected) => {
    expect(detailReducer(state, action)).toMatchObject(expected);
  });
});
