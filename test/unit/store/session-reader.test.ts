import { appendFile, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionRecorder } from '../../../src/store/recorder.js';
import { encodeFlow, sha256Hex } from '../../../src/store/session-codec.js';
import { blobPath, flowsLogPath, sessionDir } from '../../../src/store/session-paths.js';
import { loadBody, readSession, readSessionFlows, readSessionRecords } from '../../../src/store/session-reader.js';
import { body, makeFlow } from '../../helpers/make-flow.js';

describe('readSession', () => {
  const dirs: string[] = [];

  async function recorded(n: number, name = 's'): Promise<{ home: string; dir: string }> {
    const home = await mkdtemp(join(tmpdir(), 'proxyctl-read-'));
    dirs.push(home);
    const r = await SessionRecorder.open(home, name, { onWarning: () => {} });
    for (let i = 0; i < n; i++) r.record(makeFlow({ request: { path: `/${i}` }, response: { body: body(`body ${i}`) } }));
    await r.close();
    return { home, dir: sessionDir(home, name) };
  }

  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('streams flows in order, each with its bodies', async () => {
    const { home } = await recorded(3);
    const paths: string[] = [];
    for await (const f of readSession(home, 's')) {
      paths.push(f.request.path);
      expect(f.response!.body.bytes!.toString()).toBe(`body ${paths.length - 1}`);
    }
    expect(paths).toEqual(['/0', '/1', '/2']);
  });

  it('with bodies: false leaves bytes null, and loadBody fetches one on demand', async () => {
    const { home, dir } = await recorded(1);
    const [flow] = await readSessionFlows(home, 's', { bodies: false });
    expect(flow!.response!.body.bytes).toBeNull();
    expect(flow!.response!.body.size).toBe(6);
    const [record] = await collect(readSessionRecords(dir));
    expect((await loadBody(dir, record!.response!.body.blob!)).toString()).toBe('body 0');
  });

  it('skips a torn last line with a warning', async () => {
    const { home, dir } = await recorded(2);
    const next = JSON.stringify(encodeFlow(makeFlow()).record);
    await appendFile(flowsLogPath(dir), next.slice(0, 40));
    const warnings: string[] = [];
    const flows = await readSessionFlows(home, 's', { onWarning: (m) => warnings.push(m) });
    expect(flows).toHaveLength(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/flows\.jsonl:3: skipped a torn last line/);
  });

  it('accepts a whole last record that only lacks its newline', async () => {
    const { home, dir } = await recorded(1);
    // Same body as the recorded flow: its blob is there.
    await appendFile(flowsLogPath(dir), JSON.stringify(encodeFlow(makeFlow({ response: { body: body('body 0') } })).record));
    const warnings: string[] = [];
    expect(await readSessionFlows(home, 's', { onWarning: (m) => warnings.push(m) })).toHaveLength(2);
    expect(warnings).toEqual([]);
  });

  it.each<[string, (line: Record<string, unknown>) => unknown, RegExp]>([
    ['a wrong type', (l) => ({ ...l, request: { ...(l['request'] as object), port: '80' } }), /flows\.jsonl:2: not a flow record: request\.port: .*number/],
    ['a missing field', (l) => ({ ...l, timings: undefined }), /flows\.jsonl:2: not a flow record: timings: /],
    ['an unknown error code', (l) => ({ ...l, error: { code: 'NOPE', message: 'x' } }), /flows\.jsonl:2: not a flow record: error\.code/],
    ['a bad blob reference', (l) => ({ ...l, response: { ...(l['response'] as object), body: { ...((l['response'] as Record<string, unknown>)['body'] as object), blob: '../../etc/passwd' } } }), /response\.body\.blob: expected a hex SHA-256/],
    ['a newer format', (l) => ({ ...l, v: 2 }), /flows\.jsonl:2: written in session format 2 by a newer proxyctl/],
  ])('refuses a complete line with %s, naming file, line and field', async (_what, corrupt, message) => {
    const { home, dir } = await recorded(3);
    const log = flowsLogPath(dir);
    const lines = (await readFile(log, 'utf8')).trimEnd().split('\n');
    lines[1] = JSON.stringify(corrupt(JSON.parse(lines[1]!) as Record<string, unknown>));
    await writeFile(log, `${lines.join('\n')}\n`);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const f of readSession(home, 's')) seen.push(f.request.path);
      })(),
    ).rejects.toMatchObject({ code: 'CORRUPT_LINE', message: expect.stringMatching(message) });
    // The lines before it were delivered: reading is streaming.
    expect(seen).toEqual(['/0']);
  });

  it('refuses a complete line that is not JSON', async () => {
    const { home, dir } = await recorded(1);
    await appendFile(flowsLogPath(dir), '{oops}\n');
    await expect(readSessionFlows(home, 's')).rejects.toMatchObject({ code: 'CORRUPT_LINE', message: expect.stringMatching(/:2: not valid JSON/) });
  });

  it('reports a missing or altered blob', async () => {
    const { home, dir } = await recorded(1);
    const blob = blobPath(dir, sha256Hex(Buffer.from('body 0')));
    await writeFile(blob, 'tampered');
    await expect(readSessionFlows(home, 's')).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
    await unlink(blob);
    await expect(readSessionFlows(home, 's')).rejects.toMatchObject({ code: 'BLOB_MISSING' });
  });

  it('reports an unknown session as NOT_FOUND', async () => {
    const { home } = await recorded(0);
    await expect(readSessionFlows(home, 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('holds one line at a time: a long session streams without reading it whole first', async () => {
    const { home, dir } = await recorded(1);
    // 5000 records of ~700 bytes: about 3.5 MB, several read chunks, lines split across chunks.
    const line = `${JSON.stringify(encodeFlow(makeFlow({ response: { body: body('') } })).record)}\n`;
    await appendFile(flowsLogPath(dir), line.repeat(5000));
    let n = 0;
    for await (const f of readSession(home, 's', { bodies: false })) {
      n++;
      expect(f.kind).toBe('http');
    }
    expect(n).toBe(5001);
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
