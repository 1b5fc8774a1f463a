import { describe, expect, it } from 'vitest';
import type { CommandResult, ProxyCommand } from '../../../src/proxy/core/commands.js';
import { FlowStore } from '../../../src/store/flow-store.js';
import type { RuleEntry } from '../../../src/store/rule-list.js';
import { MAX_CLIPBOARD_CHARS, runTuiCommand, submitPrompt, type CommandDeps } from '../../../src/tui/commands.js';
import { EMPTY_DOC } from '../../../src/tui/doc.js';
import type { TuiCommand } from '../../../src/tui/keymap.js';
import { FilterIndex } from '../../../src/tui/list/filter-index.js';
import { appReducer, initialAppState, type AppAction, type AppState } from '../../../src/tui/state/app-state.js';
import { makeFlow } from '../../helpers/make-flow.js';

/** Deps over a real store, with dispatched actions folded into `state` and commands recorded. */
function setup(opts: { answer?: CommandResult; state?: Partial<AppState>; pausedB?: boolean; rules?: RuleEntry[] } = {}) {
  const store = new FlowStore({ notifyIntervalMs: 0 });
  store.add(makeFlow({ id: 'a', request: { host: 'one.example' } }));
  store.add(makeFlow({ id: 'b', request: { host: 'two.example', path: '/two' }, marked: true, ...(opts.pausedB ? { phase: 'request-paused' as const, response: null } : {}) }));
  const snap = store.getSnapshot();
  const index = new FilterIndex(null);
  index.sync(snap);
  const sent: ProxyCommand[] = [];
  const copied: string[] = [];
  const actions: AppAction[] = [];
  let quit = 0;
  const deps: CommandDeps = {
    state: { ...initialAppState, ...opts.state },
    dispatch: (a) => {
      actions.push(a);
      deps.state = appReducer(deps.state, a);
    },
    index,
    flowAt: snap.at,
    heldCount: snap.count,
    toggles: { cache: false, noCache: true, intercept: '~u /old' },
    commands: {
      execute: async (c) => {
        sent.push(c);
        return opts.answer ?? { ok: true };
      },
    },
    listHeight: 10,
    detailHeight: 10,
    helpLength: 50,
    helpHeight: 10,
    rules: opts.rules ?? [],
    rulesHeight: 5,
    detail: null,
    copy: (t) => copied.push(t),
    quit: () => quit++,
  };
  return { deps, sent, copied, actions, quits: () => quit };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('runTuiCommand: proxy commands for the selected flow (the newest, while following)', () => {
  it.each<[TuiCommand, ProxyCommand]>([
    ['flow.mark', { type: 'mark', flowId: 'b', marked: false }],
    ['flow.replay', { type: 'replay', flowId: 'b' }],
    ['flow.block-host', { type: 'block-host', host: 'two.example' }],
    ['flows.resume-all', { type: 'resume-all' }],
    ['flows.clear', { type: 'clear' }],
    ['cache.toggle', { type: 'set-cache', enabled: true }],
    ['no-cache.toggle', { type: 'set-no-cache', enabled: false }],
  ])('%s sends %j', async (command, expected) => {
    const t = setup();
    runTuiCommand(command, t.deps);
    await settle();
    expect(t.sent).toEqual([expected]);
    expect(t.deps.state.message?.level).toBe('info');
  });

  it('acts on the detail view’s flow there', async () => {
    const t = setup({ state: { view: 'detail', detailSeq: 0 } });
    runTuiCommand('flow.mark', t.deps);
    await settle();
    expect(t.sent).toEqual([{ type: 'mark', flowId: 'a', marked: true }]);
  });

  it.each<[TuiCommand, ProxyCommand]>([
    ['flow.resume', { type: 'resume', flowId: 'b' }],
    ['flow.kill', { type: 'kill', flowId: 'b' }],
  ])('%s sends %j for a paused flow', async (command, expected) => {
    const t = setup({ pausedB: true });
    runTuiCommand(command, t.deps);
    await settle();
    expect(t.sent).toEqual([expected]);
  });

  it.each<TuiCommand>(['flow.resume', 'flow.kill', 'flow.respond', 'flow.edit', 'flow.edit-url'])('%s refuses a flow that is not paused', async (command) => {
    const t = setup();
    runTuiCommand(command, t.deps);
    await settle();
    expect(t.sent).toEqual([]);
    expect(t.deps.state.message).toEqual({ text: 'that flow is not paused', level: 'warn' });
    expect(t.deps.state.prompt).toBeNull();
  });

  it('shows the error of a refused command', async () => {
    const t = setup({ answer: { ok: false, error: 'flow is not paused' }, pausedB: true });
    runTuiCommand('flow.resume', t.deps);
    await settle();
    expect(t.deps.state.message).toEqual({ text: 'resume failed: flow is not paused', level: 'error' });
  });

  it('copies the selected request as curl', () => {
    const t = setup();
    runTuiCommand('flow.copy-curl', t.deps);
    expect(t.copied).toEqual(["curl http://two.example/two -H 'User-Agent: curl/8.5.0' -H 'Accept: */*'"]);
    expect(t.deps.state.message?.text).toMatch(/copied curl command/);
  });

  it('quits', () => {
    const t = setup();
    runTuiCommand('app.quit', t.deps);
    expect(t.quits()).toBe(1);
  });

  it('opens the selected flow', () => {
    const t = setup();
    runTuiCommand('move.up', t.deps);
    runTuiCommand('view.open', t.deps);
    expect(t.deps.state).toMatchObject({ view: 'detail', detailSeq: 0 });
  });

  it('prefills the intercept prompt with the current filter', () => {
    const t = setup();
    runTuiCommand('intercept.prompt', t.deps);
    expect(t.deps.state.prompt).toMatchObject({ kind: 'intercept', text: '~u /old' });
  });
});

describe('rules pane commands', () => {
  const RULES: RuleEntry[] = [
    { id: 'config:0', type: 'block', explain: 'block ~d ads.example with 403', enabled: true, source: 'config' },
    { id: 'user:1', type: 'block', explain: 'block ~d tracker.example with 403', enabled: false, source: 'settings' },
    { id: 'auth', type: 'auth', explain: 'require proxy authentication', enabled: true, source: 'builtin' },
  ];
  const inRules = (extra: Partial<AppState> = {}) => setup({ rules: RULES, state: { view: 'rules', ...extra } });

  it('p opens the pane', () => {
    const t = setup();
    runTuiCommand('rules.open', t.deps);
    expect(t.deps.state.view).toBe('rules');
  });

  it.each<[string, number, ProxyCommand]>([
    ['switches off a rule that is on', 0, { type: 'toggle-rule', ruleId: 'config:0', enabled: false }],
    ['switches on a rule that is off', 1, { type: 'toggle-rule', ruleId: 'user:1', enabled: true }],
  ])('toggle %s', async (_name, moves, expected) => {
    const t = inRules();
    for (let i = 0; i < moves; i++) runTuiCommand('move.down', t.deps);
    runTuiCommand('rules.toggle', t.deps);
    await settle();
    expect(t.sent).toEqual([expected]);
    expect(t.deps.state.message?.level).toBe('info');
  });

  it('moves within the rules, not the flow list', () => {
    const t = inRules();
    runTuiCommand('move.bottom', t.deps);
    expect(t.deps.state.rules.selectedId).toBe('auth');
    runTuiCommand('move.up', t.deps);
    expect(t.deps.state.rules.selectedId).toBe('user:1');
    runTuiCommand('move.page-up', t.deps);
    expect(t.deps.state.rules.selectedId).toBe('config:0');
    expect(t.deps.state.list).toEqual(initialAppState.list);
  });

  it.each<[string, number, ProxyCommand[], RegExp]>([
    ['removes a user rule', 1, [{ type: 'remove-rule', ruleId: 'user:1' }], /^removed: block ~d tracker/],
    ['refuses a config rule', 0, [], /config file are edited in the file/],
    ['refuses a built-in policy', 2, [], /built-in policies cannot be removed/],
  ])('remove %s', async (_name, moves, sent, message) => {
    const t = inRules();
    for (let i = 0; i < moves; i++) runTuiCommand('move.down', t.deps);
    runTuiCommand('rules.remove', t.deps);
    await settle();
    expect(t.sent).toEqual(sent);
    expect(t.deps.state.message?.text).toMatch(message);
  });

  it('says so when there is no rule to act on', async () => {
    const t = setup({ state: { view: 'rules' } });
    runTuiCommand('rules.toggle', t.deps);
    runTuiCommand('rules.remove', t.deps);
    await settle();
    expect(t.sent).toEqual([]);
    expect(t.deps.state.message).toEqual({ text: 'no rule selected', level: 'warn' });
  });
});

describe('submitPrompt', () => {
  function withPrompt(kind: 'filter' | 'intercept', text: string, state: Partial<AppState> = {}) {
    const t = setup({ state: { ...state, prompt: { kind, text, cursor: text.length, error: null, flowId: null } } });
    submitPrompt(t.deps);
    return t;
  }

  it('sets a valid view filter', () => {
    const t = withPrompt('filter', '~d one');
    expect(t.deps.state.filter?.expression).toBe('~d one');
    expect(t.deps.state.prompt).toBeNull();
  });

  it('keeps the old filter and the prompt, with a caret, on a syntax error', () => {
    const old = { expression: '~d one', predicate: () => true };
    const t = withPrompt('filter', '~d one & (~m GET', { filter: old });
    expect(t.deps.state.filter).toBe(old);
    expect(t.deps.state.prompt?.error).toMatch(/^ +\^ /);
    expect(t.deps.state.prompt?.error?.indexOf('^')).toBe(9);
  });

  it('clears the filter when empty', () => {
    const t = withPrompt('filter', '  ', { filter: { expression: '~s', predicate: () => true } });
    expect(t.deps.state.filter).toBeNull();
  });

  it.each<[string, ProxyCommand]>([
    ['~u /api', { type: 'set-intercept', filter: '~u /api', on: ['request'] }],
    ['', { type: 'set-intercept', filter: null, on: ['request'] }],
    ['res: ~u /api', { type: 'set-intercept', filter: '~u /api', on: ['response'] }],
    ['both:~m POST', { type: 'set-intercept', filter: '~m POST', on: ['request', 'response'] }],
  ])('intercept %j', async (text, expected) => {
    const t = withPrompt('intercept', text);
    await settle();
    expect(t.sent).toEqual([expected]);
  });

  it('refuses a bad intercept filter without sending it', async () => {
    const t = withPrompt('intercept', '~nope');
    await settle();
    expect(t.sent).toEqual([]);
    expect(t.deps.state.prompt?.error).toContain('^');
  });

  it('search without a document does nothing', () => {
    const t = setup({ state: { prompt: { kind: 'search', text: 'x', cursor: 1, error: null, flowId: null } } });
    t.deps.detail = { flow: undefined, tabs: [], doc: EMPTY_DOC };
    submitPrompt(t.deps);
    expect(t.deps.state.message?.text).toBe('no match for x');
  });
});

describe('copy as curl', () => {
  it('refuses a command too long for the terminal clipboard', () => {
    const t = setup({ state: { view: 'detail', detailSeq: 0 } });
    const big = makeFlow({ request: { method: 'POST', body: { size: MAX_CLIPBOARD_CHARS, bytes: Buffer.alloc(MAX_CLIPBOARD_CHARS, 0x61), truncated: false, sha256: null, state: 'complete' } } });
    t.deps.flowAt = () => big;
    runTuiCommand('flow.copy-curl', t.deps);
    expect(t.copied).toEqual([]);
    expect(t.deps.state.message).toMatchObject({ level: 'warn', text: expect.stringContaining('too long for the terminal clipboard') });
  });
});
