import type { AddressInfo } from 'node:net';
import { CertificateAuthority } from './ca/index.js';
import { caDir } from './config/paths.js';
import type { StartSettings } from './config/start-options.js';
import { EventBus } from './proxy/bus.js';
import type { CommandApi, CommandResult, ProxyCommand } from './proxy/core/commands.js';
import type { Addon } from './proxy/core/pipeline.js';
import { defaultProxyOptions, type ProxyOptions } from './proxy/net/options.js';
import { ProxyServer } from './proxy/net/proxy-server.js';
import { FlowStore } from './store/flow-store.js';
import { Toggles } from './store/toggles.js';

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
}

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
  private addons: Addon[] = [];
  private address: AddressInfo | null = null;

  private constructor(
    readonly ca: CertificateAuthority,
    readonly settings: StartSettings,
    opts: RuntimeOptions,
  ) {
    this.bus = new EventBus((err) => process.emitWarning(`proxyctl: event subscriber failed: ${String(err)}`));
    this.store = new FlowStore({ maxFlows: settings.maxFlows, notifyIntervalMs: opts.storeNotifyMs ?? 50 });
    this.bus.onAny((event) => this.store.apply(event));
    const netOpts: ProxyOptions = {
      ...defaultProxyOptions,
      host: settings.host,
      port: settings.port,
      insecure: settings.insecure,
      ignoreHosts: settings.ignoreHosts,
      resolve: settings.resolve,
      maxBodyBytes: settings.maxBodyBytes,
      upstreamTimeoutMs: settings.upstreamTimeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
      upstreamCa: opts.upstreamCa ?? null,
      ...opts.net,
    };
    this.proxy = new ProxyServer(netOpts, { bus: this.bus, certificates: ca, addons: () => this.addons });
  }

  static async create(opts: RuntimeOptions): Promise<Runtime> {
    const ca = opts.ca ?? (await CertificateAuthority.loadOrCreate({ dir: caDir(opts.home) }));
    return new Runtime(ca, opts.settings, opts);
  }

  async start(): Promise<AddressInfo> {
    this.address = await this.proxy.listen();
    return this.address;
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

  /** Graceful stop: stop accepting, drain flows in flight up to the deadline, close. */
  async stop(deadlineMs = 5000): Promise<void> {
    await this.proxy.stop(deadlineMs);
    this.store.flush();
    this.store.dispose();
  }

  async execute(command: ProxyCommand): Promise<CommandResult> {
    switch (command.type) {
      case 'mark':
        return this.store.update(command.flowId, (f) => ({ ...f, marked: command.marked })) ? { ok: true } : { ok: false, error: `no flow ${command.flowId}` };
      case 'clear':
        this.store.clear();
        return { ok: true };
      default:
        return { ok: false, error: `${command.type} is not available yet` };
    }
  }
}
