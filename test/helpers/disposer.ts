/**
 * Clients a test opened (requests, sockets, HTTP/2 sessions, raw clients), closed in `afterEach`
 * newest first, so no test leaves a connection behind even when it fails half-way.
 */
export class Disposer {
  private readonly steps: Array<() => unknown> = [];

  /** Track something closed with `destroy()`; returns it. */
  destroy<T extends { destroy(): unknown }>(item: T): T {
    this.steps.push(() => item.destroy());
    return item;
  }

  /** Track something closed with `close()`; returns it. */
  close<T extends { close(): unknown }>(item: T): T {
    this.steps.push(() => item.close());
    return item;
  }

  /** Close everything tracked so far. */
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // Already closed or failed: the test has reported what matters.
      }
    }
  }
}
