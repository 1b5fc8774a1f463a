import { describe, expect, it } from 'vitest';
import { FlowStore } from '../../src/store/flow-store.js';
import { RuleList } from '../../src/store/rule-list.js';
import { runTui } from '../../src/tui/index.js';
import { ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN, SHOW_CURSOR } from '../../src/tui/terminal.js';
import { FakeStdin, FakeStdout, MemoryToggles, RecordingCommands } from './harness.js';

function context(stdin: FakeStdin, stdout: FakeStdout) {
  return {
    store: new FlowStore({ notifyIntervalMs: 0 }),
    commands: new RecordingCommands(),
    info: { listen: '127.0.0.1:9', mode: 'regular', session: null },
    toggles: new MemoryToggles(),
    rules: new RuleList(),
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: stdout as unknown as NodeJS.WriteStream,
  };
}

describe('runTui', () => {
  it('runs on the alternate screen and restores the terminal when the user quits', async () => {
    const stdin = new FakeStdin();
    const stdout = new FakeStdout(80, 24);
    const exitHooks = process.listenerCount('exit');
    const done = runTui(context(stdin, stdout));
    expect(stdout.frames[0]).toBe(ENTER_ALT_SCREEN);
    expect(process.listenerCount('exit')).toBeGreaterThan(exitHooks);
    // Wait until Ink listens for keys, then quit.
    for (let i = 0; i < 200 && stdin.listenerCount('readable') === 0; i++) await new Promise((r) => setTimeout(r, 5));
    stdin.write('q');
    await done;
    expect(stdout.frames.at(-1)).toBe(LEAVE_ALT_SCREEN + SHOW_CURSOR);
    expect(process.listenerCount('exit')).toBe(exitHooks);
  });

  it('ends like a quit on SIGTERM', async () => {
    const stdin = new FakeStdin();
    const stdout = new FakeStdout(80, 24);
    const before = process.listenerCount('SIGTERM');
    const done = runTui(context(stdin, stdout));
    // At least ours (Ink adds its own too when it thinks it runs in CI).
    expect(process.listenerCount('SIGTERM')).toBeGreaterThan(before);
    process.emit('SIGTERM', 'SIGTERM');
    await done;
    expect(stdout.frames.at(-1)).toBe(LEAVE_ALT_SCREEN + SHOW_CURSOR);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('refuses to start without a terminal on stdin', async () => {
    const stdout = new FakeStdout(80, 24);
    await expect(runTui(context(new FakeStdin(false), stdout))).rejects.toThrow(/--no-tui/);
    expect(stdout.frames).toEqual([]);
  });
});
