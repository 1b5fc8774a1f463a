/**
 * The offset index (issue 7): where each flow's line is in `flows.jsonl`, as the recorder reports
 * it and as `proxyctl open` rebuilds it from the file, torn last lines included.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../../src/proxy/core/flow.js';
import { FlowStore } from '../../../src/store/flow-store.js';
import { LogIndex, idHash } from '../../../src/store/log-index.js';
import { indexSessionLog } from '../../../src/store/log-indexer.js';
import { isInSession } from '../../../src/store/session-bodies.js';
import { SessionError } from '../../../src/store/session-errors.js';
import { SessionLog } from '../../../src/store/session-log.js';
import { flowsLogPath } from '../../../src/store/session-paths.js';
import { body, makeFlow } from '../../helpers/make-flow.js';
import { recordingStore, until, type RecordingStore } from './recording-store.js';

let rs: RecordingStore | null = null;
const stores: FlowStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) s.dispose();
  await rs?.close();
  rs = null;
});

const flow = (i: number): Flow => makeFlow({ id: `id-${i}`, request: { path: `/p/${i}` }, response: { status: 200 + (i % 5), body: body(`body ${i}`) } });

async function recorded(n: number): Promise<RecordingStore> {
  rs = await recordingStore({ maxFlows: 4 });
  for (let i = 0; i < n; i++) rs.push(flow(i));
  return rs;
}

/** A store that only reads the session in `dir`, as `proxyctl open` builds it. */
async function opened(dir: string, warnings: string[] = []): Promise<FlowStore> {
  const store = new FlowStore({ notifyIntervalMs: 0, maxFlows: 4 });
  stores.push(store);
  store.useSession(dir);
  await store.indexSession({ onWarning: (m) => warnings.push(m) });
  return store;
}

describe('LogIndex', () => {
  it('keeps offset, length and id hash per sequence in typed arrays, growing past its first 1024 slots', () => {
    const index = new LogIndex();
    for (let i = 0; i < 5000; i++) index.append(i, `f${i}`);
    for (let i = 0; i < 5000; i += 2) index.setLocation(i, i * 100, 99);
    expect(index.end).toBe(5000);
    expect(index.offsetOf(4998)).toBe(499_800);
    expect(index.lengthOf(4998)).toBe(99);
    expect(index.offsetOf(4999)).toBe(-1); // not recorded
    expect(index.lengthOf(4999)).toBe(0);
    expect(index.offsetOf(5000)).toBe(-1); // no slot
    expect(index.candidates('f1234', 0, 5000)).toEqual([1234]);
    expect(index.candidates('f1234', 0, 1000)).toEqual([]);
    // 16 bytes a slot (capacity doubles: 8192 slots for 5000 flows).
    expect(index.byteLength).toBe(8192 * 16);
    index.reset(7000);
    expect(index.first).toBe(7000);
    expect(index.offsetOf(10)).toBe(-1);
    expect(() => index.append(1, 'x')).toThrow(/expected sequence 7000/);
  });

  it('hashes ids with FNV-1a (32 bits)', () => {
    expect(idHash('')).toBe(0x811c9dc5);
    expect(idHash('a')).toBe(0xe40c292c);
  });
});

describe('the recorder reports where each line went', () => {
  it('offset and length cut exactly one line each out of flows.jsonl', async () => {
    const t = await recorded(0);
    const at = [0, 1, 2].map((i) => t.recorder.record(flow(i)));
    const text = await readFile(flowsLogPath(t.dir));
    at.forEach((loc, i) => {
      const line = text.subarray(loc.offset, loc.offset + loc.length).toString('utf8');
      expect(line.endsWith('\n')).toBe(true);
      expect(JSON.parse(line)).toMatchObject({ id: `id-${i}`, request: { path: `/p/${i}` } });
    });
    expect(at.at(-1)!.offset + at.at(-1)!.length).toBe(text.length);
  });

  it('positional reads return each record in place, a corrupt line as an error', async () => {
    const t = await recorded(0);
    const at = [0, 1, 2].map((i) => t.recorder.record(flow(i)));
    const log = new SessionLog(t.dir);
    try {
      const got = await log.read([at[2]!, at[0]!, { offset: at[1]!.offset + 3, length: 10 }]);
      expect((got[0] as { id: string }).id).toBe('id-2');
      expect((got[1] as { id: string }).id).toBe('id-0');
      expect(got[2]).toBeInstanceOf(SessionError);
      expect((got[2] as SessionError).code).toBe('CORRUPT_LINE');
      expect(log.readSync([at[1]!]).map((r) => (r as { id: string }).id)).toEqual(['id-1']);
    } finally {
      log.close();
    }
  });
});

describe('indexing an existing session log (proxyctl open)', () => {
  it('indexes every line without loading flows; rows are read on demand', async () => {
    const t = await recorded(12);
    await t.recorder.flush();
    const store = await opened(t.dir);
    const snap = store.getSnapshot();
    expect(snap.count).toBe(12);
    expect(snap.held).toBe(0);
    expect(store.list()).toEqual([]);
    const row = await until(() => store.getSnapshot().at(7), 'row 7');
    expect(row.request.path).toBe('/p/7');
    expect(isInSession(row.response!.body)).toBe(true);
    // By id (replay, mark): the index finds it through the id hash, the body is read whole.
    expect(store.get('id-9')?.response?.body.bytes?.toString()).toBe('body 9');
  });

  it('tolerates a torn last line left by kill -9: skipped with a warning', async () => {
    const t = await recorded(5);
    await t.recorder.flush();
    await appendFile(flowsLogPath(t.dir), '{"v":1,"id":"id-5","kind":"ht');
    const warnings: string[] = [];
    const store = await opened(t.dir, warnings);
    expect(store.getSnapshot().count).toBe(5);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped a torn last line \(\d+ bytes at byte \d+\)/);
    const last = await until(() => store.getSnapshot().at(4), 'the last whole row');
    expect(last.id).toBe('id-4');
  });

  it('keeps a whole last line that only lost its newline', async () => {
    const t = await recorded(3);
    await t.recorder.flush();
    const path = flowsLogPath(t.dir);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.trimEnd());
    const warnings: string[] = [];
    const store = await opened(t.dir, warnings);
    expect(store.getSnapshot().count).toBe(3);
    expect(warnings).toEqual([]);
    expect((await until(() => store.getSnapshot().at(2), 'the last row')).id).toBe('id-2');
  });

  it('finds the id of a line whose keys are in another order (a hand-edited log)', async () => {
    const t = await recorded(2);
    await t.recorder.flush();
    const path = flowsLogPath(t.dir);
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    const { v, id, ...rest } = JSON.parse(lines[1]!) as { v: number; id: string };
    lines[1] = JSON.stringify({ ...rest, id, v });
    await writeFile(path, `${lines.join('\n')}\n`);
    const index = new LogIndex();
    expect(await indexSessionLog(path, index)).toBe(2);
    expect(index.candidates('id-1', 0, 2)).toEqual([1]);
  });
});
