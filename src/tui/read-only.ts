import type { TuiCommand } from './keymap.js';

/**
 * A recorded session opened with `proxyctl open` has no proxy behind it: the keys that act on live
 * traffic or on the proxy's rules answer with this instead (the command API says the same).
 */
export const READ_ONLY_MESSAGE = 'not available: this session is opened read-only (no proxy running)';

/** Key commands that need a running proxy. Replay, marks, filters, search and export work without. */
export const NEEDS_PROXY: ReadonlySet<TuiCommand> = new Set<TuiCommand>([
  'intercept.prompt',
  'cache.toggle',
  'no-cache.toggle',
  'flows.resume-all',
  'flow.resume',
  'flow.kill',
  'flow.respond',
  'flow.edit',
  'flow.edit-url',
  'flow.block-host',
  'rules.toggle',
  'rules.remove',
]);
