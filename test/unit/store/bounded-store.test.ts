/**
 * Bounded memory (issue 7): the store's body byte budget, bodies let go of and read back from the
 * session, and flows evicted from the ring staying reachable through the offset index.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../../src/proxy/core/flow.js';
import { configSchema, formatIssues } from '../../../src/config/schema.js';
import { mergeSettings, startFlagsSchema } from '../../../src/config/start-options.js';
import { isInSession } from '../../../src/store/session-bodies.js';
import { sha256Hex } from '../../../src/store/session-codec.js';
import { blobPath } from '../../../src/store/session-paths.js';
import { body, makeFlow } from '../../helpers/make-flow.js';
import { recordingStore, until, type RecordingStore } from './recording-store.js';

let rs: RecordingStore | null = null;
afterEach(async () => {
  await rs?.close();
  rs = null;
});

async function open(opts: Parameters<typeof recordingStore>[0]): Promise<RecordingStore> {
  rs = await recordingStore(opts);
  return rs;
}

/** A finished flow whose response body is `n` bytes of a letter that depends on `i` (distinct blobs). */
function sized(i: number, n: number, more: Partial<Flow> = {}): Flow {
  const content = Buffer.alloc(n, 97 + (i % 26));
  content.write(`#${i}#`);
  return { ...makeFlow({ id: `b${String(i).padStart(4, '0')}`, request: { path: `/b/${i}` }, response: { body: body(content) } }), ...more };
}

const responseBytes = (f: Flow | undefined) => f?.response?.body.bytes ?? null;

describe('body byte budget', () => {
  it('lets go of the oldest recorded bodies beyond the budget, newest kept, sizes and hashes kept', async () => {
    const t = await open({ maxBodyBytes: 1000, maxFlows: 100 });
    const flows = Array.from({ length: 10 }, (_, i) => sized(i, 300));
    for (const f of flows) t.push(f);
    expect(t.store.heldBodyBytes).toBeLessThanOrEqual(1000);
    const held = t.store.list();
    const kept = held.filter((f) => f.response!.body.bytes !== null).map((f) => f.id);
    // Each flow holds ~300 bytes of response plus its small request body: the newest three fit.
    expect(kept).toEqual(['b0007', 'b0008', 'b0009']);
    const old = held[0]!;
    expect(isInSession(old.response!.body)).toBe(true);
    expect(old.response!.body.size).toBe(300);
    expect(old.response!.body.sha256).toBe(sha256Hex(responseBytes(flows[0]!)!));
    expect(old.response!.body.state).toBe('complete');
  });

  it('never lets go of a flow in flight or paused, even over the budget', async () => {
    const t = await open({ maxBodyBytes: 100, maxFlows: 100 });
    const streaming = { ...sized(1, 500), phase: 'responding' as const };
    const paused = { ...sized(2, 500), phase: 'response-paused' as const };
    t.push(streaming);
    t.push(paused);
    for (let i = 3; i < 8; i++) t.push(sized(i, 500));
    const byId = new Map(t.store.list().map((f) => [f.id, f]));
    expect(responseBytes(byId.get('b0001'))?.length).toBe(500);
    expect(responseBytes(byId.get('b0002'))?.length).toBe(500);
    // Finished and recorded ones were let go of instead.
    expect(isInSession(byId.get('b0003')!.response!.body)).toBe(true);
  });

  it('without a session nothing is let go of (there is nowhere to read it back from)', async () => {
    const { FlowStore } = await import('../../../src/store/flow-store.js');
    const store = new FlowStore({ maxBodyBytes: 10 });
    store.add(sized(1, 500));
    expect(responseBytes(store.list()[0])?.length).toBe(500);
  });

  it('get() reads a let-go body back whole (for replay); the snapshot reads it in the background', async () => {
    const t = await open({ maxBodyBytes: 400, maxFlows: 100 });
    const flows = Array.from({ length: 5 }, (_, i) => sized(i, 300));
    for (const f of flows) t.push(f);
    expect(isInSession(t.store.list()[0]!.response!.body)).toBe(true);

    const snap = t.store.getSnapshot();
    expect(isInSession(snap.at(1)!.response!.body)).toBe(true);
    snap.hydrate(snap.totalSeen - snap.count + 1);
    const whole = await until(() => {
      const f = t.store.getSnapshot().at(1);
      return f && !isInSession(f.response!.body) ? f : null;
    }, 'the body read back');
    expect(responseBytes(whole)).toEqual(responseBytes(flows[1]));
    expect(whole.id).toBe('b0001');
    // The held flow itself stays without its bytes: reading back does not undo the budget.
    expect(isInSession(t.store.list()[1]!.response!.body)).toBe(true);

    // A command asks for the whole flow and gets it at once.
    expect(responseBytes(t.store.get('b0000'))).toEqual(responseBytes(flows[0]));
  });

  it('says why when the blob was deleted', async () => {
    const t = await open({ maxBodyBytes: 400, maxFlows: 100 });
    for (let i = 0; i < 5; i++) t.push(sized(i, 300));
    const gone = t.store.list()[1]!;
    await rm(blobPath(t.dir, gone.response!.body.sha256!));
    const snap = t.store.getSnapshot();
    snap.hydrate(snap.totalSeen - snap.count + 1);
    const f = await until(() => {
      const x = t.store.getSnapshot().at(1)!.response!.body;
      return isInSession(x) && x.readError ? x : null;
    }, 'the read error');
    expect(f.readError).toMatch(/blob .* is missing/);
  });
});

describe('flows evicted from the ring stay in view', () => {
  it('counts every flow; older rows are read from the session on demand', async () => {
    const t = await open({ maxFlows: 10 });
    for (let i = 0; i < 50; i++) t.push(sized(i, 20));
    const snap = t.store.getSnapshot();
    expect(snap.count).toBe(50);
    expect(snap.held).toBe(10);
    expect(t.store.list()).toHaveLength(10);
    // Not read yet: undefined now, there after the background read.
    expect(snap.at(3)).toBeUndefined();
    const row = await until(() => t.store.getSnapshot().at(3), 'row 3');
    expect(row.id).toBe('b0003');
    expect(row.request.path).toBe('/b/3');
    expect(isInSession(row.response!.body)).toBe(true);
    // A command gets the whole flow, read now.
    const whole = t.store.get('b0003')!;
    expect(responseBytes(whole)?.subarray(0, 3).toString()).toBe('#3#');
  });

  it('read() gives any flow in view whole, off the event loop (for exports of the view)', async () => {
    const t = await open({ maxFlows: 10, maxBodyBytes: 100 });
    const flows = Array.from({ length: 30 }, (_, i) => sized(i, 40));
    for (const f of flows) t.push(f);
    const snap = t.store.getSnapshot();
    const first = snap.totalSeen - snap.count;
    const got = await Promise.all([2, 15, 25, 29].map((i) => snap.read(first + i)));
    expect(got.map((f) => f?.id)).toEqual(['b0002', 'b0015', 'b0025', 'b0029']);
    got.forEach((f, k) => expect(responseBytes(f)).toEqual(responseBytes(flows[[2, 15, 25, 29][k]!])));
    expect(await snap.read(first + 30)).toBeUndefined();
  });

  it('marks an older flow in memory (m on a row read back)', async () => {
    const t = await open({ maxFlows: 5 });
    for (let i = 0; i < 20; i++) t.push(sized(i, 20));
    expect(t.store.update('b0002', (f) => ({ ...f, marked: true }))).toBe(true);
    expect(t.store.getSnapshot().at(2)?.marked).toBe(true);
    expect(t.store.get('b0002')?.marked).toBe(true);
    expect(t.store.update('nope', (f) => f)).toBe(false);
  });

  it('keeps the mark of a flow marked while held and then evicted (its line on disk predates the mark)', async () => {
    const t = await open({ maxFlows: 5 });
    for (let i = 0; i < 5; i++) t.push(sized(i, 20));
    expect(t.store.update('b0001', (f) => ({ ...f, marked: true }))).toBe(true);
    for (let i = 5; i < 20; i++) t.push(sized(i, 20));
    expect(t.store.get('b0001')?.marked).toBe(true);
    const snap = t.store.getSnapshot();
    expect((await snap.read(snap.totalSeen - snap.count + 1))?.marked).toBe(true);
    expect((await snap.read(snap.totalSeen - snap.count + 2))?.marked).toBe(false);
  });

  it('keeps a flow evicted while in flight at its place until it finishes and is recorded', async () => {
    const t = await open({ maxFlows: 3 });
    const ws = makeFlow({ id: 'ws', kind: 'websocket', phase: 'responding' });
    t.push(ws);
    for (let i = 0; i < 5; i++) t.push(sized(i, 10));
    let snap = t.store.getSnapshot();
    expect(snap.count).toBe(6);
    expect(snap.at(0)?.id).toBe('ws');
    t.bus.emit({ type: 'flow-end', flow: { ...ws, phase: 'done' } });
    snap = t.store.getSnapshot();
    expect(snap.count).toBe(6);
    // Recorded now: read back from the session like any older flow.
    const row = await until(() => t.store.getSnapshot().at(0), 'the recorded flow');
    expect(row).toMatchObject({ id: 'ws', phase: 'done' });
  });

  it('clear empties the view, older flows included', async () => {
    const t = await open({ maxFlows: 3 });
    for (let i = 0; i < 10; i++) t.push(sized(i, 10));
    t.store.clear();
    expect(t.store.getSnapshot().count).toBe(0);
    expect(t.store.get('b0001')).toBeUndefined();
    t.push(sized(99, 10));
    expect(t.store.getSnapshot().count).toBe(1);
    expect(t.store.getSnapshot().at(0)?.id).toBe('b0099');
  });
});

describe('filter scans over the session', () => {
  it('tests older flows in the background, a body predicate with bodies read back', async () => {
    const t = await open({ maxFlows: 5, maxBodyBytes: 100 });
    for (let i = 0; i < 30; i++) t.push(sized(i, 50));
    const snap = t.store.getSnapshot();
    const found: number[] = [];
    let done = false;
    // Flows whose body starts with #1x#: 1 and 10..19.
    const predicate = (f: Flow) => /^#1\d?#/.test(f.response?.body.bytes?.toString('latin1') ?? '');
    snap.scan({ predicate, from: 0, to: 25, onBatch: (b) => (found.push(...b.matches), (done = b.done)) });
    await until(() => done, 'the scan');
    expect(found.sort((a, b) => a - b)).toEqual([1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });
});

describe('store.maxBodyBytes in the config file', () => {
  it('defaults to 256 MiB and is taken from the file', () => {
    const flags = startFlagsSchema.parse({ tui: false });
    expect(mergeSettings(flags, {}).storeMaxBodyBytes).toBe(256 * 1024 * 1024);
    expect(mergeSettings(flags, configSchema.parse({ store: { maxFlows: 5, maxBodyBytes: 1000 } })).storeMaxBodyBytes).toBe(1000);
  });

  it('refuses a bad value, naming the field', () => {
    const r = configSchema.safeParse({ store: { maxBodyBytes: -1 } });
    expect(r.success).toBe(false);
    expect(formatIssues(r.error!)[0]).toMatch(/^store\.maxBodyBytes: /);
  });
});
