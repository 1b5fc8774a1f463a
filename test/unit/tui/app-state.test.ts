import { describe, expect, it } from 'vitest';
import { appReducer, initialAppState, type AppAction, type AppState } from '../../../src/tui/state/app-state.js';

const run = (...actions: AppAction[]): AppState => actions.reduce(appReducer, initialAppState);

describe('appReducer', () => {
  it('opens a flow in the detail view and selects it in the list', () => {
    const s = run({ type: 'open-detail', seq: 7 });
    expect(s.view).toBe('detail');
    expect(s.detailSeq).toBe(7);
    expect(s.list).toMatchObject({ follow: false, selectedSeq: 7 });
  });

  it('resets the detail view for another flow but not for the same one', () => {
    const scrolled = run({ type: 'open-detail', seq: 7 }, { type: 'detail', action: { type: 'scroll', delta: 4, length: 50, height: 10 } });
    expect(appReducer(scrolled, { type: 'open-detail', seq: 7 }).detail.scroll).toBe(4);
    expect(appReducer(scrolled, { type: 'open-detail', seq: 8 }).detail.scroll).toBe(0);
  });

  it('back closes the help first, then the detail view', () => {
    const s = run({ type: 'open-detail', seq: 1 }, { type: 'toggle-help' });
    const once = appReducer(s, { type: 'back' });
    expect(once.help.open).toBe(false);
    expect(once.view).toBe('detail');
    expect(appReducer(once, { type: 'back' }).view).toBe('list');
  });

  it('opens the rules pane and goes back where it came from', () => {
    const fromList = run({ type: 'open-rules' });
    expect(fromList.view).toBe('rules');
    expect(appReducer(fromList, { type: 'back' }).view).toBe('list');
    const fromDetail = run({ type: 'open-detail', seq: 3 }, { type: 'open-rules' });
    expect(fromDetail.view).toBe('rules');
    const back = appReducer(fromDetail, { type: 'back' });
    expect(back.view).toBe('detail');
    expect(back.detailSeq).toBe(3);
    // Opening it again while open changes nothing (and does not forget where to go back to).
    expect(appReducer(fromDetail, { type: 'open-rules' })).toBe(fromDetail);
  });

  it('the rules pane keeps its selection between visits', () => {
    const rules = [{ id: 'a' }, { id: 'b' }];
    const s = run({ type: 'open-rules' }, { type: 'rules', action: { type: 'move', delta: 1, rules, height: 5 } }, { type: 'back' }, { type: 'open-rules' });
    expect(s.rules.selectedId).toBe('b');
  });

  it('help over the rules pane closes first', () => {
    const s = run({ type: 'open-rules' }, { type: 'toggle-help' });
    const once = appReducer(s, { type: 'back' });
    expect(once.help.open).toBe(false);
    expect(once.view).toBe('rules');
  });

  it.each<[string, AppAction[], (s: AppState) => unknown, unknown]>([
    ['help toggles', [{ type: 'toggle-help' }], (s) => s.help.open, true],
    ['help scroll clamps', [{ type: 'toggle-help' }, { type: 'help-scroll', delta: 100, length: 30, height: 10 }], (s) => s.help.scroll, 20],
    ['log toggles', [{ type: 'toggle-log' }, { type: 'toggle-log' }, { type: 'toggle-log' }], (s) => s.showLog, true],
    ['message', [{ type: 'message', text: 'hi', level: 'warn' }], (s) => s.message, { text: 'hi', level: 'warn' }],
    ['clear message', [{ type: 'message', text: 'hi', level: 'info' }, { type: 'clear-message' }], (s) => s.message, null],
    ['prompt', [{ type: 'prompt', action: { type: 'open', kind: 'filter', text: '' } }, { type: 'prompt', action: { type: 'insert', text: '~s' } }], (s) => s.prompt?.text, '~s'],
  ])('%s', (_name, actions, pick, expected) => {
    expect(pick(run(...actions))).toEqual(expected);
  });

  it('clear-message without a message keeps the state object', () => {
    expect(appReducer(initialAppState, { type: 'clear-message' })).toBe(initialAppState);
  });
});
