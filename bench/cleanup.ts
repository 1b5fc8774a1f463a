/**
 * Everything the bench starts (child processes, tmux servers, temporary folders) is registered here
 * and undone in reverse order: at the end of a scenario (a Scope) and, as a last resort, when the
 * bench exits or is interrupted.
 */

type Undo = () => Promise<void> | void;

export class Scope {
  private undo: Undo[] = [];

  /** Run `fn` when this scope closes (last registered runs first). */
  defer(fn: Undo): void {
    this.undo.push(fn);
  }

  /** A scope of its own that this one also closes (if it is still open by then). */
  child(): Scope {
    const child = new Scope();
    this.defer(() => child.close());
    return child;
  }

  async close(): Promise<void> {
    const list = this.undo.reverse();
    this.undo = [];
    for (const fn of list) {
      try {
        await fn();
      } catch (err) {
        process.stderr.write(`bench: cleanup failed: ${(err as Error).message}\n`);
      }
    }
  }
}

/** The bench's outermost scope. */
export const rootScope = new Scope();

let installed = false;

/** Close the root scope on SIGINT/SIGTERM so no proxy, origin or tmux server outlives the bench. */
export function installSignalCleanup(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
    void rootScope.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
