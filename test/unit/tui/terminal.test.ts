import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN, SHOW_CURSOR, enterAltScreen, osc52 } from '../../../src/tui/terminal.js';
import { noColorRequested } from '../../../src/tui/theme.js';

describe('osc52', () => {
  it('wraps base64 of the UTF-8 text', () => {
    expect(osc52('curl ✓')).toBe(`\x1b]52;c;${Buffer.from('curl ✓').toString('base64')}\x07`);
  });
});

describe('enterAltScreen', () => {
  function fake() {
    const written: string[] = [];
    const proc = new EventEmitter();
    const guard = enterAltScreen({ write: (s: string) => written.push(s) > 0 } as never, proc as never);
    return { written, proc, guard };
  }

  it('enters, and leaves once however often asked', () => {
    const { written, guard } = fake();
    expect(written).toEqual([ENTER_ALT_SCREEN]);
    guard.restore();
    guard.restore();
    expect(written).toEqual([ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN + SHOW_CURSOR]);
  });

  it.each(['exit', 'uncaughtExceptionMonitor'])('restores the terminal on %s', (event) => {
    const { written, proc } = fake();
    proc.emit(event, new Error('boom'));
    expect(written.at(-1)).toBe(LEAVE_ALT_SCREEN + SHOW_CURSOR);
  });

  it('removes its hooks on dispose', () => {
    const { proc, guard } = fake();
    guard.dispose();
    expect(proc.listenerCount('exit')).toBe(0);
    expect(proc.listenerCount('uncaughtExceptionMonitor')).toBe(0);
  });
});

describe('noColorRequested', () => {
  it.each([
    [{}, false],
    [{ NO_COLOR: '' }, false],
    [{ NO_COLOR: '1' }, true],
    [{ NO_COLOR: 'yes' }, true],
  ])('%j → %s', (env, out) => expect(noColorRequested(env)).toBe(out));
});
