import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProxyEvent } from '../../../src/proxy/core/events.js';
import type { Flow, FlowPhase } from '../../../src/proxy/core/flow.js';
import { FlowStore, type StoreSnapshot } from '../../../src/store/flow-store.js';
import { makeFlow } from '../../helpers/make-flow.js';

function flowWith(id: string, phase: FlowPhase = 'done', tag?: string): Flow {
  return makeFlow({ id, phase, tags: tag ? [tag] : [] });
}
const start = (f: Flow): ProxyEvent => ({ type: 'flow-start', flow: f });
const update = (f: Flow): ProxyEvent => ({ type: 'flow-update', flow: f });
const end = (f: Flow): ProxyEvent => ({ type: 'flow-end', flow: f });
const log = (message: string, flowId?: string): ProxyEvent =>
  flowId === undefined ? { type: 'log', level: 'info', message, time: 1 } : { type: 'log', level: 'info', message, flowId, time: 1 };

/** Every flow of a snapshot, oldest first, through `at`. */
function snapshotIds(s: StoreSnapshot): string[] {
  return Array.from({ length: s.count }, (_, i) => s.at(i)!.id);
}

describe('FlowStore reducer', () => {
  it.each<[string, ProxyEvent['type']]>([
    ['flow-start', 'flow-start'],
    ['flow-update', 'flow-update'],
    ['flow-end', 'flow-end'],
  ])('%s of an unknown id appends it', (_name, type) => {
    const store = new FlowStore({ notifyIntervalMs: 0 });
    const f = flowWith('a');
    store.apply({ type, flow: f } as ProxyEvent);
    expect(store.list()).toEqual([f]);
    expect(store.get('a')).toBe(f);
  });

  it('upserts by id, keeping the position of the first arrival', () => {
    const store = new FlowStore();
    store.apply(start(flowWith('a', 'requesting')));
    store.apply(start(flowWith('b', 'requesting')));
    store.apply(start(flowWith('c', 'requesting')));
    const b2 = flowWith('b', 'waiting');
    store.apply(update(b2));
    const a3 = flowWith('a', 'done');
    store.apply(end(a3));
    expect(store.list().map((f) => f.id)).toEqual(['a', 'b', 'c']);
    expect(store.get('b')).toBe(b2);
    expect(store.get('a')).toBe(a3);
    const s = store.getSnapshot();
    expect(s.count).toBe(3);
    expect(s.totalSeen).toBe(3);
    expect(s.at(1)).toBe(b2);
    expect(s.at(0)).toBe(a3);
  });

  it('ignores ws-message events (the flow snapshot that follows carries the message)', () => {
    const store = new FlowStore();
    const before = store.getSnapshot();
    store.apply({ type: 'ws-message', flowId: 'x', message: { direction: 'server', type: 'text', size: 1, payload: Buffer.from('x'), truncated: false, time: 1 } });
    expect(store.getSnapshot()).toBe(before);
    expect(store.getSnapshot().version).toBe(0);
  });

  it('at() is undefined outside 0..count-1', () => {
    const store = new FlowStore();
    store.add(flowWith('a'));
    const s = store.getSnapshot();
    expect(s.at(-1)).toBeUndefined();
    expect(s.at(1)).toBeUndefined();
    expect(s.at(0)?.id).toBe('a');
  });

  it('update() replaces a held flow in place and refuses an unknown id', () => {
    const store = new FlowStore();
    store.add(flowWith('a'));
    store.add(flowWith('b'));
    expect(store.update('a', (f) => ({ ...f, marked: true }))).toBe(true);
    expect(store.get('a')?.marked).toBe(true);
    expect(store.list().map((f) => f.id)).toEqual(['a', 'b']);
    const change = vi.fn((f: Flow) => f);
    expect(store.update('nope', change)).toBe(false);
    expect(change).not.toHaveBeenCalled();
  });
});

describe('FlowStore eviction (bounded ring)', () => {
  it.each<[number, number]>([
    [1, 1],
    [1, 5],
    [3, 2],
    [3, 3],
    [3, 10],
    [5, 1024 + 7],
    // past the initial 1024-slot ring: grows, then evicts
    [1500, 4000],
    [2048, 2049],
    [3000, 3000],
  ])('maxFlows %i, %i flows added: keeps the newest, oldest first', (maxFlows, n) => {
    const store = new FlowStore({ maxFlows });
    for (let i = 0; i < n; i++) store.apply(start(flowWith(`f${i}`)));
    const kept = Math.min(maxFlows, n);
    const expected = Array.from({ length: kept }, (_, i) => `f${n - kept + i}`);
    expect(store.list().map((f) => f.id)).toEqual(expected);
    const s = store.getSnapshot();
    expect(s.count).toBe(kept);
    expect(s.totalSeen).toBe(n);
    expect(snapshotIds(s)).toEqual(expected);
    for (let i = 0; i < n - kept; i++) {
      expect(store.get(`f${i}`)).toBeUndefined();
      expect(s.get(`f${i}`)).toBeUndefined();
    }
    for (const id of expected) expect(store.get(id)?.id).toBe(id);
  });

  it('updates a flow in place after the ring wrapped', () => {
    const store = new FlowStore({ maxFlows: 3 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) store.add(flowWith(id));
    const d2 = flowWith('d', 'done', 'second');
    store.apply(update(d2));
    expect(store.list().map((f) => f.id)).toEqual(['c', 'd', 'e']);
    expect(store.list()[1]).toBe(d2);
    expect(store.getSnapshot().at(1)).toBe(d2);
  });

  it('matches a plain array model under random traffic', () => {
    // Deterministic LCG so a failure is reproducible.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const phases: FlowPhase[] = ['requesting', 'request-paused', 'waiting', 'response-paused', 'responding', 'done', 'error'];
    for (const maxFlows of [1, 4, 7, 1030]) {
      const store = new FlowStore({ maxFlows, notifyIntervalMs: 0 });
      let model: Flow[] = [];
      let next = 0;
      for (let step = 0; step < 4000; step++) {
        const r = rand(100);
        if (r < 45 || model.length === 0) {
          const f = flowWith(`n${next++}`, phases[rand(phases.length)]!);
          store.apply(start(f));
          model.push(f);
          if (model.length > maxFlows) model.shift();
        } else if (r < 98) {
          const old = model[rand(model.length)]!;
          const f = flowWith(old.id, phases[rand(phases.length)]!, `s${step}`);
          store.apply(update(f));
          model = model.map((m) => (m.id === f.id ? f : m));
        } else {
          store.clear();
          model = [];
        }
        if (step % 97 === 0 || step > 3950) {
          const s = store.getSnapshot();
          const list = store.list();
          expect(list.length).toBe(model.length);
          // identity, not deep equality: the store must hold exactly the objects it was given
          for (let i = 0; i < model.length; i++) if (list[i] !== model[i]) throw new Error(`maxFlows ${maxFlows}, step ${step}: position ${i} holds ${list[i]?.id}, expected ${model[i]!.id}`);
          expect(snapshotIds(s)).toEqual(model.map((f) => f.id));
          expect(s.count).toBe(model.length);
          expect(s.paused).toBe(model.filter((f) => f.phase === 'request-paused' || f.phase === 'response-paused').length);
          for (const f of model) expect(s.get(f.id)).toBe(f);
        }
      }
    }
  });
});

describe('FlowStore paused count', () => {
  it.each<[string, Array<[string, FlowPhase]>, number, number]>([
    // [case, (id, phase) applied in order, maxFlows, expected paused]
    ['none paused', [['a', 'requesting'], ['b', 'done']], 10, 0],
    ['request and response pauses count', [['a', 'request-paused'], ['b', 'response-paused'], ['c', 'waiting']], 10, 2],
    ['resumed flows stop counting', [['a', 'request-paused'], ['a', 'waiting'], ['b', 'response-paused'], ['b', 'responding']], 10, 0],
    ['re-pausing the same flow counts once', [['a', 'request-paused'], ['a', 'waiting'], ['a', 'response-paused']], 10, 1],
    ['repeated paused updates count once', [['a', 'request-paused'], ['a', 'request-paused'], ['a', 'request-paused']], 10, 1],
    ['an evicted paused flow stops counting', [['a', 'request-paused'], ['b', 'done'], ['c', 'done']], 2, 0],
    ['a paused flow that survives eviction still counts', [['a', 'done'], ['b', 'request-paused'], ['c', 'done']], 2, 1],
  ])('%s', (_name, steps, maxFlows, paused) => {
    const store = new FlowStore({ maxFlows });
    for (const [id, phase] of steps) store.apply(update(flowWith(id, phase)));
    expect(store.getSnapshot().paused).toBe(paused);
  });
});

describe('FlowStore clear', () => {
  it('drops every flow and the paused count, keeps totalSeen, notifies', () => {
    const store = new FlowStore({ notifyIntervalMs: 0, maxFlows: 3 });
    const listener = vi.fn();
    store.subscribe(listener);
    for (const id of ['a', 'b', 'c', 'd']) store.add(flowWith(id, 'request-paused'));
    listener.mockClear();
    store.clear();
    expect(listener).toHaveBeenCalledOnce();
    const s = store.getSnapshot();
    expect(s.count).toBe(0);
    expect(s.paused).toBe(0);
    expect(s.totalSeen).toBe(4);
    expect(s.at(0)).toBeUndefined();
    expect(store.list()).toEqual([]);
    expect(store.get('b')).toBeUndefined();
    // and works as new afterwards
    store.add(flowWith('e'));
    expect(store.list().map((f) => f.id)).toEqual(['e']);
    expect(store.getSnapshot().totalSeen).toBe(5);
  });
});

describe('FlowStore log ring', () => {
  it.each<[number, number, number]>([
    // [maxLog, entries applied, entries kept]
    [5, 3, 3],
    [5, 5, 5],
    [5, 12, 5],
    [1, 4, 1],
  ])('maxLog %i, %i entries → keeps the newest %i, oldest first', (maxLog, n, kept) => {
    const store = new FlowStore({ maxLog });
    for (let i = 0; i < n; i++) store.apply(log(`m${i}`));
    expect(store.getSnapshot().log.map((e) => e.message)).toEqual(Array.from({ length: kept }, (_, i) => `m${n - kept + i}`));
  });

  it('keeps level, time and flowId (only when given)', () => {
    const store = new FlowStore();
    store.apply({ type: 'log', level: 'warn', message: 'w', time: 7 });
    store.apply({ type: 'log', level: 'error', message: 'e', flowId: 'f1', time: 8 });
    const entries = store.getSnapshot().log;
    expect(entries).toEqual([
      { time: 7, level: 'warn', message: 'w' },
      { time: 8, level: 'error', message: 'e', flowId: 'f1' },
    ]);
    expect(entries[0]).not.toHaveProperty('flowId');
  });

  it('a published log list does not change afterwards', () => {
    const store = new FlowStore();
    store.apply(log('one'));
    const s = store.getSnapshot();
    store.apply(log('two'));
    expect(s.log.map((e) => e.message)).toEqual(['one']);
  });
});

describe('FlowStore notifications and snapshots', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('coalesces many changes within the window into one notification', () => {
    const store = new FlowStore({ notifyIntervalMs: 50 });
    const listener = vi.fn();
    store.subscribe(listener);
    const first = store.getSnapshot();
    for (let i = 0; i < 500; i++) store.apply(start(flowWith(`f${i}`)));
    store.apply(log('burst'));
    expect(listener).not.toHaveBeenCalled();
    // identity (and content) stable until the window closes
    expect(store.getSnapshot()).toBe(first);
    vi.advanceTimersByTime(49);
    expect(listener).not.toHaveBeenCalled();
    expect(store.getSnapshot()).toBe(first);
    vi.advanceTimersByTime(1);
    expect(listener).toHaveBeenCalledOnce();
    const second = store.getSnapshot();
    expect(second).not.toBe(first);
    expect(second.count).toBe(500);
    expect(second.version).toBe(501);
    expect(store.getSnapshot()).toBe(second);
    // no change, no notification
    vi.advanceTimersByTime(1000);
    expect(listener).toHaveBeenCalledOnce();
    // a later change opens a new window
    store.apply(update(flowWith('f1', 'error')));
    vi.advanceTimersByTime(50);
    expect(listener).toHaveBeenCalledTimes(2);
    expect(store.getSnapshot()).not.toBe(second);
    expect(store.getSnapshot().version).toBe(502);
    store.dispose();
  });

  it.each<[string, number, number]>([
    // [case, notifyIntervalMs, changes] → notifications happen synchronously per change with 0
    ['synchronous when the window is 0', 0, 5],
    ['one per window otherwise', 20, 5],
  ])('%s', (_name, notifyIntervalMs, changes) => {
    const store = new FlowStore({ notifyIntervalMs });
    const listener = vi.fn();
    store.subscribe(listener);
    for (let i = 0; i < changes; i++) store.add(flowWith(`f${i}`));
    expect(listener).toHaveBeenCalledTimes(notifyIntervalMs === 0 ? changes : 0);
    vi.runOnlyPendingTimers();
    expect(listener).toHaveBeenCalledTimes(notifyIntervalMs === 0 ? changes : 1);
    store.dispose();
  });

  it('notifies every subscriber, not the unsubscribed', () => {
    const store = new FlowStore({ notifyIntervalMs: 10 });
    const a = vi.fn();
    const b = vi.fn();
    store.subscribe(a);
    const offB = store.subscribe(b);
    offB();
    store.add(flowWith('x'));
    vi.advanceTimersByTime(10);
    expect(a).toHaveBeenCalledOnce();
    expect(b).not.toHaveBeenCalled();
    store.dispose();
  });

  it('flush() publishes at once and cancels the pending notification', () => {
    const store = new FlowStore({ notifyIntervalMs: 50 });
    const listener = vi.fn();
    store.subscribe(listener);
    const before = store.getSnapshot();
    store.add(flowWith('x'));
    store.flush();
    expect(listener).toHaveBeenCalledOnce();
    expect(store.getSnapshot()).not.toBe(before);
    expect(store.getSnapshot().count).toBe(1);
    vi.advanceTimersByTime(100);
    expect(listener).toHaveBeenCalledOnce();
    // flush with nothing pending publishes nothing
    store.flush();
    expect(listener).toHaveBeenCalledOnce();
    store.dispose();
  });

  it('without subscribers, sets no timer and builds the snapshot on demand', () => {
    const store = new FlowStore({ notifyIntervalMs: 50 });
    const s0 = store.getSnapshot();
    store.add(flowWith('a'));
    expect(vi.getTimerCount()).toBe(0);
    const s1 = store.getSnapshot();
    expect(s1).not.toBe(s0);
    expect(s1.count).toBe(1);
    expect(store.getSnapshot()).toBe(s1);
  });

  it('dispose() cancels the pending notification and drops subscribers', () => {
    const store = new FlowStore({ notifyIntervalMs: 50 });
    const listener = vi.fn();
    store.subscribe(listener);
    store.add(flowWith('a'));
    store.dispose();
    vi.advanceTimersByTime(100);
    expect(listener).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  // React requires getSnapshot() data to be immutable: while a snapshot is current (until the next
  // publish), a render must see exactly what was published. `at()` and `get()` read the live ring
  // and id map, so flows arriving inside the coalescing window show through (see report).
  it.each<[string, (store: FlowStore) => void]>([
    ['a flow is added and the ring wraps', (store) => store.add(flowWith('d'))],
    ['a held flow is updated', (store) => store.apply(update(flowWith('b', 'error')))],
    ['the store is cleared', (store) => store.clear()],
  ])('a published snapshot does not change while %s before the next publish', (_name, change) => {
    const store = new FlowStore({ notifyIntervalMs: 50, maxFlows: 3 });
    store.subscribe(() => {});
    for (const id of ['a', 'b', 'c']) store.add(flowWith(id));
    store.flush();
    const s = store.getSnapshot();
    const before = { ids: snapshotIds(s), flows: snapshotIds(s).map((id, i) => [s.at(i), s.get(id)]) };
    change(store);
    expect(store.getSnapshot()).toBe(s); // not published yet
    expect(snapshotIds(s)).toEqual(before.ids);
    expect(snapshotIds(s).map((id, i) => [s.at(i), s.get(id)])).toEqual(before.flows);
    store.dispose();
  });

  it('a published snapshot keeps its counts while later changes are pending', () => {
    const store = new FlowStore({ notifyIntervalMs: 50 });
    store.subscribe(() => {});
    store.add(flowWith('a'));
    store.flush();
    const s = store.getSnapshot();
    store.add(flowWith('b'));
    expect(s.count).toBe(1);
    expect(s.totalSeen).toBe(1);
    expect(s.at(1)).toBeUndefined();
    store.dispose();
  });
});
