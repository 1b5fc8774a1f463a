import { appendFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionRecorder } from '../../../src/store/recorder.js';
import { listSessions, removeSession, sessionExists } from '../../../src/store/session-catalog.js';
import { encodeFlow } from '../../../src/store/session-codec.js';
import { flowsLogPath, sessionDir } from '../../../src/store/session-paths.js';
import { SettingsStore } from '../../../src/store/settings.js';
import { body, makeFlow } from '../../helpers/make-flow.js';

describe('session catalog', () => {
  const dirs: string[] = [];
  async function home(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'proxyctl-cat-'));
    dirs.push(d);
    return d;
  }
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  async function record(h: string, name: string, n: number, created: string): Promise<void> {
    const r = await SessionRecorder.open(h, name, { now: () => new Date(created), onWarning: () => {} });
    for (let i = 0; i < n; i++) r.record(makeFlow({ response: { body: body(`${name}-${i}`) } }));
    await r.close();
  }

  it('lists sessions oldest first with their counts from the index', async () => {
    const h = await home();
    await record(h, 'b', 2, '2026-01-02T00:00:00Z');
    await record(h, 'a', 1, '2026-01-01T00:00:00Z');
    const list = await listSessions(h);
    expect(list.map((s) => [s.name, s.flowCount])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    const logSize = (await readFile(flowsLogPath(sessionDir(h, 'b')))).length;
    expect(list[1]!.bytes).toBe(logSize + 'b-0'.length + 'b-1'.length);
  });

  it('recounts an entry whose log grew behind its back (a recorder killed between index writes)', async () => {
    const h = await home();
    await record(h, 'k', 1, '2026-01-01T00:00:00Z');
    await appendFile(flowsLogPath(sessionDir(h, 'k')), `${JSON.stringify(encodeFlow(makeFlow({ response: { body: body('') } })).record)}\n`);
    expect((await listSessions(h))[0]!.flowCount).toBe(2);
    // ... and saves the fresh counts.
    expect((await SettingsStore.open(h)).settings.sessions['k']!.flowCount).toBe(2);
  });

  it('adds directories missing from the index and drops entries whose directory is gone', async () => {
    const h = await home();
    await record(h, 'kept', 1, '2026-01-01T00:00:00Z');
    await record(h, 'gone', 1, '2026-01-01T00:00:00Z');
    await rm(sessionDir(h, 'gone'), { recursive: true });
    await mkdir(sessionDir(h, 'copied'), { recursive: true });
    await appendFile(flowsLogPath(sessionDir(h, 'copied')), `${JSON.stringify(encodeFlow(makeFlow({ response: { body: body('') } })).record)}\n`);
    const names = (await listSessions(h)).map((s) => s.name).sort();
    expect(names).toEqual(['copied', 'kept']);
    expect(Object.keys((await SettingsStore.open(h)).settings.sessions).sort()).toEqual(['copied', 'kept']);
  });

  it('is empty without a sessions directory', async () => {
    expect(await listSessions(await home())).toEqual([]);
  });

  it('removes a session directory and its index entry; an unknown one is NOT_FOUND', async () => {
    const h = await home();
    await record(h, 'x', 1, '2026-01-01T00:00:00Z');
    await removeSession(h, 'x');
    expect(await sessionExists(h, 'x')).toBe(false);
    expect((await SettingsStore.open(h)).settings.sessions['x']).toBeUndefined();
    await expect(removeSession(h, 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(removeSession(h, '../etc')).rejects.toMatchObject({ code: 'BAD_NAME' });
  });
});
