/**
 * Key bindings as data (after mitmproxy's `tools/console/defaultkeys.py`): the input hook looks keys
 * up here, and the help overlay and the hint line are generated from the same table.
 *
 * Key names: a printable character as typed (`j`, `G`, `?`, `/`), or one of `up down left right
 * pgup pgdn home end enter esc tab shift+tab space backspace`, or `ctrl+LETTER`.
 */

import type { ExportFormat } from '../export/output-layout.js';

/**
 * Where a binding applies. The active contexts are tried most specific first, `global` last.
 * `export` is the export prompt's format step (`E`); it is active alone.
 */
export type KeyContext = 'global' | 'list' | 'detail' | 'rules' | 'help' | 'export' | 'backends';

/** The export prompt's one-key format choices: `export.har`, `export.curl` … */
export type ExportFormatCommand = `export.${ExportFormat}`;

export type TuiCommand =
  | 'app.quit'
  | 'view.back'
  | 'view.open'
  | 'help.toggle'
  | 'log.toggle'
  | 'move.up'
  | 'move.down'
  | 'move.page-up'
  | 'move.page-down'
  | 'move.top'
  | 'move.bottom'
  | 'tab.next'
  | 'tab.prev'
  | 'filter.prompt'
  | 'search.prompt'
  | 'search.next'
  | 'search.prev'
  | 'intercept.prompt'
  | 'cache.toggle'
  | 'no-cache.toggle'
  | 'flows.clear'
  | 'flows.resume-all'
  | 'flow.mark'
  | 'flow.copy-curl'
  | 'flow.resume'
  | 'flow.kill'
  | 'flow.replay'
  | 'flow.respond'
  | 'flow.edit'
  | 'flow.edit-url'
  | 'flow.replay-edited'
  | 'flow.block-host'
  | 'rules.open'
  | 'rules.toggle'
  | 'rules.remove'
  | 'export.prompt'
  | ExportFormatCommand
  | 'export.format-next'
  | 'export.format-prev'
  | 'export.choose'
  | 'export.scope-next'
  | 'export.cancel';

/**
 * The backends pane's commands (`B`, issue 8): the pane keeps its own state beside the app's
 * (src/tui/backends/), so its commands are run there, not by `runTuiCommand`.
 */
export type BackendsCommand = 'backends.open' | 'backends.close' | 'backends.up' | 'backends.down' | 'backends.top' | 'backends.bottom';

export interface Binding {
  key: string;
  command: TuiCommand | BackendsCommand;
  contexts: readonly KeyContext[];
  help: string;
  /** Short label for the hint line; bindings without one are listed only in the help overlay. */
  hint?: string;
}

const L: readonly KeyContext[] = ['list'];
const D: readonly KeyContext[] = ['detail'];
const LD: readonly KeyContext[] = ['list', 'detail'];
const G: readonly KeyContext[] = ['global'];
const H: readonly KeyContext[] = ['help'];
const P: readonly KeyContext[] = ['rules'];
const LDH: readonly KeyContext[] = ['list', 'detail', 'help'];
const LDHP: readonly KeyContext[] = ['list', 'detail', 'help', 'rules'];
const X: readonly KeyContext[] = ['export'];
const B: readonly KeyContext[] = ['backends'];

export const KEYMAP: readonly Binding[] = [
  { key: 'ctrl+c', command: 'app.quit', contexts: G, help: 'quit proxyctl' },
  { key: '?', command: 'help.toggle', contexts: G, help: 'show or hide this help', hint: 'help' },
  { key: 'L', command: 'log.toggle', contexts: G, help: 'show or hide the event log' },
  {
    key: 'i',
    command: 'intercept.prompt',
    contexts: G,
    help: 'set the intercept filter: pause matching flows; prefix req: (default), res: or both: for where (empty: off)',
  },
  { key: 'c', command: 'cache.toggle', contexts: G, help: 'turn the response cache on or off' },
  { key: 'C', command: 'no-cache.toggle', contexts: G, help: 'turn "no caching" (strip cache headers) on or off' },
  { key: 'A', command: 'flows.resume-all', contexts: G, help: 'resume all paused flows' },

  { key: 'q', command: 'app.quit', contexts: L, help: 'quit proxyctl', hint: 'quit' },
  { key: 'enter', command: 'view.open', contexts: L, help: 'open the selected flow', hint: 'open' },
  { key: 'f', command: 'filter.prompt', contexts: L, help: 'set the view filter (empty clears it)', hint: 'filter' },
  { key: 'z', command: 'flows.clear', contexts: L, help: 'clear the flow list' },

  { key: 'up', command: 'move.up', contexts: LDHP, help: 'up one line' },
  { key: 'k', command: 'move.up', contexts: LDHP, help: 'up one line' },
  { key: 'down', command: 'move.down', contexts: LDHP, help: 'down one line' },
  { key: 'j', command: 'move.down', contexts: LDHP, help: 'down one line' },
  { key: 'pgup', command: 'move.page-up', contexts: LDHP, help: 'up one page' },
  { key: 'pgdn', command: 'move.page-down', contexts: LDHP, help: 'down one page' },
  { key: 'space', command: 'move.page-down', contexts: LDH, help: 'down one page' },
  { key: 'g', command: 'move.top', contexts: LDHP, help: 'go to the top' },
  { key: 'home', command: 'move.top', contexts: LDHP, help: 'go to the top' },
  { key: 'G', command: 'move.bottom', contexts: LDHP, help: 'go to the bottom (the list follows new flows)' },
  { key: 'end', command: 'move.bottom', contexts: LDHP, help: 'go to the bottom (the list follows new flows)' },

  { key: 'm', command: 'flow.mark', contexts: LD, help: 'mark or unmark the flow', hint: 'mark' },
  { key: 'y', command: 'flow.copy-curl', contexts: LD, help: 'copy the request as a curl command (terminal clipboard)', hint: 'curl' },
  {
    key: 'E',
    command: 'export.prompt',
    contexts: LD,
    help: 'export flows to a file (har, curl, raw, nock, msw, vitest): the marked ones, else those in view, or the selected one; secrets redacted',
    hint: 'export',
  },
  { key: 'a', command: 'flow.resume', contexts: LD, help: 'resume the paused flow' },
  { key: 'x', command: 'flow.kill', contexts: LD, help: 'kill the paused flow (the client gets no answer)' },
  { key: 'e', command: 'flow.edit', contexts: LD, help: 'edit the paused request or response in $EDITOR, then resume it' },
  { key: 'u', command: 'flow.edit-url', contexts: LD, help: "edit the paused request's URL, then resume it" },
  { key: 'R', command: 'flow.respond', contexts: LD, help: 'answer the paused request yourself: 404, or 200 text/plain hello' },
  { key: 'r', command: 'flow.replay', contexts: LD, help: 'replay the request as recorded' },
  { key: 'D', command: 'flow.replay-edited', contexts: LD, help: 'edit a copy of the request in $EDITOR and replay it' },
  { key: 'b', command: 'flow.block-host', contexts: LD, help: "block the flow's host (a rule you can undo in the rules pane, p)" },
  { key: 'p', command: 'rules.open', contexts: LD, help: 'show the rules in force: switch them on and off, remove your own', hint: 'rules' },
  { key: 'B', command: 'backends.open', contexts: LD, help: 'show the backends (reverse mode): state, weight, requests in flight, requests, failures' },

  { key: 'tab', command: 'tab.next', contexts: D, help: 'next tab', hint: 'tabs' },
  { key: 'right', command: 'tab.next', contexts: D, help: 'next tab' },
  { key: 'l', command: 'tab.next', contexts: D, help: 'next tab' },
  { key: 'shift+tab', command: 'tab.prev', contexts: D, help: 'previous tab' },
  { key: 'left', command: 'tab.prev', contexts: D, help: 'previous tab' },
  { key: 'h', command: 'tab.prev', contexts: D, help: 'previous tab' },
  { key: '/', command: 'search.prompt', contexts: D, help: 'search in this tab', hint: 'search' },
  { key: 'n', command: 'search.next', contexts: D, help: 'next match' },
  { key: 'N', command: 'search.prev', contexts: D, help: 'previous match' },
  { key: 'q', command: 'view.back', contexts: D, help: 'back to the list', hint: 'back' },
  { key: 'esc', command: 'view.back', contexts: D, help: 'back to the list' },

  { key: 'space', command: 'rules.toggle', contexts: P, help: 'switch the selected rule on or off', hint: 'toggle' },
  { key: 'enter', command: 'rules.toggle', contexts: P, help: 'switch the selected rule on or off' },
  { key: 'd', command: 'rules.remove', contexts: P, help: 'remove the selected rule (rules you added; config rules live in the file)', hint: 'remove' },
  { key: 'q', command: 'view.back', contexts: P, help: 'close the rules pane', hint: 'back' },
  { key: 'esc', command: 'view.back', contexts: P, help: 'close the rules pane' },
  { key: 'p', command: 'view.back', contexts: P, help: 'close the rules pane' },

  { key: 'q', command: 'backends.close', contexts: B, help: 'close the backends pane', hint: 'back' },
  { key: 'esc', command: 'backends.close', contexts: B, help: 'close the backends pane' },
  { key: 'B', command: 'backends.close', contexts: B, help: 'close the backends pane' },
  { key: 'up', command: 'backends.up', contexts: B, help: 'scroll up one line' },
  { key: 'k', command: 'backends.up', contexts: B, help: 'scroll up one line' },
  { key: 'down', command: 'backends.down', contexts: B, help: 'scroll down one line' },
  { key: 'j', command: 'backends.down', contexts: B, help: 'scroll down one line' },
  { key: 'g', command: 'backends.top', contexts: B, help: 'go to the top' },
  { key: 'home', command: 'backends.top', contexts: B, help: 'go to the top' },
  { key: 'G', command: 'backends.bottom', contexts: B, help: 'go to the bottom' },
  { key: 'end', command: 'backends.bottom', contexts: B, help: 'go to the bottom' },

  { key: 'h', command: 'export.har', contexts: X, help: 'HAR 1.2 (browser devtools, Playwright)', hint: 'har' },
  { key: 'c', command: 'export.curl', contexts: X, help: 'curl commands (a shell script)', hint: 'curl' },
  { key: 'r', command: 'export.raw', contexts: X, help: 'raw HTTP messages', hint: 'raw' },
  { key: 'n', command: 'export.nock', contexts: X, help: 'nock definitions (JSON)', hint: 'nock' },
  { key: 'm', command: 'export.msw', contexts: X, help: 'msw handlers (a module)', hint: 'msw' },
  { key: 'v', command: 'export.vitest', contexts: X, help: 'a vitest file serving the recording', hint: 'vitest' },
  { key: 'right', command: 'export.format-next', contexts: X, help: 'highlight the next format' },
  { key: 'left', command: 'export.format-prev', contexts: X, help: 'highlight the previous format' },
  { key: 'enter', command: 'export.choose', contexts: X, help: 'take the highlighted format, then edit the file name (Enter writes it)', hint: 'choose' },
  { key: 'tab', command: 'export.scope-next', contexts: X, help: 'which flows: marked, those in view, or the selected one', hint: 'scope' },
  { key: 'esc', command: 'export.cancel', contexts: X, help: 'cancel the export', hint: 'cancel' },
  { key: 'q', command: 'export.cancel', contexts: X, help: 'cancel the export' },
  { key: 'ctrl+c', command: 'app.quit', contexts: X, help: 'quit proxyctl' },

  { key: 'q', command: 'help.toggle', contexts: H, help: 'close the help', hint: 'close' },
  { key: 'esc', command: 'help.toggle', contexts: H, help: 'close the help' },
];

/** The binding for `key` in the first of `contexts` (most specific first) that has one. */
export function lookup(key: string, contexts: readonly KeyContext[], keymap: readonly Binding[] = KEYMAP): Binding | undefined {
  for (const ctx of contexts) {
    const hit = keymap.find((b) => b.key === key && b.contexts.includes(ctx));
    if (hit) return hit;
  }
  return undefined;
}

const LABELS: Record<string, string> = {
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  pgup: 'PgUp',
  pgdn: 'PgDn',
  home: 'Home',
  end: 'End',
  enter: 'Enter',
  esc: 'Esc',
  tab: 'Tab',
  'shift+tab': 'S-Tab',
  space: 'Space',
  backspace: 'Bksp',
};

/** How a key is written for people: `Enter`, `Ctrl-C`, `PgDn`, `G`. */
export function keyLabel(key: string): string {
  if (key.startsWith('ctrl+')) return `Ctrl-${key.slice(5).toUpperCase()}`;
  return LABELS[key] ?? key;
}

export interface HelpRow {
  keys: string;
  help: string;
}

export interface HelpSection {
  context: KeyContext;
  title: string;
  rows: HelpRow[];
}

const TITLES: Record<KeyContext, string> = {
  global: 'Everywhere',
  list: 'Flow list',
  detail: 'Flow detail',
  rules: 'Rules pane',
  backends: 'Backends pane (B, reverse mode)',
  help: 'Help',
  export: 'Export prompt (E): format, then the file name',
};

/** The help overlay's content: per context, one row per command with all its keys. */
export function helpSections(keymap: readonly Binding[] = KEYMAP): HelpSection[] {
  const order: KeyContext[] = ['list', 'detail', 'rules', 'backends', 'export', 'global', 'help'];
  return order.map((context) => {
    const rows: HelpRow[] = [];
    const byCommand = new Map<string, HelpRow>();
    for (const b of keymap) {
      if (!b.contexts.includes(context)) continue;
      const id = `${b.command}\u0000${b.help}`;
      const row = byCommand.get(id);
      if (row) row.keys += `, ${keyLabel(b.key)}`;
      else {
        const fresh = { keys: keyLabel(b.key), help: b.help };
        byCommand.set(id, fresh);
        rows.push(fresh);
      }
    }
    return { context, title: TITLES[context], rows };
  });
}

/** The hint line for the active contexts: `?:help  Enter:open  f:filter …`, cut to `width`. */
export function hintLine(contexts: readonly KeyContext[], width: number, keymap: readonly Binding[] = KEYMAP): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const ctx of contexts) {
    for (const b of keymap) {
      if (!b.hint || !b.contexts.includes(ctx) || seen.has(b.command)) continue;
      // A key shadowed by a more specific context is not what pressing it does here.
      if (lookup(b.key, contexts, keymap) !== b) continue;
      seen.add(b.command);
      parts.push(`${keyLabel(b.key)}:${b.hint}`);
    }
  }
  let out = '';
  for (const p of parts) {
    const next = out ? `${out}  ${p}` : p;
    if (next.length > width) break;
    out = next;
  }
  return out;
}
