/**
 * Rendering the real App against a real FlowStore in a fake terminal of a chosen size, with a
 * CommandApi that records what it is sent. Frames are awaited by polling `lastFrame()`, never by
 * sleeping (STYLE.md, "Test frames, not sleeps").
 */
import { EventEmitter } from 'node:events';
import { render } from 'ink';
import type { CommandApi, CommandResult, ProxyCommand } from '../../src/proxy/core/commands.js';
import { FlowStore } from '../../src/store/flow-store.js';
import { RuleList } from '../../src/store/rule-list.js';
import { App, type AppProps } from '../../src/tui/app.js';
import type { ToggleState } from '../../src/tui/commands.js';
import { ThemeContext, monoTheme } from '../../src/tui/theme.js';

export class FakeStdout extends EventEmitter {
  readonly isTTY = true;
  frames: string[] = [];
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (data: string): boolean => {
    this.frames.push(data);
    return true;
  };
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

export class FakeStdin extends EventEmitter {
  constructor(readonly isTTY = true) {
    super();
  }
  private pending: string[] = [];
  write(data: string): void {
    this.pending.push(data);
    this.emit('readable');
  }
  read = (): string | null => this.pending.shift() ?? null;
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

/** A CommandApi that records commands and answers ok (or what `answer` says). */
export class RecordingCommands implements CommandApi {
  readonly sent: ProxyCommand[] = [];
  answer: (c: ProxyCommand) => CommandResult = () => ({ ok: true });
  async execute(command: ProxyCommand): Promise<CommandResult> {
    this.sent.push(command);
    return this.answer(command);
  }
}

/** Toggles held in memory, with the subscribe/getSnapshot pair the TUI reads. */
export class MemoryToggles {
  private state: ToggleState = { cache: false, noCache: false, intercept: null };
  private readonly listeners = new Set<() => void>();
  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  getSnapshot = () => this.state;
  set(change: Partial<ToggleState>): void {
    this.state = { ...this.state, ...change };
    for (const l of this.listeners) l();
  }
}

export interface TuiHarness {
  store: FlowStore;
  commands: RecordingCommands;
  toggles: MemoryToggles;
  /** The rule list the rules pane reads (the runtime's own store type); `set` it to change rules. */
  rules: RuleList;
  copied: string[];
  stdout: FakeStdout;
  lastFrame(): string;
  /** Send keys: plain text, or names from KEYS. */
  press(...keys: string[]): void;
  /** Poll until the frame satisfies `check` (a substring or a predicate); returns that frame. */
  waitForFrame(check: string | ((frame: string) => boolean), what?: string, timeoutMs?: number): Promise<string>;
  /** Resolves when the app exits by itself (q, Ctrl-C). */
  exited: Promise<unknown>;
  unmount(): void;
}

/** Escape sequences for named keys. */
export const KEYS = {
  enter: '\r',
  esc: '\x1b',
  tab: '\t',
  up: '\x1b[A',
  down: '\x1b[B',
  pgup: '\x1b[5~',
  pgdn: '\x1b[6~',
  backspace: '\x7f',
  ctrlC: '\x03',
} as const;

export interface RenderOptions {
  columns?: number;
  rows?: number;
  store?: FlowStore;
  rules?: RuleList;
  /** The command API. @default a RecordingCommands */
  commands?: RecordingCommands;
  /** Status-bar facts. @default a proxy on 127.0.0.1:8080 recording `test-session` */
  info?: AppProps['info'];
  /** Where `E` writes relative file names. @default the current directory */
  exportDir?: string;
  /** Backend states for the backends pane (`B`). @default none (not in reverse mode) */
  backends?: AppProps['backends'];
}

export function renderTui(opts: RenderOptions = {}): TuiHarness {
  const store = opts.store ?? new FlowStore({ notifyIntervalMs: 0, maxFlows: 200_000 });
  const commands = opts.commands ?? new RecordingCommands();
  const toggles = new MemoryToggles();
  const rules = opts.rules ?? new RuleList();
  const copied: string[] = [];
  const stdout = new FakeStdout(opts.columns ?? 100, opts.rows ?? 30);
  const stdin = new FakeStdin();
  const instance = render(
    <ThemeContext.Provider value={monoTheme}>
      <App
        store={store}
        commands={commands}
        toggles={toggles}
        rules={rules}
        info={opts.info ?? { listen: '127.0.0.1:8080', mode: 'regular', session: 'test-session' }}
        copy={(t) => copied.push(t)}
        {...(opts.exportDir ? { exportDir: opts.exportDir } : {})}
        {...(opts.backends ? { backends: opts.backends } : {})}
      />
    </ThemeContext.Provider>,
    {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    },
  );
  const lastFrame = () => stdout.frames[stdout.frames.length - 1] ?? '';
  return {
    store,
    commands,
    toggles,
    rules,
    copied,
    stdout,
    lastFrame,
    press: (...keys) => {
      for (const k of keys) stdin.write(k);
    },
    async waitForFrame(check, what, timeoutMs = 5000) {
      const ok = typeof check === 'string' ? (f: string) => f.includes(check) : check;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const frame = lastFrame();
        if (ok(frame)) return frame;
        if (Date.now() > deadline) throw new Error(`no frame with ${what ?? String(check)} within ${timeoutMs} ms; last frame:\n${frame}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    exited: instance.waitUntilExit(),
    unmount: () => {
      instance.unmount();
      instance.cleanup();
    },
  };
}
