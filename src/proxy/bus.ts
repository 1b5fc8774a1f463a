import type { ProxyEvent, ProxyEventType, LogLevel } from './core/events.js';

type Listener<T extends ProxyEventType> = (event: Extract<ProxyEvent, { type: T }>) => void;
type AnyListener = (event: ProxyEvent) => void;

/**
 * The typed event stream every face of proxyctl subscribes to (DESIGN.md §1).
 *
 * Delivery is synchronous and each listener is guarded: a throwing subscriber is reported on
 * `onListenerError` and never reaches the socket code that emitted. Producers call `wants(type)`
 * first so that no snapshot is built when nobody listens.
 */
export class EventBus {
  private readonly byType = new Map<ProxyEventType, Set<AnyListener>>();
  private readonly all = new Set<AnyListener>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  on<T extends ProxyEventType>(type: T, listener: Listener<T>): () => void {
    let set = this.byType.get(type);
    if (!set) this.byType.set(type, (set = new Set()));
    set.add(listener as AnyListener);
    return () => set.delete(listener as AnyListener);
  }

  onAny(listener: AnyListener): () => void {
    this.all.add(listener);
    return () => this.all.delete(listener);
  }

  wants(type: ProxyEventType): boolean {
    return this.all.size > 0 || (this.byType.get(type)?.size ?? 0) > 0;
  }

  emit(event: ProxyEvent): void {
    const set = this.byType.get(event.type);
    if (set) for (const l of set) this.call(l, event);
    for (const l of this.all) this.call(l, event);
  }

  log(level: LogLevel, message: string, flowId?: string): void {
    if (!this.wants('log')) return;
    this.emit(flowId === undefined ? { type: 'log', level, message, time: Date.now() } : { type: 'log', level, message, flowId, time: Date.now() });
  }

  private call(listener: AnyListener, event: ProxyEvent): void {
    try {
      listener(event);
    } catch (err) {
      this.onListenerError(err);
    }
  }
}
