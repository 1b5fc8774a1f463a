import type { HeaderPairs } from './flow.js';
import type { LocalResponse } from './pipeline.js';

/** Changes to a paused or replayed request. Fields left out stay as they are. */
export interface RequestEdit {
  method?: string;
  /** Absolute URL. */
  url?: string;
  headers?: HeaderPairs;
  body?: Buffer;
}

export interface ResponseEdit {
  status?: number;
  headers?: HeaderPairs;
  body?: Buffer;
}

/**
 * Everything a face (TUI, headless user, test) can ask of the proxy. The core executes these; the
 * TUI only sends them (DESIGN.md §1, §3).
 */
export type ProxyCommand =
  | { type: 'resume'; flowId: string; request?: RequestEdit; response?: ResponseEdit }
  | { type: 'resume-all' }
  | { type: 'kill'; flowId: string }
  | { type: 'respond'; flowId: string; response: LocalResponse }
  | { type: 'replay'; flowId: string; request?: RequestEdit }
  | { type: 'mark'; flowId: string; marked: boolean }
  | { type: 'clear' }
  | { type: 'set-intercept'; filter: string | null; on: Array<'request' | 'response'> }
  /** Add (and persist) a block rule for this host; the rules pane lists it. */
  | { type: 'block-host'; host: string }
  /** Turn a rule on or off (flip it when `enabled` is left out). */
  | { type: 'toggle-rule'; ruleId: string; enabled?: boolean }
  /** Remove a rule the user added (rules from the config file are edited in the file). */
  | { type: 'remove-rule'; ruleId: string }
  | { type: 'set-cache'; enabled: boolean }
  | { type: 'set-no-cache'; enabled: boolean };

export type CommandResult = { ok: true; message?: string; flowId?: string } | { ok: false; error: string };

/** The one door into the proxy for every face. */
export interface CommandApi {
  execute(command: ProxyCommand): Promise<CommandResult>;
}
