import type { Dispatch } from 'react';
import { toCurl } from '../export/curl.js';
import { assertNever } from '../proxy/core/assert-never.js';
import type { CommandApi, CommandResult, ProxyCommand } from '../proxy/core/commands.js';
import type { Flow } from '../proxy/core/flow.js';
import type { RuleEntry } from '../store/rule-list.js';
import { formatFilterError, parseFilter } from '../proxy/filter/index.js';
import type { ExportFormat } from '../export/output-layout.js';
import type { Doc } from './doc.js';
import { findMatch } from './detail/search.js';
import type { DetailTab } from './detail/tabs.js';
import type { TuiCommand } from './keymap.js';
import type { FilterIndex } from './list/filter-index.js';
import type { AppAction, AppState } from './state/app-state.js';
import { selectedIndex } from './state/list-state.js';
import type { EditResult } from './pause/editor.js';
import { parseInterceptSpec } from './pause/pause-format.js';
import * as pauses from './pause/pause-commands.js';
import { removeSelectedRule, toggleSelectedRule } from './rules/rule-commands.js';
import { chooseFormat, openExport, submitExport, type ExportTarget } from './export/export-commands.js';
import { NEEDS_PROXY, READ_ONLY_MESSAGE } from './read-only.js';

/**
 * Terminals cap what OSC 52 may carry (often around 100 KB of base64); a longer command would be
 * cut or dropped silently, so it is refused with a hint instead.
 */
export const MAX_CLIPBOARD_CHARS = 64 * 1024;

/** The toggles the status bar shows and `c`, `C`, `i` change. */
export interface ToggleState {
  cache: boolean;
  noCache: boolean;
  intercept: string | null;
}

/** Everything a key command may read or do, gathered by the app each frame. */
export interface CommandDeps {
  state: AppState;
  dispatch: Dispatch<AppAction>;
  index: FilterIndex;
  /** The flow at a store position (the snapshot's `at`). */
  flowAt(position: number): Flow | undefined;
  /** Flows the store holds (positions `0..heldCount-1`), whatever the filter. */
  heldCount: number;
  toggles: ToggleState;
  commands: CommandApi;
  listHeight: number;
  detailHeight: number;
  helpLength: number;
  helpHeight: number;
  /** The rules in force (the runtime's rule list), as the rules pane shows them. */
  rules: readonly RuleEntry[];
  /** Rule rows the rules pane shows. */
  rulesHeight: number;
  /** The detail view's flow, tabs and current document (null in the list). */
  detail: { flow: Flow | undefined; tabs: readonly DetailTab[]; doc: Doc } | null;
  copy(text: string): void;
  quit(): void;
  /** Let the user edit text in $EDITOR (absent where there is no terminal to hand over). */
  editText?(text: string, name: string): EditResult;
  /** A recorded session without a proxy (`proxyctl open`): live-traffic keys refuse. @default false */
  readOnly?: boolean;
  /** Where `E` writes. @default the current directory, labelled `proxyctl` */
  exportTo?: ExportTarget;
}

/** The flow a flow command applies to: the one in the detail view, else the list's selection. */
export function currentFlow(d: CommandDeps): { flow: Flow; seq: number } | null {
  const seq = d.state.view === 'detail' ? d.state.detailSeq : d.index.seqAt(selectedIndex(d.state.list, d.index));
  if (seq === null || seq < 0) return null;
  const flow = d.flowAt(d.index.positionOf(seq));
  return flow ? { flow, seq } : null;
}

/** Send a proxy command and report its result on the message line. */
export function send(d: CommandDeps, command: ProxyCommand, done: string): void {
  const report = (r: CommandResult) =>
    d.dispatch(r.ok ? { type: 'message', text: r.message ?? done, level: 'info' } : { type: 'message', text: `${command.type} failed: ${r.error}`, level: 'error' });
  d.commands.execute(command).then(report, (err: unknown) => report({ ok: false, error: err instanceof Error ? err.message : String(err) }));
}

function move(d: CommandDeps, kind: 'line' | 'page' | 'end', dir: 1 | -1): void {
  const { state, dispatch } = d;
  if (state.help.open) {
    const delta = kind === 'line' ? dir : kind === 'page' ? dir * d.helpHeight : dir * d.helpLength;
    dispatch({ type: 'help-scroll', delta, length: d.helpLength, height: d.helpHeight });
    return;
  }
  if (state.view === 'detail' && d.detail) {
    const length = d.detail.doc.length;
    const height = d.detailHeight;
    if (kind === 'end') dispatch({ type: 'detail', action: { type: 'scroll-to', where: dir < 0 ? 'top' : 'bottom', length, height } });
    else dispatch({ type: 'detail', action: { type: 'scroll', delta: kind === 'page' ? dir * height : dir, length, height } });
    return;
  }
  if (state.view === 'rules') {
    const { rules } = d;
    const height = d.rulesHeight;
    if (kind === 'end') dispatch({ type: 'rules', action: { type: dir < 0 ? 'top' : 'bottom', rules, height } });
    else dispatch({ type: 'rules', action: { type: 'move', delta: kind === 'page' ? dir * height : dir, rules, height } });
    return;
  }
  const view = d.index;
  const height = d.listHeight;
  if (kind === 'end') dispatch({ type: 'list', action: dir < 0 ? { type: 'top', view, height } : { type: 'bottom', view, height } });
  else dispatch({ type: 'list', action: { type: 'move', delta: kind === 'page' ? dir * height : dir, view, height } });
}

function search(d: CommandDeps, dir: 1 | -1): void {
  const s = d.state.detail.search;
  if (!s || !d.detail) {
    d.dispatch({ type: 'message', text: 'no search yet: press / to search', level: 'warn' });
    return;
  }
  const found = findMatch(d.detail.doc, s.query, s.match, dir, d.state.detail.scroll);
  d.dispatch({ type: 'detail', action: { type: 'search', query: s.query, match: found?.pos ?? null, length: d.detail.doc.length, height: d.detailHeight } });
  if (!found) d.dispatch({ type: 'message', text: `no match for ${s.query}`, level: 'warn' });
  else if (found.wrapped) d.dispatch({ type: 'message', text: dir > 0 ? 'search wrapped to the top' : 'search wrapped to the bottom', level: 'info' });
}

/** Run one key command. */
export function runTuiCommand(command: TuiCommand, d: CommandDeps): void {
  const { state, dispatch } = d;
  dispatch({ type: 'clear-message' });
  if (d.readOnly && NEEDS_PROXY.has(command)) return dispatch({ type: 'message', text: READ_ONLY_MESSAGE, level: 'warn' });
  const withFlow = (fn: (f: { flow: Flow; seq: number }) => void) => {
    const cur = currentFlow(d);
    if (cur) fn(cur);
    else dispatch({ type: 'message', text: 'no flow selected', level: 'warn' });
  };
  switch (command) {
    case 'app.quit':
      return d.quit();
    case 'view.back':
      return dispatch({ type: 'back' });
    case 'view.open':
      return withFlow(({ seq }) => dispatch({ type: 'open-detail', seq }));
    case 'help.toggle':
      return dispatch({ type: 'toggle-help' });
    case 'log.toggle':
      return dispatch({ type: 'toggle-log' });
    case 'move.up':
      return move(d, 'line', -1);
    case 'move.down':
      return move(d, 'line', 1);
    case 'move.page-up':
      return move(d, 'page', -1);
    case 'move.page-down':
      return move(d, 'page', 1);
    case 'move.top':
      return move(d, 'end', -1);
    case 'move.bottom':
      return move(d, 'end', 1);
    case 'tab.next':
    case 'tab.prev':
      if (d.detail) dispatch({ type: 'detail', action: { type: 'tab', delta: command === 'tab.next' ? 1 : -1, tabs: d.detail.tabs } });
      return;
    case 'filter.prompt':
      return dispatch({ type: 'prompt', action: { type: 'open', kind: 'filter', text: state.filter?.expression ?? '' } });
    case 'search.prompt':
      return dispatch({ type: 'prompt', action: { type: 'open', kind: 'search', text: state.detail.search?.query ?? '' } });
    case 'search.next':
      return search(d, 1);
    case 'search.prev':
      return search(d, -1);
    case 'intercept.prompt':
      return dispatch({ type: 'prompt', action: { type: 'open', kind: 'intercept', text: d.toggles.intercept ?? '' } });
    case 'cache.toggle':
      return send(d, { type: 'set-cache', enabled: !d.toggles.cache }, d.toggles.cache ? 'response cache off' : 'response cache on');
    case 'no-cache.toggle':
      return send(d, { type: 'set-no-cache', enabled: !d.toggles.noCache }, d.toggles.noCache ? 'no-cache off' : 'no-cache on');
    case 'flows.clear':
      return send(d, { type: 'clear' }, 'flows cleared');
    case 'flows.resume-all':
      return send(d, { type: 'resume-all' }, 'resumed all paused flows');
    case 'flow.mark':
      return withFlow(({ flow, seq }) => {
        d.index.watch(seq);
        send(d, { type: 'mark', flowId: flow.id, marked: !flow.marked }, flow.marked ? 'unmarked' : 'marked');
      });
    case 'flow.copy-curl':
      return withFlow(({ flow }) => {
        const curl = toCurl(flow);
        if (curl.length > MAX_CLIPBOARD_CHARS) {
          dispatch({ type: 'message', text: `the curl command is ${curl.length} chars, too long for the terminal clipboard; use proxyctl export --format curl`, level: 'warn' });
          return;
        }
        d.copy(curl);
        dispatch({ type: 'message', text: `copied curl command (${curl.length} chars) to the clipboard (OSC 52)`, level: 'info' });
      });
    case 'flow.resume':
      return pauses.resumeSelected(d);
    case 'flow.kill':
      return pauses.killSelected(d);
    case 'flow.respond':
      return pauses.openRespondPrompt(d);
    case 'flow.edit':
      return pauses.editPaused(d);
    case 'flow.edit-url':
      return pauses.openUrlPrompt(d);
    case 'flow.replay-edited':
      return pauses.duplicateAndReplay(d);
    case 'flow.replay':
      return withFlow(({ flow }) => send(d, { type: 'replay', flowId: flow.id }, 'replay started'));
    case 'flow.block-host':
      return withFlow(({ flow }) => send(d, { type: 'block-host', host: flow.request.host }, `blocking ${flow.request.host} (p lists the rules)`));
    case 'rules.open':
      return dispatch({ type: 'open-rules' });
    case 'rules.toggle':
      return toggleSelectedRule(d);
    case 'rules.remove':
      return removeSelectedRule(d);
    case 'export.prompt':
      return openExport(d);
    case 'export.har':
    case 'export.curl':
    case 'export.raw':
    case 'export.nock':
    case 'export.msw':
    case 'export.vitest':
      return chooseFormat(d, command.slice('export.'.length) as ExportFormat);
    case 'export.format-next':
    case 'export.format-prev':
      return dispatch({ type: 'export', action: { type: 'move', delta: command === 'export.format-next' ? 1 : -1 } });
    case 'export.choose':
      return state.export ? chooseFormat(d, state.export.format) : undefined;
    case 'export.scope-next':
      return dispatch({ type: 'export', action: { type: 'scope-next' } });
    case 'export.cancel':
      dispatch({ type: 'export', action: { type: 'close' } });
      return dispatch({ type: 'message', text: 'export cancelled', level: 'info' });
    default:
      return assertNever(command, 'TUI command');
  }
}

/** Compile a filter expression, or the caret line pointing at its syntax error. */
function compile(text: string): { ok: true; predicate: (f: Flow) => boolean } | { ok: false; caret: string } {
  let parsed: ReturnType<typeof parseFilter>;
  try {
    parsed = parseFilter(text);
  } catch (err) {
    // parseFilter reports bad expressions as values; a throw is a parser bug, shown, not fatal.
    return { ok: false, caret: `^ filter failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (parsed.ok) return { ok: true, predicate: parsed.predicate };
  const lines = formatFilterError(text, parsed.error).split('\n');
  return { ok: false, caret: lines[lines.length - 1] ?? parsed.error.message };
}

/** Enter in the open prompt. A filter with a syntax error keeps the prompt open and the old filter. */
export function submitPrompt(d: CommandDeps): void {
  const prompt = d.state.prompt;
  if (!prompt) return;
  const { dispatch } = d;
  const text = prompt.text.trim();
  switch (prompt.kind) {
    case 'filter': {
      if (text === '') {
        dispatch({ type: 'set-filter', filter: null });
        dispatch({ type: 'message', text: 'view filter cleared', level: 'info' });
        break;
      }
      const c = compile(text);
      if (!c.ok) return dispatch({ type: 'prompt', action: { type: 'error', error: c.caret } });
      dispatch({ type: 'set-filter', filter: { expression: text, predicate: c.predicate } });
      break;
    }
    case 'intercept': {
      const spec = parseInterceptSpec(text);
      if (spec.filter !== '') {
        const c = compile(spec.filter);
        if (!c.ok) return dispatch({ type: 'prompt', action: { type: 'error', error: c.caret } });
      }
      const where = spec.on.length === 2 ? ' (requests and responses)' : spec.on[0] === 'response' ? ' (responses)' : '';
      send(d, { type: 'set-intercept', filter: spec.filter === '' ? null : spec.filter, on: spec.on }, spec.filter === '' ? 'intercept off' : `intercepting ${spec.filter}${where}`);
      break;
    }
    case 'respond':
    case 'url': {
      const submit = prompt.kind === 'respond' ? pauses.submitRespond : pauses.submitUrl;
      const error = prompt.flowId === null ? null : submit(d, text, prompt.flowId);
      if (error !== null) return dispatch({ type: 'prompt', action: { type: 'error', error } });
      break;
    }
    case 'export': {
      const error = submitExport(d, text);
      if (error !== null) return dispatch({ type: 'prompt', action: { type: 'error', error } });
      break;
    }
    case 'search': {
      if (!d.detail || text === '') break;
      const found = findMatch(d.detail.doc, text, null, 1, d.state.detail.scroll);
      dispatch({ type: 'detail', action: { type: 'search', query: text, match: found?.pos ?? null, length: d.detail.doc.length, height: d.detailHeight } });
      if (!found) dispatch({ type: 'message', text: `no match for ${text}`, level: 'warn' });
      break;
    }
    default:
      assertNever(prompt.kind, 'prompt kind');
  }
  dispatch({ type: 'prompt', action: { type: 'close' } });
}
