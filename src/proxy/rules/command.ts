import type { Flow, HeaderPairs } from '../core/flow.js';
import type { Addon, HookDecision } from '../core/pipeline.js';
import type { FlowPredicate } from '../filter/index.js';

export interface CommandRuleOptions {
  /** e.g. `rules[8] command`. */
  name: string;
  filterText: string;
  matches: FlowPredicate;
  /** Program and arguments, run without a shell. */
  argv: readonly string[];
  /** @default 60000 */
  timeoutMs: number;
  /** Status of the response carrying the program's output. @default 200 */
  status: number;
  /** Response headers. @default {} */
  headers: Readonly<Record<string, string>>;
}

/**
 * The command responder: answer matching requests with a local program's output (request body on
 * its stdin, stdout streamed back). `argv` comes from the config alone; nothing from the request
 * ever becomes an argument, so a request cannot inject a command line.
 */
export function commandRule(opts: CommandRuleOptions): Addon {
  const { name, filterText, matches, timeoutMs, status } = opts;
  const argv = Object.freeze(opts.argv.slice());
  const headers: HeaderPairs = Object.entries(opts.headers).map(([k, v]) => [k, v]);
  return {
    name,
    explain: () => `command ${filterText} → ${argv.map(shellWord).join(' ')} (timeout ${formatMs(timeoutMs)})`,
    request(flow: Flow): HookDecision | void {
      if (!matches(flow)) return;
      return { action: 'run-command', argv, timeoutMs, status, headers: headers.map(([k, v]) => [k, v]), tag: 'command' };
    },
  };
}

/** Quote a word for display the way a POSIX shell would read it back. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
