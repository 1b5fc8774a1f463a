/** Live switches the faces show and flip (cache, no-cache, intercept filter). */
export interface ToggleState {
  /** The response cache is on. @default false */
  cache: boolean;
  /** Strip conditional and cache headers so clients always get fresh bodies. @default false */
  noCache: boolean;
  /** The intercept (breakpoint) filter expression, or null when off. @default null */
  intercept: string | null;
}

/** A tiny external store (subscribe/getSnapshot) over the toggles. */
export class Toggles {
  private state: ToggleState;
  private readonly listeners = new Set<() => void>();

  constructor(initial: Partial<ToggleState> = {}) {
    this.state = { cache: false, noCache: false, intercept: null, ...initial };
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): ToggleState => this.state;

  set(change: Partial<ToggleState>): void {
    this.state = { ...this.state, ...change };
    for (const l of this.listeners) l();
  }
}
