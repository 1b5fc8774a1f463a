import { EXPORT_FORMATS, type ExportFormat } from '../../export/output-layout.js';
import { assertNever } from '../../proxy/core/assert-never.js';

/**
 * The export prompt (`E`), as a pure reducer. Two steps: choose the format (one key, or the arrows
 * and Enter) and the scope (Tab), then edit the file name in an ordinary text prompt (kind
 * `export`) whose Enter writes the file.
 */

/** Which flows: the marked ones, the ones the view filter shows, or the selected one. */
export type ExportScope = 'marked' | 'view' | 'selected';

/** The order Tab cycles through. */
export const EXPORT_SCOPES: readonly ExportScope[] = ['marked', 'view', 'selected'];

export interface ExportState {
  step: 'format' | 'path';
  /** The highlighted (then chosen) format. */
  format: ExportFormat;
  scope: ExportScope;
  /** Flows in each scope when the prompt opened; a scope with none cannot be chosen. */
  counts: Readonly<Record<ExportScope, number>>;
  /** Local time the prompt opened, for the default file name (`20240101-120000`). */
  stamp: string;
}

export type ExportAction =
  | { type: 'open'; counts: Record<ExportScope, number>; stamp: string; format?: ExportFormat }
  | { type: 'move'; delta: number }
  | { type: 'choose'; format: ExportFormat }
  | { type: 'scope-next' }
  | { type: 'close' };

/** Marked flows if there are any, else the view, else the selected one; null when there is nothing. */
export function defaultScope(counts: Readonly<Record<ExportScope, number>>): ExportScope | null {
  return EXPORT_SCOPES.find((s) => counts[s] > 0) ?? null;
}

export function exportReducer(state: ExportState | null, action: ExportAction): ExportState | null {
  if (action.type === 'open') {
    const scope = defaultScope(action.counts);
    if (scope === null) return null;
    return { step: 'format', format: action.format ?? 'har', scope, counts: action.counts, stamp: action.stamp };
  }
  if (!state) return null;
  switch (action.type) {
    case 'move': {
      const n = EXPORT_FORMATS.length;
      const i = EXPORT_FORMATS.indexOf(state.format);
      return { ...state, format: EXPORT_FORMATS[(((i + action.delta) % n) + n) % n]! };
    }
    case 'choose':
      return { ...state, step: 'path', format: action.format };
    case 'scope-next': {
      const i = EXPORT_SCOPES.indexOf(state.scope);
      for (let k = 1; k <= EXPORT_SCOPES.length; k++) {
        const next = EXPORT_SCOPES[(i + k) % EXPORT_SCOPES.length]!;
        if (state.counts[next] > 0) return next === state.scope ? state : { ...state, scope: next };
      }
      return state;
    }
    case 'close':
      return null;
    default:
      return assertNever(action, 'export action');
  }
}

/** File name ending per format (a directory layout is chosen by typing a path without one). */
const EXTENSIONS: Readonly<Record<ExportFormat, string>> = {
  har: '.har',
  curl: '.sh',
  raw: '.http',
  nock: '.json',
  msw: '.js',
  vitest: '.test.js',
};

/** `./proxyctl-export-20240101-120000.har`, relative to where proxyctl runs. */
export function defaultExportPath(format: ExportFormat, stamp: string): string {
  return `./proxyctl-export-${stamp}${EXTENSIONS[format]}`;
}

/** `20240101-120000` in local time. */
export function exportStamp(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** `3 marked flows`, `12 flows in view`, `the selected flow`. */
export function describeScope(scope: ExportScope, count: number): string {
  const flows = count === 1 ? 'flow' : 'flows';
  switch (scope) {
    case 'marked':
      return `${count} marked ${flows}`;
    case 'view':
      return `${count} ${flows} in view`;
    case 'selected':
      return 'the selected flow';
    default:
      return assertNever(scope, 'export scope');
  }
}
