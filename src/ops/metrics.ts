import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus } from '../proxy/bus.js';
import type { ProxyMode } from '../config/mode.js';
import { proxyOverheadMs } from '../proxy/core/flow.js';
import type { BackendStatus } from '../proxy/reverse/status.js';
import { CACHE_OUTCOMES, METHOD_LABELS, STATUS_CLASSES } from './flow-facts.js';
import { FLOW_KINDS, TrafficTally } from './traffic-tally.js';

/** Every family name starts with this (DESIGN.md §7). */
export const METRIC_PREFIX = 'proxyctl_';

/** What the metrics read at scrape time, from the runtime (the ops code never imports it). */
export interface MetricsSources {
  /** The proxy's mode (`regular`, `reverse` …): a label on every series. */
  mode: ProxyMode['kind'];
  /** Client connections open on the listener. */
  openConnections(): number;
  /** Flows started and not yet finished. */
  flowsInFlight(): number;
  /** Flows waiting at a breakpoint. */
  pausedFlows(): number;
  /** Reverse-mode backends (empty in other modes). */
  backends(): readonly BackendStatus[];
  /** The response cache is on and not bypassed by "no caching" (what makes a forwarded GET a miss). */
  cacheActive(): boolean;
  cacheStats(): { entries: number; bytes: number; maxBytes: number };
}

/** What /healthz reports. */
export interface HealthSnapshot {
  uptimeSeconds: number;
  flows: { inFlight: number; finished: number; paused: number };
  openConnections: number;
}

/**
 * Time from the first request byte to the end of the response. Local answers take well under a
 * millisecond, slow origins seconds; a minute is where clients usually give up.
 */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** The proxy's own added time: normally tens to hundreds of microseconds; a breakpoint makes it seconds. */
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 10];

/**
 * The Prometheus families of issue 8 in a private registry (never prom-client's global one: two
 * runtimes in one process, as in the tests, must not share counts).
 *
 * Cost per flow: one `flow-end` listener that bumps plain numbers (TrafficTally) and makes two
 * histogram observations. Counters and gauges are filled from the tally and the runtime only when
 * scraped. `mode` is constant for a process, so it is a registry-wide label added at scrape time
 * rather than a label every observation has to carry.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly tally = new TrafficTally();
  private readonly startedAt: number;
  private readonly detachers: Array<() => void>;
  private readonly duration: Histogram;
  private readonly overhead: Histogram;

  constructor(
    bus: EventBus,
    private readonly sources: MetricsSources,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
    this.registry.setDefaultLabels({ mode: sources.mode });
    const registers = [this.registry];
    const name = (n: string) => `${METRIC_PREFIX}${n}`;

    this.duration = new Histogram({
      name: name('request_duration_seconds'),
      help: 'Total time of HTTP exchanges, from the request to the last response byte.',
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.overhead = new Histogram({
      name: name('proxy_overhead_seconds'),
      help: 'Time the proxy itself added before a request left for the origin (parsing, rules, dispatch; not the origin connect). Requests answered locally have none.',
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.counterFamilies(registers, name);
    this.gaugeFamilies(registers, name);
    this.backendFamilies(registers, name);

    const tally = this.tally;
    this.detachers = [
      bus.on('flow-end', ({ flow }) => {
        tally.record(flow, sources.cacheActive());
        if (flow.kind === 'http' && flow.timings.responseEnd !== null) this.duration.observe(flow.timings.responseEnd / 1000);
        const overhead = proxyOverheadMs(flow.timings);
        if (overhead !== null) this.overhead.observe(overhead / 1000);
      }),
      bus.on('ws-message', ({ message }) => tally.recordWsMessage(message.direction, message.size)),
    ];
  }

  /** Counters copied from the tally when scraped; label objects are made then, not per flow. */
  private counterFamilies(registers: Registry[], name: (n: string) => string): void {
    const tally = this.tally;
    new Counter({
      name: name('requests_total'),
      help: 'Finished flows by request method, response status class (none: no response was sent) and proxy mode. CONNECT counts tunnels and refused CONNECTs; requests inside an intercepted tunnel count on their own.',
      labelNames: ['method', 'status_class'],
      registers,
      collect() {
        this.reset();
        tally.requests.forEach((n, i) => {
          if (n > 0) this.inc({ method: METHOD_LABELS[Math.floor(i / STATUS_CLASSES.length)]!, status_class: STATUS_CLASSES[i % STATUS_CLASSES.length]! }, n);
        });
      },
    });
    const bytes = (n: string, help: string, values: Float64Array) =>
      new Counter({
        name: name(n),
        help,
        labelNames: ['kind'],
        registers,
        collect() {
          this.reset();
          FLOW_KINDS.forEach((kind, i) => this.inc({ kind }, values[i]!));
        },
      });
    bytes('received_bytes_total', 'Body bytes received from clients: request bodies, WebSocket messages from the client, tunnel bytes towards the server.', tally.received);
    bytes('sent_bytes_total', 'Body bytes sent to clients: response bodies, WebSocket messages from the server, tunnel bytes towards the client.', tally.sent);
    new Counter({
      name: name('cache_lookups_total'),
      help: 'Requests the response cache looked up, by result: hit (fresh copy), stale (stale copy served), revalidated (304 from the origin, stored copy served), miss (sent to the origin, or only-if-cached with nothing stored).',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        CACHE_OUTCOMES.forEach((result, i) => this.inc({ result }, tally.cache[i]!));
      },
    });
    const plain = (n: string, help: string, read: () => number) =>
      new Counter({
        name: name(n),
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    plain('blocked_total', 'Requests and CONNECTs a block rule answered or dropped.', () => tally.blocked);
    plain('auth_failures_total', 'Requests and CONNECTs refused for missing or wrong proxy credentials (407).', () => tally.authFailures);
    plain('rate_limited_total', 'Requests refused by a rate limit (429).', () => tally.rateLimited);
  }

  /** State of the proxy as it is when scraped. */
  private gaugeFamilies(registers: Registry[], name: (n: string) => string): void {
    const sources = this.sources;
    const gauge = (n: string, help: string, read: () => number) =>
      new Gauge({
        name: name(n),
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('open_connections', 'Client connections open on the proxy listener.', () => sources.openConnections());
    gauge('flows_in_flight', 'Flows started and not yet finished.', () => sources.flowsInFlight());
    gauge('paused_flows', 'Flows waiting at a breakpoint.', () => sources.pausedFlows());
    gauge('cache_entries', 'Responses stored in the response cache.', () => sources.cacheStats().entries);
    gauge('cache_size_bytes', 'Bytes the response cache holds.', () => sources.cacheStats().bytes);
    gauge('cache_max_bytes', 'Byte budget of the response cache.', () => sources.cacheStats().maxBytes);
    gauge('start_time_seconds', 'When the proxy started, seconds since the Unix epoch.', () => this.startedAt / 1000);
  }

  /** Per-backend families (reverse mode), read from the balancer when scraped; a removed backend's series go. */
  private backendFamilies(registers: Registry[], name: (n: string) => string): void {
    const backends = () => this.sources.backends();
    const labelNames = ['group', 'url'] as const;
    new Gauge({
      name: name('backend_healthy'),
      help: 'Reverse mode: 1 while the backend gets new requests, 0 while health checks consider it down.',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const b of backends()) this.set({ group: b.group, url: b.url }, b.healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: name('backend_in_flight'),
      help: 'Reverse mode: requests the backend is serving now.',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const b of backends()) this.set({ group: b.group, url: b.url }, b.inFlight);
      },
    });
    new Counter({
      name: name('backend_requests_total'),
      help: 'Reverse mode: requests sent to the backend since start.',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const b of backends()) this.inc({ group: b.group, url: b.url }, b.requests);
      },
    });
    new Counter({
      name: name('backend_failures_total'),
      help: 'Reverse mode: connection failures and 5xx responses from the backend since start.',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const b of backends()) this.inc({ group: b.group, url: b.url }, b.failures);
      },
    });
  }

  /** The Prometheus text exposition of every family. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  health(): HealthSnapshot {
    return {
      uptimeSeconds: Math.round(this.now() - this.startedAt) / 1000,
      flows: { inFlight: this.sources.flowsInFlight(), finished: this.tally.finished, paused: this.sources.pausedFlows() },
      openConnections: this.sources.openConnections(),
    };
  }

  /** Stop counting (the runtime is stopping). */
  detach(): void {
    for (const d of this.detachers) d();
  }
}
