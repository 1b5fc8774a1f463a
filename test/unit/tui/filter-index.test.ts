import { describe, expect, it } from 'vitest';
import type { Flow } from '../../../src/proxy/core/flow.js';
import { FlowStore } from '../../../src/store/flow-store.js';
import { FilterIndex, type FlowPredicate } from '../../../src/tui/list/filter-index.js';
import { makeFlow } from '../../helpers/make-flow.js';

const is404: FlowPredicate = (f) => f.response?.status === 404;
const marked: FlowPredicate = (f) => f.marked;

function viewPaths(index: FilterIndex, store: FlowStore): string[] {
  const snap = store.getSnapshot();
  const out: string[] = [];
  for (let i = 0; i < index.length; i++) out.push(snap.at(index.positionOf(index.seqAt(i)))!.request.path);
  return out;
}

function filled(statuses: number[], maxFlows = 1000): FlowStore {
  const store = new FlowStore({ notifyIntervalMs: 0, maxFlows });
  statuses.forEach((status, i) => store.add(makeFlow({ id: `f${i}`, request: { path: `/${i}` }, response: { status } })));
  return store;
}

/** Count predicate calls. */
function counting(p: FlowPredicate): { p: FlowPredicate; calls: () => number } {
  let n = 0;
  return {
    p: (f: Flow) => {
      n++;
      return p(f);
    },
    calls: () => n,
  };
}

describe('FilterIndex', () => {
  it.each<[string, number[], FlowPredicate | null, string[]]>([
    ['no filter: every flow', [200, 404, 200], null, ['/0', '/1', '/2']],
    ['filtered', [200, 404, 200, 404], is404, ['/1', '/3']],
    ['nothing matches', [200, 200], is404, []],
  ])('%s', (_name, statuses, predicate, paths) => {
    const store = filled(statuses);
    const index = new FilterIndex(predicate);
    index.sync(store.getSnapshot());
    expect(viewPaths(index, store)).toEqual(paths);
  });

  it('tests only new flows on later syncs', () => {
    const store = filled([404, 200, 404]);
    const c = counting(is404);
    const index = new FilterIndex(c.p);
    index.sync(store.getSnapshot());
    expect(c.calls()).toBe(3);
    index.sync(store.getSnapshot()); // same snapshot: nothing
    store.add(makeFlow({ request: { path: '/3' }, response: { status: 404 } }));
    index.sync(store.getSnapshot());
    expect(c.calls()).toBe(4);
    expect(viewPaths(index, store)).toEqual(['/0', '/2', '/3']);
  });

  it('drops evicted flows and keeps positions right', () => {
    const store = filled([404, 200, 404, 200], 4);
    const index = new FilterIndex(is404);
    index.sync(store.getSnapshot());
    store.add(makeFlow({ request: { path: '/4' }, response: { status: 404 } })); // evicts /0
    store.add(makeFlow({ request: { path: '/5' }, response: { status: 200 } })); // evicts /1
    index.sync(store.getSnapshot());
    expect(viewPaths(index, store)).toEqual(['/2', '/4']);
  });

  it('empties on clear', () => {
    const store = filled([404, 404]);
    const index = new FilterIndex(is404);
    index.sync(store.getSnapshot());
    store.clear();
    index.sync(store.getSnapshot());
    expect(index.length).toBe(0);
    store.add(makeFlow({ request: { path: '/new' }, response: { status: 404 } }));
    index.sync(store.getSnapshot());
    expect(viewPaths(index, store)).toEqual(['/new']);
  });

  it('re-tests flows in flight when they change, keeping order', () => {
    const store = new FlowStore({ notifyIntervalMs: 0 });
    const waiting = makeFlow({ id: 'w', request: { path: '/w' }, response: null });
    store.add(waiting);
    store.add(makeFlow({ request: { path: '/later' }, response: { status: 404 } }));
    const index = new FilterIndex(is404);
    index.sync(store.getSnapshot());
    expect(viewPaths(index, store)).toEqual(['/later']);
    store.update('w', (f) => ({ ...f, phase: 'done', response: makeFlow({ response: { status: 404 } }).response }));
    index.sync(store.getSnapshot());
    expect(viewPaths(index, store)).toEqual(['/w', '/later']);
  });

  it('removes a flow in flight that stops matching', () => {
    const store = new FlowStore({ notifyIntervalMs: 0 });
    store.add(makeFlow({ id: 'w', request: { path: '/w' }, response: null }));
    const index = new FilterIndex((f) => f.response === null);
    index.sync(store.getSnapshot());
    expect(index.length).toBe(1);
    store.update('w', (f) => ({ ...f, phase: 'done', response: makeFlow().response }));
    index.sync(store.getSnapshot());
    expect(index.length).toBe(0);
  });

  it('re-tests a watched finished flow once it changes (marking under ~marked)', () => {
    const store = filled([200, 200]);
    const index = new FilterIndex(marked);
    index.sync(store.getSnapshot());
    expect(index.length).toBe(0);
    index.watch(1);
    store.update('f1', (f) => ({ ...f, marked: true }));
    index.sync(store.getSnapshot());
    expect(viewPaths(index, store)).toEqual(['/1']);
  });

  it('keeps the earlier verdict for finished flows changed without a watch', () => {
    const store = filled([200]);
    const index = new FilterIndex(marked);
    index.sync(store.getSnapshot());
    store.update('f0', (f) => ({ ...f, marked: true }));
    index.sync(store.getSnapshot());
    expect(index.length).toBe(0);
  });

  it('treats a throwing predicate as no match', () => {
    const store = filled([200]);
    const index = new FilterIndex(() => {
      throw new Error('boom');
    });
    index.sync(store.getSnapshot());
    expect(index.length).toBe(0);
  });

  it.each([
    [[2, 5, 9], 0, 0],
    [[2, 5, 9], 5, 1],
    [[2, 5, 9], 6, 2],
    [[2, 5, 9], 10, 3],
  ])('lowerBound over matches %j of %d → %d', (matchSeqs, seq, expected) => {
    const store = filled(Array.from({ length: 10 }, (_, i) => (matchSeqs.includes(i) ? 404 : 200)));
    const index = new FilterIndex(is404);
    index.sync(store.getSnapshot());
    expect(index.lowerBound(seq)).toBe(expected);
    expect(index.indexOfSeq(5)).toBe(1);
    expect(index.indexOfSeq(6)).toBe(-1);
  });

  it('indexes 100,000 flows once and then only the new ones', () => {
    const store = new FlowStore({ notifyIntervalMs: 0, maxFlows: 200_000 });
    for (let i = 0; i < 100_000; i++) store.add(makeFlow({ id: `f${i}`, request: { path: `/${i}` }, response: { status: i % 10 === 0 ? 404 : 200 } }));
    const c = counting(is404);
    const index = new FilterIndex(c.p);
    index.sync(store.getSnapshot());
    expect(index.length).toBe(10_000);
    store.add(makeFlow({ request: { path: '/tail' }, response: { status: 404 } }));
    index.sync(store.getSnapshot());
    expect(c.calls()).toBe(100_001);
    expect(viewPaths(index, store).at(-1)).toBe('/tail');
  });
});
