/**
 * The recorder batches log lines per event-loop turn (issue 9) without weakening what it promised:
 * no reader is ever told an offset whose bytes are not written yet, `flush()`/`close()`/`record()`
 * write what is queued, memory is bounded, and an access-log line is printed only once its flow's
 * line is in the session (the `kill -9` contract in recorder.ts).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { attachAccessLog, type AccessLogWriter } from '../../../src/ops/access-log-writer.js';
import { EventBus } from '../../../src/proxy/bus.js';
import type { Flow } from '../../../src/proxy/core/flow.js';
import { FlowStore } from '../../../src/store/flow-store.js';
import { SessionRecorder } from '../../../src/store/recorder.js';
import { SessionLog, type LineLocation } from '../../../src/store/session-log.js';
import { flowsLogPath } from '../../../src/store/session-paths.js';
import { body, makeFlow } from '../../helpers/make-flow.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

const dirs: string[] = [];
const recorders: SessionRecorder[] = [];
const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await Promise.all(recorders.splice(0).map((r) => r.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function openRecorder(opts: { warnings?: string[] } = {}): Promise<SessionRecorder> {
  const home = await mkdtemp(join(tmpdir(), 'proxyctl-batch-'));
  dirs.push(home);
  const r = await SessionRecorder.open(home, 's', { onWarning: (m) => opts.warnings?.push(m) });
  recorders.push(r);
  return r;
}

/** Ids of the lines in the session log now, in order. */
function loggedIds(r: SessionRecorder): string[] {
  const text = readFileSync(flowsLogPath(r.dir), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { id: string }).id);
}

const flow = (i: number, more: Parameters<typeof makeFlow>[0] = {}): Flow =>
  makeFlow({ id: `f${String(i).padStart(4, '0')}`, request: { path: `/p/${i}` }, response: { body: body(`body ${i}`) }, ...more });

describe('recorder: lines batched per event-loop turn', () => {
  it('writes the lines of a turn together at its end, in order', async () => {
    const r = await openRecorder();
    const bus = new EventBus((err) => {
      throw err;
    });
    r.attach(bus);
    for (let i = 0; i < 3; i++) bus.emit({ type: 'flow-end', flow: flow(i) });
    expect(r.flows).toBe(3);
    expect(loggedIds(r)).toEqual([]); // queued, not written yet
    await turn();
    expect(loggedIds(r)).toEqual(['f0000', 'f0001', 'f0002']);
    bus.emit({ type: 'flow-end', flow: flow(3) });
    await turn();
    expect(loggedIds(r)).toEqual(['f0000', 'f0001', 'f0002', 'f0003']);
  });

  it('tells onRecorded only after the write: a flow read back by that offset at once sees its line', async () => {
    const r = await openRecorder();
    const bus = new EventBus((err) => {
      throw err;
    });
    r.attach(bus);
    const log = new SessionLog(r.dir);
    cleanups.push(() => log.close());
    const seen: Array<{ id: string; read: string }> = [];
    r.onRecorded = (f: Flow, at: LineLocation) => {
      const [rec] = log.readSync([at]);
      seen.push({ id: f.id, read: rec instanceof Error ? rec.message : rec!.id });
    };
    for (let i = 0; i < 5; i++) bus.emit({ type: 'flow-end', flow: flow(i) });
    expect(seen).toEqual([]);
    await turn();
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => ({ id: `f000${i}`, read: `f000${i}` })));
  });

  it('lines with multi-byte characters in one batch: every offset and length points at its own line', async () => {
    const r = await openRecorder();
    const bus = new EventBus((err) => {
      throw err;
    });
    r.attach(bus);
    const at = new Map<string, LineLocation>();
    r.onRecorded = (f: Flow, where: LineLocation) => void at.set(f.id, where);
    const paths = ['/caf\u00e9', '/\u{1F600}/\u4e2d\u6587', '/plain', '/\u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9'];
    paths.forEach((path, i) => bus.emit({ type: 'flow-end', flow: flow(i, { request: { path } }) }));
    await turn();
    const text = readFileSync(flowsLogPath(r.dir));
    paths.forEach((path, i) => {
      const where = at.get(`f000${i}`)!;
      const line = text.subarray(where.offset, where.offset + where.length);
      expect(line[line.length - 1]).toBe(0x0a);
      expect((JSON.parse(line.toString('utf8')) as Flow).request.path).toBe(path);
    });
    const last = at.get('f0003')!;
    expect(last.offset + last.length).toBe(text.length);
  });

  it('record() writes the lines queued before it first, then its own, and returns where that went', async () => {
    const r = await openRecorder();
    const bus = new EventBus();
    r.attach(bus);
    bus.emit({ type: 'flow-end', flow: flow(0) });
    const at = r.record(flow(1));
    expect(loggedIds(r)).toEqual(['f0000', 'f0001']);
    const text = readFileSync(flowsLogPath(r.dir));
    expect((JSON.parse(text.subarray(at.offset, at.offset + at.length).toString()) as { id: string }).id).toBe('f0001');
    expect(at.offset + at.length).toBe(text.length);
  });

  it('flush() and close() write the queued lines', async () => {
    const r = await openRecorder();
    const bus = new EventBus();
    r.attach(bus);
    bus.emit({ type: 'flow-end', flow: flow(0) });
    // Written before the first await (the end of the turn has not come yet).
    const flushed = r.flush();
    expect(loggedIds(r)).toEqual(['f0000']);
    await flushed;
    bus.emit({ type: 'flow-end', flow: flow(1) });
    bus.emit({ type: 'flow-end', flow: flow(2) });
    const closed = r.close();
    expect(loggedIds(r)).toEqual(['f0000', 'f0001', 'f0002']);
    await closed;
    // Closed: a flow ending now is refused and said so, not queued.
    const logs: string[] = [];
    bus.on('log', (e) => logs.push(e.message));
    bus.emit({ type: 'flow-end', flow: flow(3) });
    await turn();
    expect(logs).toEqual([expect.stringMatching(/could not record flow f0003: session s is closed/)]);
    expect(r.failed).toBe(1);
    expect(loggedIds(r)).toEqual(['f0000', 'f0001', 'f0002']);
  });

  it('writes at once when more than 1 MiB is queued (bounded memory), still in order', async () => {
    const r = await openRecorder();
    const bus = new EventBus();
    r.attach(bus);
    // Each line carries a 300 KiB header: the fourth crosses 1 MiB.
    const big = (i: number) => flow(i, { request: { path: `/p/${i}`, headers: [['X-Big', 'x'.repeat(300 * 1024)]] } });
    for (let i = 0; i < 3; i++) bus.emit({ type: 'flow-end', flow: big(i) });
    expect(loggedIds(r)).toEqual([]);
    bus.emit({ type: 'flow-end', flow: big(3) });
    expect(loggedIds(r)).toEqual(['f0000', 'f0001', 'f0002', 'f0003']);
    bus.emit({ type: 'flow-end', flow: flow(4) });
    await turn();
    expect(loggedIds(r)).toEqual(['f0000', 'f0001', 'f0002', 'f0003', 'f0004']);
  });
});

describe('recorder and store: nothing leaves memory before its line is written', () => {
  it('flows evicted from the ring in the turn they finished stay in view until written, then read back from the session', async () => {
    const r = await openRecorder();
    const bus = new EventBus((err) => {
      throw err;
    });
    const store = new FlowStore({ notifyIntervalMs: 0, maxFlows: 3 });
    cleanups.push(() => store.dispose());
    bus.onAny((e) => store.apply(e));
    r.attach(bus);
    store.useSession(r.dir);
    r.onRecorded = (f, at) => store.recorded(f.id, at);

    const flows = Array.from({ length: 10 }, (_, i) => flow(i));
    for (const f of flows) {
      bus.emit({ type: 'flow-start', flow: f });
      bus.emit({ type: 'flow-end', flow: f });
    }
    // Same turn: no line written yet, yet every flow is in view, whole, from memory.
    expect(loggedIds(r)).toEqual([]);
    let snap = store.getSnapshot();
    expect(snap.count).toBe(10);
    expect(Array.from({ length: 10 }, (_, i) => snap.at(i)?.id)).toEqual(flows.map((f) => f.id));
    expect(store.get('f0001')?.response?.body.bytes?.toString()).toBe('body 1');

    await turn();
    expect(loggedIds(r)).toEqual(flows.map((f) => f.id));
    // Written: the evicted ones are read back by offset (a command reads at once).
    expect(store.get('f0001')?.response?.body.bytes?.toString()).toBe('body 1');
    expect(store.get('f0006')?.request.path).toBe('/p/6');
    snap = store.getSnapshot();
    expect(snap.count).toBe(10);
    const row = await snap.read(snap.totalSeen - snap.count + 2);
    expect(row?.id).toBe('f0002');
    expect(row?.response?.body.bytes?.toString()).toBe('body 2');
  });
});

describe('recorder before access log: a printed access line means the flow is in the session', () => {
  /** An access log to a stream that checks, at each write, that every printed flow is in the session. */
  function checkedAccessLog(bus: EventBus, r: SessionRecorder, opts: { beforeWrite?: () => void } = {}) {
    const printed: string[] = [];
    const violations: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        const inSession = new Set(loggedIds(r));
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          const id = /\/p\/(\d+)/.exec(line)![1]!;
          const fid = `f${id.padStart(4, '0')}`;
          printed.push(fid);
          if (!inSession.has(fid)) violations.push(fid);
        }
        cb();
      },
    });
    const writer: AccessLogWriter = attachAccessLog(bus, { stream, owned: false, name: 'check' }, 'text', opts);
    cleanups.push(() => writer.close());
    return { printed, violations };
  }

  it('holds by subscription order alone, across turns, forced writes and flows ending inside immediates', async () => {
    // The recorder's end-of-turn write is queued at the turn's first flow-end, before the access
    // log's (subscribed later), and writes everything queued by the time it runs.
    const r = await openRecorder();
    const bus = new EventBus((err) => {
      throw err;
    });
    r.attach(bus);
    const { printed, violations } = checkedAccessLog(bus, r);
    let i = 0;
    const end = () => bus.emit({ type: 'flow-end', flow: flow(i++) });
    for (let t = 0; t < 20; t++) {
      for (let k = 0; k < t % 4; k++) end();
      // A write forced mid-turn (flush, the 1 MiB bound), then more flows in the same turn.
      if (t % 3 === 0) {
        r.writePending();
        end();
      }
      // Flows that end inside an immediate of the same turn, queued after both writers'.
      if (t % 5 === 0) setImmediate(() => end());
      await turn();
    }
    await turn();
    await turn();
    expect(violations).toEqual([]);
    expect(printed).toHaveLength(i);
    expect(loggedIds(r)).toHaveLength(i);
  });

  it('holds with beforeWrite whatever the order, even attached while the recorder has a write queued', async () => {
    const r = await openRecorder();
    const bus = new EventBus((err) => {
      throw err;
    });
    r.attach(bus);
    let i = 0;
    const end = () => bus.emit({ type: 'flow-end', flow: flow(i++) });
    // The recorder's end-of-turn write is queued, then an unrelated immediate, then the access log
    // attaches and queues its own: a flow ending in that immediate lands between the two.
    end();
    setImmediate(() => end());
    const { printed, violations } = checkedAccessLog(bus, r, { beforeWrite: () => r.writePending() });
    end();
    await turn();
    await turn();
    await turn();
    expect(violations).toEqual([]);
    expect(printed).toEqual(['f0001', 'f0002']);
    expect(loggedIds(r)).toEqual(['f0000', 'f0001', 'f0002']);
  });
});
