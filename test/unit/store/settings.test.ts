import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { settingsPath } from '../../../src/config/paths.js';
import { defaultSettings } from '../../../src/store/schemas.js';
import { SettingsError, SettingsStore } from '../../../src/store/settings.js';

describe('SettingsStore (lowdb JSONFile, read back through zod)', () => {
  const dirs: string[] = [];
  async function home(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'proxyctl-settings-'));
    dirs.push(d);
    return d;
  }
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('starts from the defaults when there is no file, without writing one', async () => {
    const h = await home();
    const s = await SettingsStore.open(h);
    expect(s.settings).toEqual(defaultSettings());
    expect(s.settings).toEqual({ version: 1, toggles: { cache: false, noCache: false, intercept: null }, rules: [], sessions: {} });
    await expect(readFile(settingsPath(h))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('round-trips toggles, rules and the session index through the real file', async () => {
    const h = await home();
    const s = await SettingsStore.open(h);
    await s.setToggles({ cache: true, intercept: '~u /api/' });
    await s.setRules([{ type: 'block', filter: '~d ads.example' }]);
    await s.putSession({ name: 'a', created: '2026-01-01T00:00:00.000Z', flowCount: 3, bytes: 1234, logBytes: 1000 });
    const onDisk = JSON.parse(await readFile(settingsPath(h), 'utf8')) as unknown;
    expect(onDisk).toMatchObject({ toggles: { cache: true, noCache: false, intercept: '~u /api/' }, sessions: { a: { flowCount: 3 } } });
    const again = await SettingsStore.open(h);
    expect(again.settings.toggles).toEqual({ cache: true, noCache: false, intercept: '~u /api/' });
    // Rule specs come back with their defaults filled by the config schema.
    expect(again.settings.rules).toEqual([{ type: 'block', filter: '~d ads.example', status: 403, action: 'respond', enabled: true }]);
    expect(again.sessions().map((e) => e.name)).toEqual(['a']);
    await again.removeSession('a');
    expect((await SettingsStore.open(h)).settings.sessions).toEqual({});
  });

  it('re-reads before each update, so two stores (two processes) do not undo each other', async () => {
    const h = await home();
    const a = await SettingsStore.open(h);
    const b = await SettingsStore.open(h);
    await a.putSession({ name: 'one', created: '2026-01-01T00:00:00.000Z', flowCount: 1, bytes: 1, logBytes: 1 });
    await b.putSession({ name: 'two', created: '2026-01-02T00:00:00.000Z', flowCount: 2, bytes: 2, logBytes: 2 });
    expect(Object.keys((await SettingsStore.open(h)).settings.sessions).sort()).toEqual(['one', 'two']);
  });

  it('serializes concurrent updates within one process', async () => {
    const h = await home();
    const s = await SettingsStore.open(h);
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.putSession({ name: `s${i}`, created: '2026-01-01T00:00:00.000Z', flowCount: i, bytes: i, logBytes: i })));
    expect(Object.keys((await SettingsStore.open(h)).settings.sessions)).toHaveLength(10);
  });

  it.each<[string, unknown, RegExp]>([
    ['a wrong type', { toggles: { cache: 'yes' } }, /toggles\.cache: /],
    ['an unknown key', { colour: 'blue' }, /colour: unknown key/],
    ['a bad rule', { rules: [{ type: 'block', filter: '' }] }, /rules\[0\]\.filter: expected a filter expression/],
    ['a bad index entry', { sessions: { x: { name: '../x', created: 'now', flowCount: -1, bytes: 0 } } }, /sessions\.x\.name: a session name/],
  ])('refuses a settings file with %s, naming the field', async (_what, doc, message) => {
    const h = await home();
    await writeFile(settingsPath(h), JSON.stringify(doc));
    const err = await SettingsStore.open(h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SettingsError);
    expect((err as SettingsError).message).toMatch(message);
    expect((err as SettingsError).message).toContain(settingsPath(h));
  });

  it('refuses a file that is not JSON', async () => {
    const h = await home();
    await writeFile(settingsPath(h), '{ nope');
    await expect(SettingsStore.open(h)).rejects.toThrow(/settings\.json is not valid JSON/);
  });

  it('refuses an invalid change and leaves the file as it was', async () => {
    const h = await home();
    const s = await SettingsStore.open(h);
    await s.setToggles({ noCache: true });
    const before = await readFile(settingsPath(h), 'utf8');
    await expect(s.setRules([{ type: 'block', filter: '~d x', status: 42 }])).rejects.toThrow(/rules\[0\]\.status/);
    expect(await readFile(settingsPath(h), 'utf8')).toBe(before);
  });
});
