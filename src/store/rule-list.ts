/** One row of the rules pane. */
export interface RuleEntry {
  /** Stable for the life of the rule: `config:3`, `user:…`, `auth`, `cache` … */
  id: string;
  /** The rule type (`block`, `mock` …) or a built-in policy (`auth`, `access`, `cache`, `no-cache`). */
  type: string;
  /** The rule's own one-line explanation. */
  explain: string;
  enabled: boolean;
  /** Where it comes from: the config file, the user's settings (added in the TUI), or built in. */
  source: 'config' | 'settings' | 'builtin';
}

/** A tiny external store (subscribe/getSnapshot) over the rules in force, for the rules pane. */
export class RuleList {
  private entries: readonly RuleEntry[] = [];
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): readonly RuleEntry[] => this.entries;

  set(entries: readonly RuleEntry[]): void {
    this.entries = entries;
    for (const l of this.listeners) l();
  }
}
