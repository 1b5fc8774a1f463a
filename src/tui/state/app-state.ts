import { assertNever } from '../../proxy/core/assert-never.js';
import type { LogEntry } from '../../store/flow-store.js';
import { exportReducer, type ExportAction, type ExportState } from './export-state.js';
import type { FlowPredicate } from '../list/filter-index.js';
import { detailReducer, initialDetailState, type DetailAction, type DetailState } from './detail-state.js';
import { initialListState, listReducer, type ListAction, type ListState } from './list-state.js';
import { promptReducer, type PromptAction, type PromptState } from './prompt-state.js';
import { initialRulesState, rulesReducer, type RulesAction, type RulesState } from './rules-state.js';

export type MessageLevel = 'info' | 'warn' | 'error';

/** The active view filter: what was typed and what it compiled to. */
export interface ViewFilter {
  expression: string;
  predicate: FlowPredicate;
}

/** Everything the TUI remembers between frames (the flows themselves live in the store). */
export interface AppState {
  view: 'list' | 'detail' | 'rules';
  /** Sequence number of the flow the detail view shows. */
  detailSeq: number | null;
  /** The view the rules pane goes back to. */
  rulesFrom: 'list' | 'detail';
  help: { open: boolean; scroll: number };
  showLog: boolean;
  message: { text: string; level: MessageLevel } | null;
  filter: ViewFilter | null;
  list: ListState;
  detail: DetailState;
  rules: RulesState;
  prompt: PromptState | null;
  /** The export prompt (`E`) while it is open. */
  export: ExportState | null;
  /**
   * What the UI itself did that is worth keeping (an export and what it redacted), shown in the
   * event log next to the store's entries; the TUI never writes into the store.
   */
  notes: readonly LogEntry[];
}

/** Notes kept for the event log. */
export const MAX_NOTES = 100;

export type AppAction =
  | { type: 'list'; action: ListAction }
  | { type: 'detail'; action: DetailAction }
  | { type: 'prompt'; action: PromptAction }
  | { type: 'rules'; action: RulesAction }
  | { type: 'export'; action: ExportAction }
  /** A message for the message line that is also kept in the event log. */
  | { type: 'note'; text: string; level: MessageLevel; time: number }
  | { type: 'open-detail'; seq: number }
  | { type: 'open-rules' }
  | { type: 'back' }
  | { type: 'toggle-help' }
  | { type: 'help-scroll'; delta: number; length: number; height: number }
  | { type: 'toggle-log' }
  | { type: 'message'; text: string; level: MessageLevel }
  | { type: 'clear-message' }
  | { type: 'set-filter'; filter: ViewFilter | null };

export const initialAppState: AppState = {
  view: 'list',
  detailSeq: null,
  rulesFrom: 'list',
  help: { open: false, scroll: 0 },
  showLog: false,
  message: null,
  filter: null,
  list: initialListState,
  detail: initialDetailState,
  rules: initialRulesState,
  prompt: null,
  export: null,
  notes: [],
};

export function appReducer(state: AppState, action: AppAction): AppState {
  switch (action.type) {
    case 'list':
      return { ...state, list: listReducer(state.list, action.action) };
    case 'detail':
      return { ...state, detail: detailReducer(state.detail, action.action) };
    case 'prompt': {
      const prompt = promptReducer(state.prompt, action.action);
      // The file-name prompt is the export's last step: closing it ends the export.
      const endsExport = state.prompt?.kind === 'export' && (prompt === null || prompt.kind !== 'export');
      return { ...state, prompt, export: endsExport ? null : state.export };
    }
    case 'export':
      return { ...state, export: exportReducer(state.export, action.action) };
    case 'note': {
      const notes = [...state.notes, { time: action.time, level: action.level, message: action.text }];
      if (notes.length > MAX_NOTES) notes.splice(0, notes.length - MAX_NOTES);
      return { ...state, notes, message: { text: action.text, level: action.level } };
    }
    case 'rules':
      return { ...state, rules: rulesReducer(state.rules, action.action) };
    case 'open-detail':
      return {
        ...state,
        view: 'detail',
        detailSeq: action.seq,
        detail: state.detailSeq === action.seq ? state.detail : detailReducer(state.detail, { type: 'reset' }),
        // The detail view's flow becomes the list's selection, so going back lands on it.
        list: { ...state.list, follow: false, selectedSeq: action.seq },
      };
    case 'open-rules':
      // The pane keeps its selection between visits (it is by rule id).
      if (state.view === 'rules') return state;
      return { ...state, view: 'rules', rulesFrom: state.view, help: { open: false, scroll: 0 } };
    case 'back':
      if (state.help.open) return { ...state, help: { open: false, scroll: 0 } };
      if (state.view === 'rules') return { ...state, view: state.rulesFrom };
      return { ...state, view: 'list' };
    case 'toggle-help':
      return { ...state, help: { open: !state.help.open, scroll: 0 } };
    case 'help-scroll': {
      const max = Math.max(0, action.length - action.height);
      return { ...state, help: { ...state.help, scroll: Math.max(0, Math.min(max, state.help.scroll + action.delta)) } };
    }
    case 'toggle-log':
      return { ...state, showLog: !state.showLog };
    case 'message':
      return { ...state, message: { text: action.text, level: action.level } };
    case 'clear-message':
      return state.message ? { ...state, message: null } : state;
    case 'set-filter':
      return { ...state, filter: action.filter };
    default:
      return assertNever(action, 'app action');
  }
}
