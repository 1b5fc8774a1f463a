import type { Flow } from '../proxy/core/flow.js';
import type { ProxyEvent } from '../proxy/core/events.js';
import { WS_MAX_MESSAGES_PER_FLOW } from '../proxy/core/ws-frames.js';
import { BodyBudget } from './body-budget.js';
import type { ScanRequest } from './flow-scan.js';
import type { IndexLogOptions } from './log-indexer.js';
import { heldBodyBytes, needsBodies, releaseBodies } from './session-bodies.js';
import type { LineLocation } from './session-log.js';
import { StoreSession } from './store-session.js';
import { DEFAULT_STORE_BODY_BYTES, type FlowStoreOptions, type LogEntry, type StoreSnapshot } from './store-snapshot.js';

export type { FlowStoreOptions, LogEntry, StoreSnapshot } from './store-snapshot.js';
export { DEFAULT_STORE_BODY_BYTES } from './store-snapshot.js';

/**
 * The in-memory flow store: a reducer over bus events into a bounded ring, with the
 * subscribe/getSnapshot pair React's `useSyncExternalStore` expects. Notifications are coalesced so
 * a burst of traffic costs subscribers one render per window.
 *
 * Bounded memory (DESIGN.md §9, issue 7): the ring holds the newest `maxFlows` flows and their
 * bodies up to `maxBodyBytes`. With a session attached (`useSession`, told where each flow was
 * recorded through `recorded`), nothing leaves the view when it leaves memory: a compact index
 * (log-index.ts, 16 bytes a flow) keeps where every flow's line is, older rows are read back when
 * the list shows them (session-rows.ts), let-go bodies when a flow is opened, and filters cover
 * older flows with a background scan (flow-scan.ts).
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
  /**
   * The current snapshot; null when changes happened with nobody subscribed (rebuilt on demand), so
   * a snapshot nobody reads does not pin flows (and body bytes) the store has let go of.
   */
  private snapshot: StoreSnapshot | null;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  /** Body bytes held by the ring, and the order to let go of them in. */
  private readonly budget: BodyBudget;
  private session: StoreSession | null = null;
  /** With a session: the oldest sequence in view (moved by `clear`). */
  private firstSeq = 0;
  /** Flows evicted from the ring while still in flight, kept until recorded (by sequence and id). */
  private readonly detached = new Map<number, Flow>();
  private readonly detachedIds = new Map<string, number>();

  constructor(opts: FlowStoreOptions = {}) {
    this.maxFlows = opts.maxFlows ?? 20000;
    this.budget = new BodyBudget(opts.maxBodyBytes ?? DEFAULT_STORE_BODY_BYTES, 2 * this.maxFlows + 1024);
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
        // Fold the message into the flow. The flow is replaced, never mutated, so snapshots
        // already handed out stay as they were; the cap matches the one the relay applies.
        const live = this.liveFlow(event.flowId);
        if (!live) return; // unknown or already recorded: nothing changed
        const ws = live.websocket ?? { messages: [], droppedMessages: 0, closeCode: null, closeReason: null, closedBy: null };
        const websocket =
          ws.messages.length < WS_MAX_MESSAGES_PER_FLOW ? { ...ws, messages: [...ws.messages, event.message] } : { ...ws, droppedMessages: ws.droppedMessages + 1 };
        this.upsert({ ...live, websocket });
        break;
      }
      case 'log':
        this.pushLog(event.flowId === undefined ? { time: event.time, level: event.level, message: event.message } : { time: event.time, level: event.level, message: event.message, flowId: event.flowId });
        break;
    }
    this.changed();
  }

  /** Add flows that did not come from the bus (e.g. loaded from a session). */
  add(flow: Flow): void {
    this.upsert(flow);
    this.changed();
  }

  /**
   * Replace a flow by id (e.g. marking it). An older flow (read back from the session) keeps the
   * change in memory. Returns false when no flow in view has that id.
   */
  update(id: string, change: (flow: Flow) => Flow): boolean {
    const live = this.liveFlow(id);
    if (live) this.upsert(change(live));
    else {
      const older = this.session?.findOlder(id, this.first(), this.heldFrom()) ?? null;
      if (!older) return false;
      this.session!.edit(older.seq, change(older.flow));
    }
    this.changed();
    return true;
  }

  clear(): void {
    this.ring = new Array(Math.min(this.maxFlows, 1024));
    this.head = 0;
    this.size = 0;
    this.byId.clear();
    this.pausedCount = 0;
    this.budget.clear();
    this.detached.clear();
    this.detachedIds.clear();
    this.firstSeq = this.totalSeen;
    this.session?.clear(this.totalSeen);
    this.changed();
  }

  /**
   * The flow with this id, whole: a held flow as it is, and one whose bodies (or whole line) are in
   * the session read back now. The read is synchronous (one line and at most two blobs): this is for
   * commands (replay, resume), never for rendering, which uses the snapshot.
   */
  get(id: string): Flow | undefined {
    const held = this.byId.get(id);
    if (held) return this.session ? this.session.whole(held.seq, held.flow) : held.flow;
    const detached = this.detachedIds.get(id);
    if (detached !== undefined) return this.detached.get(detached);
    const older = this.session?.findOlder(id, this.first(), this.heldFrom());
    return older ? this.session!.whole(older.seq, older.flow) : undefined;
  }

  /** All held flows, oldest first (a copy). */
  list(): Flow[] {
    const out: Flow[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.ring[(this.head + i) % this.ring.length]!);
    return out;
  }

  /** Body bytes held in memory now (for tests and the memory report). */
  get heldBodyBytes(): number {
    return this.budget.bytes;
  }

  /**
   * Read older flows and let-go bodies back from the session in `dir` from now on. Call before
   * traffic (flows held at this point cannot be read back once evicted).
   */
  useSession(dir: string): void {
    if (this.session) throw new Error('the store already reads from a session');
    this.session = new StoreSession(dir, this.totalSeen, {
      changed: () => this.changed(),
      warn: (m) => this.warn(m),
      memoryFlow: (seq) => this.memoryFlow(seq),
    });
    this.firstSeq = this.heldFrom();
  }

  /**
   * Put every flow of the attached session's log in view without loading any (`proxyctl open`):
   * the log is indexed (offsets only) and rows are read when shown. Returns the flows indexed.
   */
  async indexSession(opts: IndexLogOptions = {}): Promise<number> {
    const s = this.session;
    if (!s) throw new Error('useSession first');
    if (this.totalSeen !== s.index.end || this.size > 0) throw new Error('index the session before adding flows');
    const n = await s.indexLog(opts);
    this.totalSeen = s.index.end;
    this.changed();
    return n;
  }

  /** The recorder wrote flow `id` as the line at `at`: it can be read back, and its bytes let go of. */
  recorded(id: string, at: LineLocation): void {
    const s = this.session;
    if (!s) return;
    // The bus may deliver `flow-end` to the recorder before the store: the flow in memory can
    // still be in its last unfinished state here; `upsert` finishes the job when the end arrives.
    const held = this.byId.get(id);
    const seq = held?.seq ?? this.detachedIds.get(id);
    if (seq === undefined) return;
    s.index.setLocation(seq, at.offset, at.length);
    if (held) this.queueRelease(seq, held.flow);
    else if (settled(this.detached.get(seq)!)) this.dropDetached(seq, id);
    this.changed();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): StoreSnapshot => {
    // Without subscribers nothing is published; build the snapshot on demand instead.
    if (!this.snapshot || (this.listeners.size === 0 && this.snapshot.version !== this.version)) this.snapshot = this.makeSnapshot();
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
    this.session?.dispose();
  }

  private upsert(flow: Flow): void {
    const old = this.byId.get(flow.id);
    if (old) {
      this.pausedCount += isPaused(flow) - isPaused(old.flow);
      this.budget.bytes += heldBodyBytes(flow) - heldBodyBytes(old.flow);
      const pos = old.seq - (this.totalSeen - this.size);
      this.ring[(this.head + pos) % this.ring.length] = flow;
      old.flow = flow;
      // Bytes put back on a recorded flow (a late update) may be let go of again.
      if (this.session && this.session.index.offsetOf(old.seq) >= 0) this.queueRelease(old.seq, flow);
      this.enforceBudget();
      return;
    }
    const detachedSeq = this.detachedIds.get(flow.id);
    if (detachedSeq !== undefined) {
      this.pausedCount += isPaused(flow) - isPaused(this.detached.get(detachedSeq)!);
      this.detached.set(detachedSeq, flow);
      if (settled(flow) && this.session!.index.offsetOf(detachedSeq) >= 0) this.dropDetached(detachedSeq, flow.id);
      return;
    }
    const seq = this.totalSeen++;
    this.session?.index.append(seq, flow.id);
    if (this.size === this.maxFlows) {
      const evicted = this.ring[this.head]!;
      this.byId.delete(evicted.id);
      this.budget.bytes -= heldBodyBytes(evicted);
      if (this.session && (!settled(evicted) || this.session.index.offsetOf(seq - this.maxFlows) < 0)) {
        // Still in flight, or finished but its line not written yet (the recorder writes at the
        // end of the turn): it stays in view (and in memory) at its place until it is recorded.
        this.detached.set(seq - this.maxFlows, evicted);
        this.detachedIds.set(evicted.id, seq - this.maxFlows);
      } else {
        this.pausedCount -= isPaused(evicted);
        // The line on disk may predate the mark: keep it, or the flow comes back unmarked.
        if (this.session && evicted.marked) this.session.edit(seq - this.maxFlows, releaseBodies(evicted));
      }
      this.ring[this.head] = flow;
      this.head = (this.head + 1) % this.ring.length;
    } else {
      if (this.size === this.ring.length) this.grow();
      this.ring[(this.head + this.size) % this.ring.length] = flow;
      this.size++;
    }
    this.byId.set(flow.id, { flow, seq });
    this.pausedCount += isPaused(flow);
    this.budget.bytes += heldBodyBytes(flow);
    this.enforceBudget();
  }

  /** A detached flow finished and was recorded: its row is on disk, memory need not keep it. */
  private dropDetached(seq: number, id: string): void {
    const flow = this.detached.get(seq)!;
    // A mark may be newer than its line (set in the turn the line waited to be written): keep it, as eviction does.
    if (flow.marked) this.session?.edit(seq, releaseBodies(flow));
    this.pausedCount -= isPaused(flow);
    this.detached.delete(seq);
    this.detachedIds.delete(id);
  }

  private queueRelease(seq: number, flow: Flow): void {
    if (heldBodyBytes(flow) === 0) return;
    this.budget.push(seq, this.heldFrom());
    this.enforceBudget();
  }

  /**
   * Over the byte budget: let go of the bytes of the oldest recorded flows (in recording order)
   * until under it. Only recorded flows are queued and only finished ones are let go of, so a flow
   * in flight or paused never loses its bytes; its line and blobs are on disk to read them back.
   */
  private enforceBudget(): void {
    if (!this.budget.over) return;
    const oldest = this.heldFrom();
    this.budget.enforce((seq) => {
      if (seq < oldest) return 0;
      const slot = (this.head + seq - oldest) % this.ring.length;
      const flow = this.ring[slot]!;
      if (!settled(flow)) return 0;
      const released = releaseBodies(flow);
      if (released === flow) return 0;
      this.ring[slot] = released;
      this.byId.get(flow.id)!.flow = released;
      return heldBodyBytes(flow);
    });
  }

  private grow(): void {
    const next: (Flow | undefined)[] = new Array(Math.min(this.maxFlows, this.ring.length * 2));
    for (let i = 0; i < this.size; i++) next[i] = this.ring[(this.head + i) % this.ring.length];
    this.ring = next;
    this.head = 0;
  }

  /** A flow that can still change: held, or evicted while in flight. */
  private liveFlow(id: string): Flow | undefined {
    const held = this.byId.get(id);
    if (held) return held.flow;
    const seq = this.detachedIds.get(id);
    return seq === undefined ? undefined : this.detached.get(seq);
  }

  /** The flow at `seq` if memory has it: held, or detached while in flight. */
  private memoryFlow(seq: number): Flow | undefined {
    const oldest = this.heldFrom();
    if (seq >= oldest) return this.ring[(this.head + seq - oldest) % this.ring.length];
    return this.detached.get(seq);
  }

  /** Oldest sequence in view. */
  private first(): number {
    return this.session ? this.firstSeq : this.heldFrom();
  }

  /** Oldest sequence held in the ring. */
  private heldFrom(): number {
    return this.totalSeen - this.size;
  }

  /** The snapshot's `hydrate`, `read` and `scan`: the same functions in every snapshot (stable for effects). */
  private readonly hydrateFn = (seq: number): void => this.hydrate(seq);
  private readonly readFn = (seq: number): Promise<Flow | undefined> => this.readWhole(seq);
  private readonly scanFn = (request: ScanRequest | null): void => this.session?.scan(request);

  private hydrate(seq: number): void {
    const s = this.session;
    if (!s || seq < this.first() || seq >= this.totalSeen) return;
    const flow = seq >= this.heldFrom() ? this.memoryFlow(seq) : s.older(seq, this.detached.get(seq));
    if (flow && !needsBodies(flow)) return;
    void s.rows.hydrate(seq);
  }

  /** The flow at `seq` whole, its row and bodies read off the event loop if need be (exports). */
  private async readWhole(seq: number): Promise<Flow | undefined> {
    if (seq < this.first() || seq >= this.totalSeen) return undefined;
    const s = this.session;
    const inMemory = this.memoryFlow(seq);
    if (!s) return inMemory;
    const base = seq >= this.heldFrom() ? inMemory : (s.edited(seq) ?? inMemory ?? (await s.rows.row(seq)));
    if (!base || base instanceof Error) return undefined; // an unreadable line: nothing to give
    if (!needsBodies(base)) return base;
    await s.rows.hydrate(seq);
    return s.rows.withBodies(seq, base);
  }

  private warn(message: string): void {
    this.pushLog({ time: Date.now(), level: 'warn', message });
    this.changed();
  }

  private pushLog(entry: LogEntry): void {
    this.logEntries.push(entry);
    if (this.logEntries.length > this.maxLog) this.logEntries.splice(0, this.logEntries.length - this.maxLog);
  }

  private changed(): void {
    this.version++;
    if (this.listeners.size === 0) {
      this.snapshot = null;
      return;
    }
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
    if (this.snapshot?.version === this.version) return;
    this.lastPublish = Date.now();
    this.snapshot = this.makeSnapshot();
    for (const l of this.listeners) l();
  }

  /**
   * Snapshots are immutable as far as held flows go (React requires it): the ordered held list is
   * copied when published, which costs a pointer copy per held flow at most once per notification
   * window. Older flows come from the session's caches, which only ever fill in what was missing.
   */
  private makeSnapshot(): StoreSnapshot {
    const flows = this.list();
    const first = this.first();
    const end = this.totalSeen;
    const heldFrom = end - flows.length;
    const session = this.session;
    let index: Map<string, Flow> | null = null;
    return {
      version: this.version,
      count: end - first,
      totalSeen: end,
      held: flows.length,
      paused: this.pausedCount,
      at: (i) => {
        const seq = first + i;
        if (i < 0 || seq >= end) return undefined;
        if (seq >= heldFrom) {
          const flow = flows[seq - heldFrom]!;
          return session && needsBodies(flow) ? session.rows.withBodies(seq, flow) : flow;
        }
        return session ? session.older(seq, this.detached.get(seq)) : undefined;
      },
      get: (id) => {
        if (!index) {
          index = new Map();
          for (const f of flows) index.set(f.id, f);
        }
        return index.get(id);
      },
      log: this.logEntries.slice(-200),
      hydrate: this.hydrateFn,
      read: this.readFn,
      scan: this.scanFn,
    };
  }
}

function isPaused(flow: Flow): number {
  return flow.phase === 'request-paused' || flow.phase === 'response-paused' ? 1 : 0;
}

function settled(flow: Flow): boolean {
  return flow.phase === 'done' || flow.phase === 'error';
}
