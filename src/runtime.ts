import type { AddressInfo } from 'node:net';
import { CertificateAuthority } from './ca/index.js';
import { caDir } from './config/paths.js';
import { UsageError, type StartSettings } from './config/start-options.js';
import { EventBus } from './proxy/bus.js';
import type { CommandApi, CommandResult, ProxyCommand, RequestEdit } from './proxy/core/commands.js';
import { assertNever } from './proxy/core/assert-never.js';
import { defaultProxyOptions, type ProxyOptions } from './proxy/net/options.js';
import { ProxyServer } from './proxy/net/proxy-server.js';
import { FlowStore } from './store/flow-store.js';
import { SessionRecorder } from './store/recorder.js';
import { defaultSessionName } from './store/session-paths.js';
import { parseFilter, formatFilterError } from './proxy/filter/index.js';
import type { Breakpoint, BreakpointStage } from './proxy/core/breakpoints.js';
import { PauseRegistry } from './proxy/core/pauses.js';
import { applyRequestEdit, applyResponseEdit, EditError } from './proxy/core/edits.js';
import { replayThroughProxy } from './proxy/net/replay-client.js';
import { Toggles } from './store/toggles.js';
import type { ConfigFile } from './config/schema.js';
import { watchConfigFile, type ConfigWatcher } from './config/watch.js';
import { checkConfigReferences } from './config/references.js';
import { SettingsStore } from './store/settings.js';
import { PolicyError, RulesController, type PolicyFlags } from './rules-controller.js';
import { dirname, resolve as resolvePath } from 'node:path';
import type { BackendStatus } from './proxy/reverse/status.js';
import type { ReversePool } from './proxy/reverse/pool.js';
import { loadListenerCerts, reversePoolFor } from './runtime-modes.js';
import type { AdminServer } from './ops/admin-server.js';
import type { MetricsSources } from './ops/metrics.js';
import type { ListenerCerts } from './proxy/net/listener-certs.js';

export interface RuntimeOptions {
  /** `$PROXYCTL_HOME`. */
  home: string;
  settings: StartSettings;
  /** Use this CA instead of loading `$PROXYCTL_HOME/ca` (tests use the fixture CA). */
  ca?: CertificateAuthority;
  /** Extra CAs trusted upstream (tests); see ProxyOptions.upstreamCa. */
  upstreamCa?: string[];
  /** Override low-level network settings (tests use short timeouts). */
  net?: Partial<ProxyOptions>;
  /** Store notification window; 0 for synchronous (tests). */
  storeNotifyMs?: number;
  /** The parsed config file (rules, access lists, proxy auth, cache). @default {} */
  config?: ConfigFile;
  /** Where the config came from: relative paths resolve against its folder, and it is watched. */
  configPath?: string | null;
}

/** Default byte budget of the response cache (DESIGN.md §7). */
const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

/**
 * The composition root (DESIGN.md §2): builds the CA, the bus, the store and the proxy, wires the
 * subscribers, and exposes start/stop and the command API. Faces (TUI, headless log) attach to
 * `bus` and `store` and talk back through `commands`.
 */
export class Runtime implements CommandApi {
  readonly bus: EventBus;
  readonly store: FlowStore;
  readonly proxy: ProxyServer;
  readonly commands: CommandApi = this;
  readonly toggles = new Toggles();
  /** Rules, access lists, auth and the cache: what the pipeline is made of; the rules pane's store. */
  readonly rules: RulesController;
  private settingsStore: SettingsStore | null = null;
  private watcher: ConfigWatcher | null = null;
  /** Records every finished flow into `$PROXYCTL_HOME/sessions/NAME/` (DESIGN §9). */
  recorder: SessionRecorder | null = null;
  private detachRecorder: (() => void) | null = null;
  readonly pauses = new PauseRegistry();
  /** Breakpoints from rules (issue 6 adds them from config) plus the intercept filter. */
  private ruleBreakpoints: Breakpoint[] = [];
  private interceptBreakpoint: Breakpoint | null = null;
  private breakpointList: Breakpoint[] = [];
  private address: AddressInfo | null = null;
  /** `--admin-port`: /healthz and Prometheus /metrics (src/ops); null when not asked for. */
  admin: AdminServer | null = null;
  /** Reverse mode's `reverse.tls.certs` (watched for renewals); null: the CA answers every name. */
  private readonly listenerCerts: ListenerCerts | null;

  private constructor(
    readonly ca: CertificateAuthority,
    readonly settings: StartSettings,
    opts: RuntimeOptions,
  ) {
    this.bus = new EventBus((err) => process.emitWarning(`proxyctl: event subscriber failed: ${String(err)}`));
    this.store = new FlowStore({
      maxFlows: settings.maxFlows,
      maxBodyBytes: settings.storeMaxBodyBytes,
      notifyIntervalMs: opts.storeNotifyMs ?? 50,
      busyNotifyIntervalMs: opts.storeNotifyMs ?? 250,
    });
    this.bus.onAny((event) => this.store.apply(event));
    this.rules = new RulesController(this.toggles, null, opts.config?.cache?.maxBytes ?? DEFAULT_CACHE_BYTES);
    const netOpts: ProxyOptions = {
      ...defaultProxyOptions,
      host: settings.host,
      mode: settings.proxyMode,
      port: settings.port,
      insecure: settings.insecure,
      ignoreHosts: settings.ignoreHosts,
      resolve: settings.resolve,
      maxBodyBytes: settings.maxBodyBytes,
      upstreamTimeoutMs: settings.upstreamTimeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
      upstreamCa: opts.upstreamCa ?? null,
      compression: settings.compression,
      ...opts.net,
    };
    this.reversePool = reversePoolFor(settings, opts, netOpts, this.bus, this.reverseNotes);
    this.proxy = new ProxyServer(netOpts, {
      reverse: this.reversePool,
      bus: this.bus,
      certificates: ca,
      addons: this.rules.addons,
      breakpoints: () => this.breakpointList,
      pauses: this.pauses,
      admit: this.rules.admit,
      listenerCerts: (this.listenerCerts = loadListenerCerts(opts, settings, this.bus)),
    });
    this.rules.watchBreakpoints((bps) => this.setRuleBreakpoints(bps));
  }

  /** Policy from flags (they override the file), kept for reloads. */
  private get policyFlags(): PolicyFlags {
    return { proxyAuth: this.settings.proxyAuth, allow: this.settings.allow };
  }

  static async create(opts: RuntimeOptions): Promise<Runtime> {
    const ca = opts.ca ?? (await CertificateAuthority.loadOrCreate({ dir: caDir(opts.home) }));
    const rt = new Runtime(ca, opts.settings, opts);
    rt.configPath = opts.configPath ? resolvePath(opts.configPath) : null;
    const config = opts.config ?? {};
    rt.startConfig = config;
    // Apply the config first: a config that cannot be applied (missing htpasswd file) stops here.
    try {
      rt.rules.applyConfig(config, rt.baseDir, rt.policyFlags);
    } catch (err) {
      if (err instanceof PolicyError) throw new UsageError(err.message);
      throw err;
    }
    // The user's own rules and toggles live in settings.json; the config file's toggles win.
    rt.settingsStore = await SettingsStore.open(opts.home);
    rt.rules.attachSettings(rt.settingsStore);
    const saved = rt.settingsStore.settings;
    rt.toggles.set({ cache: config.cache?.enabled ?? saved.toggles.cache, noCache: config.noCache ?? saved.toggles.noCache });
    rt.rules.setUserRules(saved.rules);
    // Subscribed before any face (the access log): a printed access line means the flow is on disk.
    rt.recorder = await SessionRecorder.open(opts.home, opts.settings.session ?? defaultSessionName(), { continue: true });
    rt.detachRecorder = rt.recorder.attach(rt.bus);
    // Bounded memory (issue 7): the store reads evicted flows and let-go bodies back from the session.
    rt.store.useSession(rt.recorder.dir);
    rt.recorder.onRecorded = (flow, at) => rt.store.recorded(flow.id, at);
    return rt;
  }

  /** Reverse mode's backend groups, routes and health checks; null in the other modes. */
  private readonly reversePool: ReversePool | null;
  /** Reverse settings that do not apply, said in the event log at start. */
  private readonly reverseNotes: string[] = [];

  /** Backend states in reverse mode (the backends pane, metrics), live; empty in other modes. */
  backends(): readonly BackendStatus[] {
    return this.reversePool?.statuses() ?? [];
  }

  async start(): Promise<AddressInfo> {
    // Up before the listener, so the metrics count every flow; a port in use stops the start here.
    if (this.settings.adminPort !== null) {
      // Loaded only when asked for: the Prometheus client is a few MB of memory nobody else uses.
      const { startAdmin } = await import('./ops/admin-server.js');
      this.admin = await startAdmin({ bus: this.bus, sources: this.metricsSources(), host: this.settings.host, port: this.settings.adminPort, admit: this.rules.admit });
    }
    try {
      this.address = await this.proxy.listen();
    } catch (err) {
      await this.admin?.close();
      this.admin = null;
      throw err;
    }
    if (this.configPath) this.watchConfig(this.configPath);
    this.listenerCerts?.watch();
    for (const note of this.reverseNotes) this.bus.log('warn', note);
    this.reversePool?.start();
    return this.address;
  }

  private configPath: string | null = null;
  private reloading: Promise<void> = Promise.resolve();
  private startConfig: ConfigFile = {};

  /** Folder that relative paths in the config resolve against. */
  private get baseDir(): string {
    return this.configPath ? dirname(this.configPath) : process.cwd();
  }

  /** Hot reload (issue 6): a valid change applies at once; an invalid one is refused, loudly. */
  private watchConfig(path: string): void {
    this.watcher = watchConfigFile(path, {
      // Reloads run one at a time, in the order the changes were seen.
      onChange: (config) => {
        this.reloading = this.reloading
          .then(() => this.reload(path, config))
          .catch((err: unknown) => this.bus.log('error', `config ${path} not applied: ${err instanceof Error ? err.message : String(err)}`));
      },
      onInvalid: (problems) => {
        this.bus.log('error', `config ${path} has problems; the previous config stays in force:\n  ${problems.join('\n  ')}`);
      },
    });
  }

  private async reload(path: string, config: ConfigFile): Promise<void> {
    const refs = await checkConfigReferences(config, this.baseDir);
    for (const w of refs.warnings) this.bus.log('warn', `config ${path}: ${w}`);
    if (refs.errors.length) {
      this.bus.log('error', `config ${path} not applied; the previous config stays in force:\n  ${refs.errors.join('\n  ')}`);
      this.watcher?.forget(); // saving the same file again (after fixing what it refers to) retries
      return;
    }
    try {
      this.rules.applyConfig(config, this.baseDir, this.policyFlags);
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      this.bus.log('error', `config ${path} not applied: ${err.message}; the previous config stays in force`);
      this.watcher?.forget();
      return;
    }
    const toggles: { cache?: boolean; noCache?: boolean } = {};
    if (config.cache?.enabled !== undefined) toggles.cache = config.cache.enabled;
    if (config.noCache !== undefined) toggles.noCache = config.noCache;
    if (Object.keys(toggles).length) this.toggles.set(toggles);
    this.bus.log('info', `config ${path} reloaded: ${this.rules.summary()}${restartNote(config, this.startConfig)}`);
  }

  /** `http://HOST:PORT` of the listener (after start). */
  get url(): string {
    const a = this.address;
    if (!a) throw new Error('runtime not started');
    const host = a.address.includes(':') ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  get port(): number {
    return this.proxy.port;
  }

  /** What the metrics read when scraped. */
  private metricsSources(): MetricsSources {
    return {
      mode: this.settings.proxyMode.kind,
      openConnections: () => this.proxy.openConnections,
      flowsInFlight: () => this.proxy.emitter.active,
      pausedFlows: () => this.pauses.size,
      backends: () => this.backends(),
      cacheActive: () => {
        const t = this.toggles.getSnapshot();
        return t.cache && !t.noCache;
      },
      cacheStats: () => this.rules.cache.stats(),
    };
  }

  /**
   * Graceful stop: /healthz turns 503, the listener stops accepting, flows in flight finish up to
   * the deadline (then what is left is cut), every flow is flushed to the session, and the admin
   * endpoint closes last so it can be scraped while draining.
   */
  stop(deadlineMs = 5000): Promise<void> {
    // Idempotent: a second signal (or a test's cleanup) waits for the same stop.
    this.stopping ??= (async () => {
      this.admin?.beginShutdown();
      this.reversePool?.stop();
      this.watcher?.close();
      this.listenerCerts?.close();
      this.watcher = null;
      await this.proxy.stop(deadlineMs);
      this.detachRecorder?.();
      await this.recorder?.close();
      this.store.flush();
      this.store.dispose();
      await this.admin?.close();
    })();
    return this.stopping;
  }
  private stopping: Promise<void> | null = null;

  /** Replace the breakpoints that come from rules (config or the rules pane). */
  setRuleBreakpoints(breakpoints: Breakpoint[]): void {
    this.ruleBreakpoints = breakpoints;
    this.breakpointList = this.interceptBreakpoint ? [this.interceptBreakpoint, ...breakpoints] : breakpoints;
  }

  async execute(command: ProxyCommand): Promise<CommandResult> {
    switch (command.type) {
      case 'mark':
        return this.store.update(command.flowId, (f) => ({ ...f, marked: command.marked })) ? { ok: true } : { ok: false, error: `no flow ${command.flowId}` };
      case 'clear':
        this.store.clear();
        return { ok: true };
      case 'set-intercept':
        return this.setIntercept(command.filter, command.on);
      case 'resume':
        return this.resume(command);
      case 'resume-all': {
        const ids = this.pauses.ids();
        for (const id of ids) this.pauses.decide(id, { action: 'resume' });
        return { ok: true, message: `resumed ${ids.length} flow${ids.length === 1 ? '' : 's'}` };
      }
      case 'kill':
        return this.pauses.decide(command.flowId, { action: 'kill', reason: 'killed by the user' }) ? { ok: true } : { ok: false, error: 'that flow is not paused' };
      case 'respond':
        if (this.pauses.stageOf(command.flowId) === null) return { ok: false, error: 'that flow is not paused' };
        if (!Number.isInteger(command.response.status) || command.response.status < 200 || command.response.status > 599) {
          return { ok: false, error: `status must be between 200 and 599, got ${command.response.status}` };
        }
        this.pauses.decide(command.flowId, { action: 'respond', response: command.response });
        return { ok: true };
      case 'replay':
        return this.replay(command.flowId, command.request);
      case 'block-host':
        return this.policy(() => this.rules.blockHost(command.host));
      case 'set-cache':
        return this.setToggle({ cache: command.enabled }, `response cache ${command.enabled ? 'on' : 'off'}`);
      case 'set-no-cache':
        return this.setToggle({ noCache: command.enabled }, `no caching ${command.enabled ? 'on' : 'off'}`);
      case 'toggle-rule':
        return this.policy(() => this.rules.toggle(command.ruleId, command.enabled));
      case 'remove-rule':
        return this.policy(() => this.rules.remove(command.ruleId));
      default:
        return assertNever(command, 'command');
    }
  }

  private async policy(change: () => Promise<string>): Promise<CommandResult> {
    try {
      const message = await change();
      this.bus.log('info', message);
      return { ok: true, message };
    } catch (err) {
      if (err instanceof PolicyError) return { ok: false, error: err.message };
      return { ok: false, error: `cannot save the rules: ${(err as Error).message}` };
    }
  }

  /** Flip a live toggle and remember it in settings.json for the next start. */
  private async setToggle(change: { cache?: boolean; noCache?: boolean }, message: string): Promise<CommandResult> {
    this.toggles.set(change);
    this.bus.log('info', message);
    try {
      await this.settingsStore?.update((s) => {
        Object.assign(s.toggles, change);
      });
    } catch (err) {
      this.bus.log('warn', `toggle not saved: ${(err as Error).message}`);
    }
    return { ok: true, message };
  }

  private setIntercept(filter: string | null, on: BreakpointStage[]): CommandResult {
    if (filter === null || filter.trim() === '') {
      this.interceptBreakpoint = null;
      this.toggles.set({ intercept: null });
    } else {
      const parsed = parseFilter(filter);
      if (!parsed.ok) return { ok: false, error: formatFilterError(filter, parsed.error) };
      const stages = new Set<BreakpointStage>(on.length ? on : ['request']);
      this.interceptBreakpoint = { label: `intercept ${filter}`, matches: parsed.predicate, on: stages, timeoutMs: null, onTimeout: 'continue' };
      this.toggles.set({ intercept: filter });
    }
    this.setRuleBreakpoints(this.ruleBreakpoints);
    return { ok: true };
  }

  private resume(command: Extract<ProxyCommand, { type: 'resume' }>): CommandResult {
    const stage = this.pauses.stageOf(command.flowId);
    if (stage === null) return { ok: false, error: 'that flow is not paused' };
    const flow = this.store.get(command.flowId);
    // Validate edits here so a bad one is refused and the flow stays paused, unchanged.
    if ((command.request && stage !== 'request') || (command.response && stage !== 'response')) {
      return { ok: false, error: `that flow is paused at the ${stage} stage` };
    }
    try {
      if (command.request && flow) applyRequestEdit(flow.request, command.request, flow.request.body.bytes ?? Buffer.alloc(0));
      if (command.response && flow?.response) applyResponseEdit(flow.response, command.response, flow.response.body.bytes ?? Buffer.alloc(0));
    } catch (err) {
      if (err instanceof EditError) return { ok: false, error: err.message };
      throw err;
    }
    this.pauses.decide(command.flowId, { action: 'resume', ...(command.request ? { request: command.request } : {}), ...(command.response ? { response: command.response } : {}) });
    return { ok: true };
  }

  private replay(flowId: string, edit: RequestEdit | undefined): CommandResult {
    const flow = this.store.get(flowId);
    if (!flow) return { ok: false, error: `no flow ${flowId}` };
    if (flow.kind !== 'http') return { ok: false, error: `cannot replay a ${flow.kind} flow` };
    if (flow.request.body.truncated) return { ok: false, error: 'the request body was not captured whole; cannot replay it' };
    let request = flow.request;
    let body = flow.request.body.bytes ?? Buffer.alloc(0);
    if (edit) {
      try {
        ({ request, body } = applyRequestEdit(request, edit, body));
      } catch (err) {
        if (err instanceof EditError) return { ok: false, error: err.message };
        throw err;
      }
    }
    replayThroughProxy(this.port, request, body, this.ca.certPem, flowId).catch((err: unknown) => {
      this.bus.log('error', `replay of ${flowId} failed: ${err instanceof Error ? err.message : String(err)}`, flowId);
    });
    return { ok: true, message: `replaying ${request.method} ${request.host}` };
  }
}

/** Parts of the config read only at start (everything but rules, access, proxyAuth and the cache toggles). */
const START_ONLY: ReadonlyArray<[string, (c: ConfigFile) => unknown]> = [
  ['listen', (c) => c.listen],
  ['mode', (c) => c.mode],
  ['upstream', (c) => c.upstream],
  ['capture', (c) => c.capture],
  ['store', (c) => c.store],
  ['cache.maxBytes', (c) => c.cache?.maxBytes],
  ['admin', (c) => c.admin],
  ['accessLog', (c) => c.accessLog],
  ['ignoreHosts', (c) => c.ignoreHosts],
  ['resolve', (c) => c.resolve],
  ['reverse', (c) => c.reverse],
  ['compression', (c) => c.compression],
];

/** Say so when a reload changes settings that are read only at start. */
function restartNote(config: ConfigFile, atStart: ConfigFile): string {
  const changed = START_ONLY.filter(([, get]) => JSON.stringify(get(config)) !== JSON.stringify(get(atStart))).map(([name]) => name);
  return changed.length ? ` (${changed.join(', ')}: read at start only; restart to apply)` : '';
}
