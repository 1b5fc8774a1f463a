import { describe, expect, it } from 'vitest';
import { promptReducer, type PromptAction, type PromptState } from '../../../src/tui/state/prompt-state.js';

const at = (text: string, cursor = text.length): PromptState => ({ kind: 'filter', text, cursor, error: null, flowId: null });

describe('promptReducer', () => {
  it.each<[string, PromptState | null, PromptAction, Partial<PromptState> | null]>([
    ['open prefilled', null, { type: 'open', kind: 'search', text: 'abc' }, { kind: 'search', text: 'abc', cursor: 3 }],
    ['insert at the cursor', at('ac', 1), { type: 'insert', text: 'b' }, { text: 'abc', cursor: 2 }],
    ['paste with a line break stays one line', at(''), { type: 'insert', text: 'a\nb' }, { text: 'a b', cursor: 3 }],
    ['backspace', at('abc'), { type: 'backspace' }, { text: 'ab', cursor: 2 }],
    ['backspace at the start', at('abc', 0), { type: 'backspace' }, { text: 'abc', cursor: 0 }],
    ['left', at('abc'), { type: 'left' }, { cursor: 2 }],
    ['right at the end', at('abc'), { type: 'right' }, { cursor: 3 }],
    ['home', at('abc'), { type: 'home' }, { cursor: 0 }],
    ['end', at('abc', 1), { type: 'end' }, { cursor: 3 }],
    ['kill to the start', at('abcdef', 3), { type: 'kill-line' }, { text: 'def', cursor: 0 }],
    ['kill a word', at('~d foo ~m GET'), { type: 'kill-word' }, { text: '~d foo ~m ', cursor: 10 }],
    ['error', at('~x'), { type: 'error', error: '^ unknown' }, { error: '^ unknown' }],
    ['typing clears the error', { ...at('~x'), error: '^' }, { type: 'insert', text: 'y' }, { error: null }],
    ['close', at('x'), { type: 'close' }, null],
    ['edits without a prompt do nothing', null, { type: 'insert', text: 'x' }, null],
  ])('%s', (_name, state, action, expected) => {
    const out = promptReducer(state, action);
    if (expected === null) expect(out).toBeNull();
    else expect(out).toMatchObject(expected);
  });
});
