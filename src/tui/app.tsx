import { Box, useApp, useStdin, useStdout } from 'ink';
import { useCallback, useMemo, useReducer, useRef, useSyncExternalStore } from 'react';
import type { CommandApi } from '../proxy/core/commands.js';
import type { LogEntry, StoreSnapshot } from '../store/flow-store.js';
import type { RuleEntry } from '../store/rule-list.js';
import { runTuiCommand, submitPrompt, type CommandDeps, type ToggleState } from './commands.js';
import { DetailView } from './components/detail-view.js';
import { EventLog } from './components/event-log.js';
import { EXPORT_CHOOSER_ROWS, ExportChooser } from './components/export-chooser.js';
import { FlowList } from './components/flow-list.js';
import { HelpOverlay, helpLines } from './components/help-overlay.js';
import { PromptLine } from './components/prompt-line.js';
import { RulesPane } from './components/rules-pane.js';
import { StatusBar } from './components/status-bar.js';
import { EMPTY_DOC } from './doc.js';
import { availableTabs, tabDoc } from './detail/tabs.js';
import { useFilterIndex } from './hooks/use-filter-index.js';
import { useKeyStream } from './hooks/use-key-stream.js';
import { usePauseClock } from './hooks/use-pause-clock.js';
import { useRequestRate } from './hooks/use-request-rate.js';
import { useTerminalSize } from './hooks/use-terminal-size.js';
import { promptKey, type KeyEvent } from './input.js';
import { hintLine, lookup, type KeyContext } from './keymap.js';
import { layoutColumns } from './list/columns.js';
import { screenLayout } from './layout.js';
import { editInTerminal } from './pause/editor.js';
import { activeRuleCount } from './rules/rule-format.js';
import { appReducer, initialAppState } from './state/app-state.js';
import { selectedIndex } from './state/list-state.js';
import { useSessionBodies } from './detail/use-session-bodies.js';
import { osc52 } from './terminal.js';
import { BackendsPane } from './backends/backends-pane.js';
import { isBackendsCommand, runBackendsCommand, type BackendsCommandDeps } from './backends/backends-commands.js';
import { backendsSummary } from './backends/backends-format.js';
import { backendsPaneReducer, initialBackendsPaneState } from './backends/backends-state.js';
import { useBackends, type BackendsSource } from './backends/use-backends.js';

/** A subscribe/getSnapshot pair, as `useSyncExternalStore` wants it. */
export interface External<T> {
  subscribe(listener: () => void): () => void;
  getSnapshot(): T;
}

export interface AppProps {
  store: External<StoreSnapshot>;
  commands: CommandApi;
  /** Static facts for the status bar; `readOnly` for a recorded session without a proxy (`proxyctl open`). */
  info: { listen: string; mode: string; session: string | null; readOnly?: boolean };
  toggles: External<ToggleState>;
  /** The rules in force, for the rules pane and the status bar. @default no rules */
  rules?: External<readonly RuleEntry[]>;
  /** Put text on the user's clipboard. @default an OSC 52 escape written to stdout */
  copy?: (text: string) => void;
  /** Where `E` writes a relative file name. @default process.cwd() */
  exportDir?: string;
  /** Backend states in reverse mode, polled for the backends pane (`B`) and the status bar. @default none */
  backends?: BackendsSource;
}

const LIST_CONTEXTS: readonly KeyContext[] = ['list', 'global'];
const DETAIL_CONTEXTS: readonly KeyContext[] = ['detail', 'global'];
const HELP_CONTEXTS: readonly KeyContext[] = ['help', 'global'];
const RULES_CONTEXTS: readonly KeyContext[] = ['rules', 'global'];
/** The export chooser takes every key it knows and ignores the rest (no global keys behind it). */
const EXPORT_CONTEXTS: readonly KeyContext[] = ['export'];
const BACKENDS_CONTEXTS: readonly KeyContext[] = ['backends', 'global'];

const NO_RULES: readonly RuleEntry[] = [];
const NO_RULE_LIST: External<readonly RuleEntry[]> = { subscribe: () => () => {}, getSnapshot: () => NO_RULES };

/** The whole terminal UI: reads the store, keeps UI state in one reducer, sends commands. */
export function App({ store, commands, info, toggles: toggleSource, rules: ruleSource = NO_RULE_LIST, copy, exportDir, backends: backendsSource }: AppProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const { stdin } = useStdin();
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const toggles = useSyncExternalStore(toggleSource.subscribe, toggleSource.getSnapshot);
  const rules = useSyncExternalStore(ruleSource.subscribe, ruleSource.getSnapshot);
  const size = useTerminalSize();
  const [state, dispatch] = useReducer(appReducer, initialAppState);
  // The backends pane opens over whatever view is current and keeps its own state (src/tui/backends).
  const [backendsPane, backendsDispatch] = useReducer(backendsPaneReducer, initialBackendsPaneState);
  const backends = useBackends(backendsSource, backendsPane.open);
  const index = useFilterIndex(snapshot, state.filter?.predicate ?? null);
  const rate = useRequestRate(store);
  const now = usePauseClock(snapshot.paused > 0);
  const choosingExport = state.export !== null && state.export.step === 'format' && !state.prompt;
  const screen = screenLayout(size.columns, size.rows, {
    showLog: state.showLog,
    promptError: state.prompt?.error != null,
    ...(choosingExport ? { promptRows: EXPORT_CHOOSER_ROWS } : {}),
  });
  const columns = useMemo(() => layoutColumns(screen.width), [screen.width]);
  const help = useMemo(() => helpLines(), []);
  const logEntries = useMemo(() => mergeLog(snapshot.log, state.notes), [snapshot.log, state.notes]);

  const detailFlow = state.view === 'detail' && state.detailSeq !== null ? snapshot.at(index.positionOf(state.detailSeq)) : undefined;
  // Bodies the store keeps in the session are read back for the flow looked at (issue 7).
  const lookedAt = state.view === 'detail' ? state.detailSeq : index.seqAt(selectedIndex(state.list, index));
  useSessionBodies(snapshot, lookedAt, lookedAt === null || lookedAt < 0 ? undefined : snapshot.at(index.positionOf(lookedAt)));
  const tabs = useMemo(() => (detailFlow ? availableTabs(detailFlow) : []), [detailFlow]);
  const tab = tabs.includes(state.detail.tab) ? state.detail.tab : 'request';
  const doc = useMemo(() => (detailFlow ? tabDoc(detailFlow, tab, screen.width) : EMPTY_DOC), [detailFlow, tab, screen.width]);

  const contexts = choosingExport ? EXPORT_CONTEXTS : state.help.open ? HELP_CONTEXTS : backendsPane.open ? BACKENDS_CONTEXTS : state.view === 'detail' ? DETAIL_CONTEXTS : state.view === 'rules' ? RULES_CONTEXTS : LIST_CONTEXTS;
  const deps: CommandDeps = {
    state,
    dispatch,
    index,
    flowAt: snapshot.at,
    heldCount: snapshot.count,
    toggles,
    commands,
    listHeight: screen.listRows,
    detailHeight: screen.detailRows,
    helpLength: help.length,
    helpHeight: screen.main,
    rules,
    // The pane's title row takes one row of the main area, as the list's column header does.
    rulesHeight: screen.listRows,
    detail: state.view === 'detail' ? { flow: detailFlow, tabs, doc } : null,
    copy: copy ?? ((text) => stdout.write(osc52(text))),
    quit: () => exit(),
    editText: (text, name) => editInTerminal(text, name, { stdout, stdin }),
    readOnly: info.readOnly ?? false,
    exportTo: { dir: exportDir ?? process.cwd(), label: info.session ?? 'proxyctl', read: snapshot.read },
  };
  // The key handler is stable and reads the newest frame's state through this ref.
  const depsRef = useRef(deps);
  depsRef.current = deps;
  const contextsRef = useRef(contexts);
  contextsRef.current = contexts;
  // The pane's body rows: the main area less its title and column header.
  const backendsRef = useRef<BackendsCommandDeps>({ dispatch: backendsDispatch, length: 0, height: 1 });
  backendsRef.current = { dispatch: backendsDispatch, length: backends.backends.length, height: Math.max(1, screen.listRows - 1) };
  const onKey = useCallback((ev: KeyEvent) => {
    const d = depsRef.current;
    if (d.state.prompt) {
      const action = promptKey(ev);
      if (action === 'submit') submitPrompt(d);
      else if (action === 'cancel') d.dispatch({ type: 'prompt', action: { type: 'close' } });
      else if (action === 'quit') d.quit();
      else if (action) d.dispatch({ type: 'prompt', action });
      return;
    }
    const binding = ev.name === null ? undefined : lookup(ev.name, contextsRef.current);
    if (!binding) return;
    if (isBackendsCommand(binding.command)) runBackendsCommand(binding.command, backendsRef.current);
    else runTuiCommand(binding.command, d);
  }, []);
  const inputMode = useCallback(() => (depsRef.current.state.prompt ? 'text' : 'keys') as 'text' | 'keys', []);
  useKeyStream(onKey, inputMode, state);

  let main;
  if (state.help.open) main = <HelpOverlay lines={help} scroll={state.help.scroll} width={screen.width} height={screen.main} />;
  else if (backendsPane.open) main = <BackendsPane backends={backends.backends} state={backendsPane} now={backends.now} width={screen.width} height={screen.listRows} />;
  else if (state.view === 'rules') main = <RulesPane rules={rules} state={state.rules} width={screen.width} height={screen.listRows} />;
  else if (state.view === 'detail') {
    main = <DetailView flow={detailFlow} loading={detailFlow === undefined && state.detailSeq !== null && index.positionOf(state.detailSeq) >= 0} now={now} tabs={tabs} state={{ ...state.detail, tab }} doc={doc} width={screen.width} height={screen.detailRows} />;
  } else {
    main = (
      <FlowList
        snapshot={snapshot}
        index={index}
        now={now}
        list={state.list}
        layout={columns}
        width={screen.width}
        height={screen.listRows}
        emptyText={
          state.filter
            ? `no flows match ${state.filter.expression}`
            : info.readOnly
              ? `session ${info.session ?? ''} holds no flows`
              : `no flows yet: point a client at ${info.listen}`
        }
      />
    );
  }
  return (
    <Box flexDirection="column" width={screen.width} height={screen.height}>
      <Box flexDirection="column" height={screen.main}>
        {main}
      </Box>
      {screen.log > 0 && <EventLog entries={logEntries} width={screen.width} height={screen.log} />}
      <StatusBar
        width={screen.width}
        facts={{
          shown: index.length,
          held: snapshot.count,
          paused: snapshot.paused,
          rate,
          filter: state.filter?.expression ?? null,
          older: index.coverage,
          intercept: toggles.intercept,
          cache: toggles.cache,
          noCache: toggles.noCache,
          rules: activeRuleCount(rules),
          backends: backendsSummary(backends.backends),
          listen: info.listen,
          mode: info.mode,
          session: info.session,
          readOnly: info.readOnly ?? false,
        }}
      />
      {choosingExport && state.export ? (
        <ExportChooser state={state.export} width={screen.width} />
      ) : (
        <PromptLine prompt={state.prompt} message={state.message} hints={hintLine(contexts, screen.width)} width={screen.width} />
      )}
    </Box>
  );
}

/** The store's log and the UI's own notes, in time order (both are already in order). */
function mergeLog(log: readonly LogEntry[], notes: readonly LogEntry[]): readonly LogEntry[] {
  if (notes.length === 0) return log;
  const out: LogEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < log.length || j < notes.length) {
    if (j >= notes.length || (i < log.length && log[i]!.time <= notes[j]!.time)) out.push(log[i++]!);
    else out.push(notes[j++]!);
  }
  return out;
}
