import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { charKey, promptKey, specialKey, takeKey } from '../../../src/tui/input.js';

const noKey: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
  super: false, hyper: false, capsLock: false, numLock: false,
};

describe('specialKey', () => {
  it.each<[string, Partial<Key>, string | null | undefined]>([
    ['', { upArrow: true }, 'up'],
    ['', { pageDown: true }, 'pgdn'],
    ['', { return: true }, 'enter'],
    ['', { tab: true, shift: true }, 'shift+tab'],
    ['', { delete: true }, 'backspace'],
    ['', { escape: true, meta: true }, 'esc'],
    ['c', { ctrl: true }, 'ctrl+c'],
    ['j', {}, undefined],
    ['abc', {}, undefined],
  ])('%j %j → %s', (input, flags, name) => {
    const ev = specialKey(input, { ...noKey, ...flags });
    expect(ev === null ? undefined : ev.name).toBe(name);
  });
});

describe('charKey', () => {
  it.each([
    ['\r', 'enter'],
    ['\t', 'tab'],
    ['\x7f', 'backspace'],
    [' ', 'space'],
    ['\x03', 'ctrl+c'],
    ['G', 'G'],
    ['/', '/'],
  ])('%j → %s', (ch, name) => expect(charKey(ch)).toBe(name));
});

describe('takeKey', () => {
  it.each<[string, 'keys' | 'text', string | null, string, string]>([
    ['jjk', 'keys', 'j', 'j', 'jk'],
    ['f~d foo\r', 'keys', 'f', 'f', '~d foo\r'],
    ['~d foo\r', 'text', null, '~d foo', '\r'],
    ['\rrest', 'text', 'enter', '\r', 'rest'],
    [' a', 'text', null, ' a', ''],
    ['😀x', 'keys', '😀', '😀', 'x'],
  ])('%j (%s) → %s', (raw, mode, name, text, rest) => {
    const [ev, left] = takeKey(raw, mode);
    expect(ev).toEqual({ name, text });
    expect(left).toBe(rest);
  });
});

describe('promptKey', () => {
  it.each([
    [{ name: 'enter', text: '' }, 'submit'],
    [{ name: 'esc', text: '' }, 'cancel'],
    [{ name: 'ctrl+c', text: '' }, 'quit'],
    [{ name: null, text: 'abc' }, { type: 'insert', text: 'abc' }],
    [{ name: 'backspace', text: '' }, { type: 'backspace' }],
    [{ name: 'ctrl+u', text: '' }, { type: 'kill-line' }],
    [{ name: 'ctrl+w', text: '' }, { type: 'kill-word' }],
    [{ name: 'left', text: '' }, { type: 'left' }],
    [{ name: 'space', text: ' ' }, { type: 'insert', text: ' ' }],
    [{ name: 'x', text: 'x' }, { type: 'insert', text: 'x' }],
    [{ name: 'pgdn', text: '' }, null],
  ])('%j → %j', (ev, out) => expect(promptKey(ev)).toEqual(out));
});
