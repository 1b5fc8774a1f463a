import type { Dispatch } from 'react';
import { assertNever } from '../../proxy/core/assert-never.js';
import type { BackendsCommand } from '../keymap.js';
import type { BackendsPaneAction } from './backends-state.js';

/** What the backends pane's keys need: the pane's dispatch and how much there is to scroll. */
export interface BackendsCommandDeps {
  dispatch: Dispatch<BackendsPaneAction>;
  /** Backend rows. */
  length: number;
  /** Backend rows the pane shows. */
  height: number;
}

const COMMANDS: ReadonlySet<string> = new Set<BackendsCommand>(['backends.open', 'backends.close', 'backends.up', 'backends.down', 'backends.top', 'backends.bottom']);

export function isBackendsCommand(command: string): command is BackendsCommand {
  return COMMANDS.has(command);
}

/** Run one of the backends pane's key commands (the pane only shows; nothing is sent to the proxy). */
export function runBackendsCommand(command: BackendsCommand, d: BackendsCommandDeps): void {
  const { dispatch, length, height } = d;
  switch (command) {
    case 'backends.open':
      return dispatch({ type: 'open' });
    case 'backends.close':
      return dispatch({ type: 'close' });
    case 'backends.up':
      return dispatch({ type: 'scroll', delta: -1, length, height });
    case 'backends.down':
      return dispatch({ type: 'scroll', delta: 1, length, height });
    case 'backends.top':
      return dispatch({ type: 'scroll-to', where: 'top', length, height });
    case 'backends.bottom':
      return dispatch({ type: 'scroll-to', where: 'bottom', length, height });
    default:
      return assertNever(command, 'backends command');
  }
}
