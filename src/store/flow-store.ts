import type { Flow } from '../proxy/core/flow.js';
import type { ProxyEvent, LogLevel } from '../proxy/core/events.js';
import { WS_MAX_MESSAGES_PER_FLOW } from '../proxy/core/ws-frames.js';

export interface LogEntry {
  time: number;
  level: LogLevel;
  message: string;
  flowId?: string;
}

/** What `getSnapshot()` returns: a new object whenever anything changed (for useSyncExternalStore). */
export interface StoreSnapshot {
  /** Increments on every change that was published. */
  version: number;
  /** Flows currently held, oldest first. */
  count: number;
  /** Flows ever added (including evicted ones). */
  totalSeen: number;
  /** Flows currently paused at a breakpoint. */
  paused: number;
  /** The flow at position `index` (0 = oldest held). */
  at(index: number): Flow | undefined;
  get(id: string): Flow | undefined;
  /** Newest log entries, oldest first. */
  log: readonly LogEntry[];
}

export interface FlowStoreOptions {
  /** Flows kept in memory; the oldest are evicted beyond it. @default 20000 */
  maxFlows?: number;
  /** Log entries kept. @default 1000 */
  maxLog?: number;
  /**
   * Coalescing window for subscriber notifications in ms; 0 notifies synchronously.
   * @default 50
   */
  notifyIntervalMs?: number;
  /**
   * Coalescing window while traffic is sustained (a publish happened in the last 500 ms). Renders
   * cost the proxy's own thread; measured with the TUI open, 50 ms windows cut plain-HTTP
   * throughput to about 0.4 of headless and 250 ms windows kept it at about 1.0.
   * @default notifyIntervalMs
   */
  busyNotifyIntervalMs?: number;
}

/**
 * The in-memory flow store: a reducer over bus events into a bounded ring, with the
 * subscribe/getSnapshot pair React's `useSyncExternalStore` expects. Notifications are coalesced so
 * a burst of traffic costs subscribers one render per window.
 */
export class FlowStore {
  private readonly maxFlows: number;
  private readonly maxLog: number;
  private readonly notifyIntervalMs: number;
  private readonly busyNotifyIntervalMs: number;
  private lastPublish = 0;
  /** Ring buffer of flows in arrival order. */
  private ring: (Flow | undefined)[];
  private head = 0; // index of the oldest flow
  private size = 0;
  /** Flow and its arrival sequence number (position in the ring = seq - oldest seq). */
  private readonly byId = new Map<string, { flow: Flow; seq: number }>();
  private readonly logEntries: LogEntry[] = [];
  private totalSeen = 0;
  private pausedCount = 0;
  private version = 0;
  private snapshot: StoreSnapshot;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;

  constructor(opts: FlowStoreOptions = {}) {
    this.maxFlows = opts.maxFlows ?? 20000;
    this.maxLog = opts.maxLog ?? 1000;
    this.notifyIntervalMs = opts.notifyIntervalMs ?? 50;
    this.busyNotifyIntervalMs = opts.busyNotifyIntervalMs ?? this.notifyIntervalMs;
    this.ring = new Array(Math.min(this.maxFlows, 1024));
    this.snapshot = this.makeSnapshot();
  }

  /** The reducer: fold one bus event into the store. */
  apply(event: ProxyEvent): void {
    switch (event.type) {
      case 'flow-start':
      case 'flow-update':
      case 'flow-end':
        this.upsert(event.flow);
        break;
      case 'ws-message': {
        // Fold the message into the held flow. The flow is replaced, never mutated, so snapshots
        // already handed out stay as they were; the cap matches the one the relay applies.
        const held = this.byId.get(event.flowId);
        if (!held) return; // unknown or already evicted: nothing changed
        const ws = held.flow.websocket ?? { messages: [], droppedMessages: 0, closeCode: null, closeReason: null, closedBy: null };
        const websocket =
          ws.messages.length < WS_MAX_MESSAGES_PER_FLOW ? { ...ws, messages: [...ws.messages, event.message] } : { ...ws, droppedMessages: ws.droppedMessages + 1 };
        this.upsert({ ...held.flow, websocket });
        break;
      }
      case 'log':
        this.logEntries.push(event.flowId === undefined ? { time: event.time, level: event.level, message: event.message } : { time: event.time, level: event.level, message: event.message, flowId: event.flowId });
        if (this.logEntries.length > this.maxLog) this.logEntries.splice(0, this.logEntries.length - this.maxLog);
        break;
    }
    this.changed();
  }

  /** Add flows that did not come from the bus (e.g. loaded from a session). */
  add(flow: Flow): void {
    this.upsert(flow);
    this.changed();
  }

  /** Replace a flow by id (e.g. marking it). Returns false when it is not held. */
  update(id: string, change: (flow: Flow) => Flow): boolean {
    const old = this.byId.get(id);
    if (!old) return false;
    this.upsert(change(old.flow));
    this.changed();
    return true;
  }

  clear(): void {
    this.ring = new Array(Math.min(this.maxFlows, 1024));
    this.head = 0;
    this.size = 0;
    this.byId.clear();
    this.pausedCount = 0;
    this.changed();
  }

  get(id: string): Flow | undefined {
    return this.byId.get(id)?.flow;
  }

  /** All held flows, oldest first (a copy). */
  list(): Flow[] {
    const out: Flow[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.ring[(this.head + i) % this.ring.length]!);
    return out;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): StoreSnapshot => {
    // Without subscribers nothing is published; build the snapshot on demand instead.
    if (this.listeners.size === 0 && this.snapshot.version !== this.version) this.snapshot = this.makeSnapshot();
    return this.snapshot;
  };

  /** Publish pending changes now (tests, shutdown). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.publish();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  private upsert(flow: Flow): void {
    const old = this.byId.get(flow.id);
    if (old) {
      this.pausedCount += isPaused(flow) - isPaused(old.flow);
      const pos = old.seq - (this.totalSeen - this.size);
      this.ring[(this.head + pos) % this.ring.length] = flow;
      old.flow = flow;
      return;
    }
    const seq = this.totalSeen++;
    if (this.size === this.maxFlows) {
      const evicted = this.ring[this.head]!;
      this.byId.delete(evicted.id);
      this.pausedCount -= isPaused(evicted);
      this.ring[this.head] = flow;
      this.head = (this.head + 1) % this.ring.length;
    } else {
      if (this.size === this.ring.length) this.grow();
      this.ring[(this.head + this.size) % this.ring.length] = flow;
      this.size++;
    }
    this.byId.set(flow.id, { flow, seq });
    this.pausedCount += isPaused(flow);
  }

  private grow(): void {
    const next: (Flow | undefined)[] = new Array(Math.min(this.maxFlows, this.ring.length * 2));
    for (let i = 0; i < this.size; i++) next[i] = this.ring[(this.head + i) % this.ring.length];
    this.ring = next;
    this.head = 0;
  }

  private changed(): void {
    this.version++;
    if (this.listeners.size === 0) return;
    if (this.notifyIntervalMs === 0) {
      this.publish();
      return;
    }
    if (!this.timer) {
      // The first change after a quiet spell shows quickly; a steady stream refreshes less often.
      const busy = Date.now() - this.lastPublish < 500;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.publish();
      }, busy ? this.busyNotifyIntervalMs : this.notifyIntervalMs);
      this.timer.unref();
    }
  }

  private publish(): void {
    if (this.snapshot.version === this.version) return;
    this.lastPublish = Date.now();
    this.snapshot = this.makeSnapshot();
    for (const l of this.listeners) l();
  }

  /**
   * Snapshots are immutable (React requires it): the ordered flow list is copied when published,
   * which costs a pointer copy per held flow at most once per notification window.
   */
  private makeSnapshot(): StoreSnapshot {
    const flows = this.list();
    let index: Map<string, Flow> | null = null;
    return {
      version: this.version,
      count: flows.length,
      totalSeen: this.totalSeen,
      paused: this.pausedCount,
      at: (i) => flows[i],
      get: (id) => {
        if (!index) {
          index = new Map();
          for (const f of flows) index.set(f.id, f);
        }
        return index.get(id);
      },
      log: this.logEntries.slice(-200),
    };
  }
}

function isPaused(flow: Flow): number {
  return flow.phase === 'request-paused' || flow.phase === 'response-paused' ? 1 : 0;
}
