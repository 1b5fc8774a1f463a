/**
 * Reading an export's flows back whole (src/tui/export/whole-flows.ts): in list order however the
 * reads finish, a bounded number at a time, and what could not be read is counted, never thrown.
 */
import { describe, expect, it } from 'vitest';
import type { Flow } from '../../src/proxy/core/flow.js';
import { bodyInSession, bodyReadFailed } from '../../src/store/session-bodies.js';
import { describeReadBack } from '../../src/tui/export/export-commands.js';
import { wholeFlows, type ReadBackStats, type ReadFlow, type ScopePlan } from '../../src/tui/export/whole-flows.js';
import { body, makeFlow } from '../helpers/make-flow.js';

const flowNo = (seq: number, more: Partial<Flow> = {}): Flow => ({ ...makeFlow({ id: `f${seq}`, request: { path: `/${seq}` }, response: { body: body(`body ${seq}`) } }), ...more });

async function collect(plan: ScopePlan, read: ReadFlow, window?: number) {
  const stats: ReadBackStats = { missing: 0, withoutBodies: 0 };
  const progress: Array<[number, number]> = [];
  const flows: Flow[] = [];
  for await (const f of wholeFlows(plan, read, stats, { ...(window ? { window } : {}), onProgress: (d, t) => progress.push([d, t]) })) flows.push(f);
  return { flows, stats, progress };
}

/** A reader whose reads finish in the order `release` is called, counting reads in flight. */
function gatedReader() {
  const waiting = new Map<number, () => void>();
  let inFlight = 0;
  let most = 0;
  const read: ReadFlow = (seq) =>
    new Promise((resolve) => {
      inFlight++;
      most = Math.max(most, inFlight);
      waiting.set(seq, () => {
        waiting.delete(seq);
        inFlight--;
        resolve(flowNo(seq));
      });
    });
  return { read, waiting, most: () => most };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('wholeFlows', () => {
  it('yields flows in list order when reads finish out of order, with at most `window` in flight', async () => {
    const g = gatedReader();
    const seqs = Array.from({ length: 10 }, (_, i) => 100 + i);
    const run = collect({ seqs, keep: null }, g.read, 3);
    await settle();
    expect([...g.waiting.keys()]).toEqual([100, 101, 102]);
    // Finish the later ones first: nothing more starts until the head of the window is in.
    g.waiting.get(102)!();
    g.waiting.get(101)!();
    await settle();
    expect([...g.waiting.keys()]).toEqual([100]);
    // Then release whatever is in flight, newest first, until the reader is done.
    let done = false;
    void run.then(() => (done = true));
    while (!done) {
      for (const seq of [...g.waiting.keys()].reverse()) g.waiting.get(seq)!();
      await settle();
    }
    const { flows, stats, progress } = await run;
    expect(flows.map((f) => f.id)).toEqual(seqs.map((s) => `f${s}`));
    expect(g.most()).toBe(3);
    expect(stats).toEqual({ missing: 0, withoutBodies: 0 });
    expect(progress.at(-1)).toEqual([10, 10]);
    expect(progress.map(([d]) => d)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('counts flows that are gone or whose read threw, and leaves them out', async () => {
    const read: ReadFlow = async (seq) => {
      if (seq === 2) return undefined;
      if (seq === 3) throw new Error('disk on fire');
      return flowNo(seq);
    };
    const { flows, stats } = await collect({ seqs: [1, 2, 3, 4], keep: null }, read);
    expect(flows.map((f) => f.id)).toEqual(['f1', 'f4']);
    expect(stats).toEqual({ missing: 2, withoutBodies: 0 });
  });

  it('applies `keep` to the flows read back (the marked scope)', async () => {
    const read: ReadFlow = async (seq) => flowNo(seq, { marked: seq % 2 === 0 });
    const { flows, progress } = await collect({ seqs: [1, 2, 3, 4, 5], keep: (f) => f.marked }, read);
    expect(flows.map((f) => f.id)).toEqual(['f2', 'f4']);
    expect(progress.at(-1)).toEqual([5, 5]);
  });

  it('reports missing only the flows known to be in scope (a row never read may not have been marked)', async () => {
    const read: ReadFlow = async (seq) => (seq === 1 || seq === 3 ? undefined : flowNo(seq, { marked: true }));
    const { flows, stats } = await collect({ seqs: [1, 2, 3, 4], keep: (f) => f.marked, known: new Set([3, 4]) }, read);
    expect(flows.map((f) => f.id)).toEqual(['f2', 'f4']);
    expect(stats.missing).toBe(1);
  });

  it('reads a flow again when its bodies came back still in the session, and counts bodies that cannot be read', async () => {
    const reads = new Map<number, number>();
    const inSession = (seq: number) => {
      const f = flowNo(seq);
      return { ...f, response: { ...f.response!, body: bodyInSession(f.response!.body) } };
    };
    const read: ReadFlow = async (seq) => {
      const n = (reads.get(seq) ?? 0) + 1;
      reads.set(seq, n);
      // Flow 1: pushed out of the store's cache the first time. Flow 2: its blob is gone.
      if (seq === 1) return n === 1 ? inSession(1) : flowNo(1);
      if (seq === 2) {
        const f = inSession(2);
        return { ...f, response: { ...f.response!, body: bodyReadFailed(f.response!.body, 'blob missing') } };
      }
      return flowNo(seq);
    };
    const { flows, stats } = await collect({ seqs: [1, 2, 3], keep: null }, read);
    expect(reads.get(1)).toBe(2);
    expect(flows[0]!.response!.body.bytes?.toString()).toBe('body 1');
    expect(flows.map((f) => f.id)).toEqual(['f1', 'f2', 'f3']);
    expect(stats).toEqual({ missing: 0, withoutBodies: 1 });
    expect(describeReadBack(stats)).toBe('; 1 exported without a body that could not be read back from the session');
  });

  it('reads nothing for an empty scope', async () => {
    const { flows, progress } = await collect({ seqs: [], keep: null }, async () => {
      throw new Error('not expected');
    });
    expect(flows).toEqual([]);
    expect(progress).toEqual([]);
  });
});
