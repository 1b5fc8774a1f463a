import { readFileSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { ConfigFile, RuleSpec } from './config/schema.js';
import { compileRules, orderAddons, RuleCompileError, type CompiledRule, type PipelineStage } from './config/compile-rules.js';
import type { Breakpoint } from './proxy/core/breakpoints.js';
import type { Addon } from './proxy/core/pipeline.js';
import { compileAccess } from './proxy/rules/access.js';
import { proxyAuthRule } from './proxy/rules/auth.js';
import { parseHtpasswd, type HtpasswdEntry } from './proxy/rules/htpasswd.js';
import { noCacheRule } from './proxy/rules/no-cache.js';
import { cacheAddon, HttpCache } from './proxy/rules/cache/index.js';
import type { SettingsStore } from './store/settings.js';
import { RuleList, type RuleEntry } from './store/rule-list.js';
import type { Toggles } from './store/toggles.js';

/** Policy given on the command line; it overrides the config file's. */
export interface PolicyFlags {
  /** `--proxy-auth user:pass` or `--proxy-auth @FILE` (htpasswd). */
  proxyAuth: string | null;
  /** `--allow CIDR…`: replaces `access.allow`. */
  allow: string[] | null;
}

/** Thrown when a config cannot be applied (a referenced file is missing …); the old one stays. */
export class PolicyError extends Error {
  override name = 'PolicyError';
}

/**
 * The rules in force and everything else the pipeline is made of (auth, access lists, the cache and
 * the no-caching toggle): built from the config file and the user's rules in settings, rebuilt
 * whole on every change, so the proxy always reads one consistent list. Feeds the rules pane.
 */
export class RulesController {
  readonly list = new RuleList();
  readonly cache: HttpCache;
  private configRules: CompiledRule[] = [];
  private userRules: CompiledRule[] = [];
  private userSpecs: RuleSpec[] = [];
  /**
   * Enabled state of config rules changed in the TUI (config rules are not written back), keyed by
   * the rule's content: after a reload the choice follows the same rule, never its position.
   */
  private readonly overrides = new Map<string, boolean>();
  private auth: Addon | null = null;
  private admitFn: (address: string) => string | null = () => null;
  private readonly cacheRule: Addon;
  private readonly noCache: Addon;
  private addonList: readonly Addon[] = [];
  private breakpointList: Breakpoint[] = [];
  private onBreakpoints: (bps: Breakpoint[]) => void = () => {};

  constructor(
    private readonly toggles: Toggles,
    private settings: SettingsStore | null,
    cacheMaxBytes: number,
  ) {
    this.cache = new HttpCache({ maxBytes: cacheMaxBytes });
    this.cacheRule = cacheAddon({ cache: this.cache, enabled: () => this.toggles.getSnapshot().cache, bypass: () => this.toggles.getSnapshot().noCache });
    this.noCache = noCacheRule(() => this.toggles.getSnapshot().noCache);
    // The toggles decide which built-ins are in the pipeline at all (see rebuild()).
    toggles.subscribe(() => this.rebuild());
  }

  /** The pipeline, in order (read by the proxy on every request). */
  readonly addons = (): readonly Addon[] => this.addonList;

  /** Access control for the listener: null admits, else why not. */
  readonly admit = (address: string): string | null => this.admitFn(address);

  /** Called with the rule breakpoints whenever they change. */
  watchBreakpoints(fn: (bps: Breakpoint[]) => void): void {
    this.onBreakpoints = fn;
    fn(this.breakpointList);
  }

  /**
   * Apply a config file (at start and on every valid change): rules, access lists, proxy auth.
   * Throws PolicyError, changing nothing, when it cannot be applied.
   */
  applyConfig(config: ConfigFile, baseDir: string, flags: PolicyFlags): void {
    let rules: CompiledRule[];
    let access: ReturnType<typeof compileAccess>;
    try {
      rules = compileRules(config.rules ?? [], { baseDir });
      access = compileAccess({ allow: flags.allow ?? config.access?.allow, deny: config.access?.deny });
    } catch (err) {
      // The schema checks these first; this catches what it cannot (e.g. a bad --allow).
      if (err instanceof RuleCompileError || err instanceof Error) throw new PolicyError(err.message);
      throw err;
    }
    const auth = this.buildAuth(config, baseDir, flags);
    this.configRules = rules;
    this.admitFn = (address) => {
      const verdict = access(address);
      return verdict.allowed ? null : verdict.reason;
    };
    this.auth = auth;
    this.rebuild();
  }

  private buildAuth(config: ConfigFile, baseDir: string, flags: PolicyFlags): Addon | null {
    let users = config.proxyAuth?.users ?? [];
    let htpasswdPath = config.proxyAuth?.htpasswd ?? null;
    if (flags.proxyAuth !== null) {
      if (flags.proxyAuth.startsWith('@')) {
        htpasswdPath = flags.proxyAuth.slice(1);
        users = [];
      } else {
        const colon = flags.proxyAuth.indexOf(':');
        users = [{ user: flags.proxyAuth.slice(0, colon), password: flags.proxyAuth.slice(colon + 1) }];
        htpasswdPath = null;
      }
    }
    let htpasswd: HtpasswdEntry[] = [];
    if (htpasswdPath !== null) {
      const path = isAbsolute(htpasswdPath) ? htpasswdPath : resolvePath(baseDir, htpasswdPath);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new PolicyError(`proxyAuth.htpasswd: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const parsed = parseHtpasswd(text);
      if (parsed.problems.length) throw new PolicyError(`proxyAuth.htpasswd: ${path}: ${parsed.problems.join('; ')}`);
      htpasswd = parsed.entries;
    }
    if (users.length === 0 && htpasswd.length === 0) return null;
    return proxyAuthRule({ users, htpasswd });
  }

  /** Where the user's rules are saved (settings.json). */
  attachSettings(settings: SettingsStore): void {
    this.settings = settings;
  }

  /** The user's own rules (settings.json), e.g. from `b` in the TUI. */
  setUserRules(specs: RuleSpec[]): void {
    this.userSpecs = specs;
    this.userRules = compileRules(specs, { baseDir: process.cwd(), label: 'user rules' });
    this.rebuild();
  }

  /** Block a host from now on (persisted with the user's rules). */
  async blockHost(host: string): Promise<string> {
    const filter = `~d ^${host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
    if (this.userSpecs.some((s) => s.type === 'block' && s.filter === filter)) return `${host} is already blocked`;
    await this.saveUserRules([...this.userSpecs, { type: 'block', filter, status: 403, action: 'respond', enabled: true }]);
    return `blocking ${host}`;
  }

  /** Flip (or set) a rule's enabled state. */
  async toggle(id: string, enabled?: boolean): Promise<string> {
    const entry = this.list.getSnapshot().find((e) => e.id === id);
    if (!entry) throw new PolicyError(`no rule ${id}`);
    const next = enabled ?? !entry.enabled;
    if (entry.source === 'settings') {
      const i = Number(id.slice('user:'.length));
      await this.saveUserRules(this.userSpecs.map((s, j) => (j === i ? { ...s, enabled: next } : s)));
    } else if (entry.source === 'config') {
      const rule = this.configRules[Number(id.slice('config:'.length))];
      if (rule) this.overrides.set(contentKey(rule.spec), next);
      this.rebuild();
    } else if (id === 'cache') this.toggles.set({ cache: next });
    else if (id === 'no-cache') this.toggles.set({ noCache: next });
    else throw new PolicyError(`${entry.type} is set in the config file or on the command line`);
    return `${next ? 'enabled' : 'disabled'} ${entry.explain}`;
  }

  async remove(id: string): Promise<string> {
    const entry = this.list.getSnapshot().find((e) => e.id === id);
    if (!entry) throw new PolicyError(`no rule ${id}`);
    if (entry.source !== 'settings') throw new PolicyError('only rules added in proxyctl can be removed here; rules from the config file are edited in the file');
    const i = Number(id.slice('user:'.length));
    await this.saveUserRules(this.userSpecs.filter((_, j) => j !== i));
    return `removed ${entry.explain}`;
  }

  private async saveUserRules(specs: RuleSpec[]): Promise<void> {
    if (this.settings) await this.settings.setRules(specs);
    this.setUserRules(specs);
  }

  private enabled(rule: CompiledRule, source: 'config' | 'user'): boolean {
    return (source === 'config' ? this.overrides.get(contentKey(rule.spec)) : undefined) ?? rule.spec.enabled;
  }

  private rebuild(): void {
    const items: Array<{ stage: PipelineStage; addon: Addon }> = [];
    const breakpoints: Breakpoint[] = [];
    const take = (rules: CompiledRule[], source: 'config' | 'user') => {
      for (const rule of rules) {
        if (!this.enabled(rule, source)) continue;
        if (rule.breakpoint) breakpoints.push(rule.breakpoint);
        if (rule.addon && rule.spec.type !== 'breakpoint') items.push({ stage: rule.spec.type, addon: rule.addon });
      }
    };
    if (this.auth) items.push({ stage: 'auth', addon: this.auth });
    take(this.configRules, 'config');
    take(this.userRules, 'user');
    // Built-ins join the pipeline only when they can act, so plain traffic keeps its synchronous
    // path (no hook, no rule context). The cache stays while it holds entries even when switched
    // off: it must still see unsafe requests that invalidate them (RFC 9111 §4.4).
    const t = this.toggles.getSnapshot();
    if (t.noCache) items.push({ stage: 'no-cache', addon: this.noCache });
    if (t.cache || this.cache.stats().entries > 0) items.push({ stage: 'cache', addon: this.cacheRule });
    this.addonList = orderAddons(items);
    this.breakpointList = breakpoints;
    this.onBreakpoints(breakpoints);
    this.publish();
  }

  /** Refresh the rules pane. */
  private publish(): void {
    const t = this.toggles.getSnapshot();
    const entries: RuleEntry[] = [];
    if (this.auth) entries.push({ id: 'auth', type: 'auth', explain: this.auth.explain(), enabled: true, source: 'builtin' });
    entries.push({ id: 'cache', type: 'cache', explain: this.cacheRule.explain(), enabled: t.cache, source: 'builtin' });
    entries.push({ id: 'no-cache', type: 'no-cache', explain: this.noCache.explain(), enabled: t.noCache, source: 'builtin' });
    for (const r of this.configRules) entries.push({ id: `config:${r.index}`, type: r.spec.type, explain: r.explain, enabled: this.enabled(r, 'config'), source: 'config' });
    for (const r of this.userRules) entries.push({ id: `user:${r.index}`, type: r.spec.type, explain: r.explain, enabled: this.enabled(r, 'user'), source: 'settings' });
    this.list.set(entries);
  }

  /** A one-line summary for the event log. */
  summary(): string {
    const n = this.configRules.length + this.userRules.length;
    return `${n} rule${n === 1 ? '' : 's'}${this.auth ? ', proxy authentication on' : ''}`;
  }
}

/** A rule's identity for remembered on/off choices: its spec without the `enabled` flag. */
function contentKey(spec: RuleSpec): string {
  const { enabled: _enabled, ...rest } = spec;
  return JSON.stringify(rest);
}
