/**
 * The config watcher against real files in a temp directory: every save is a real write or rename,
 * every wait is bounded. Where a test proves that NOTHING is reported, it waits a quiet period of
 * several debounce intervals and then proves the watcher is still alive with a real change.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigFile } from '../../../src/config/schema.js';
import { watchConfigFile, type ConfigWatcher } from '../../../src/config/watch.js';
import { waitFor } from '../../helpers/wait.js';

const DEBOUNCE = 30;
/** Long enough for any event of an earlier write to have been debounced, read and reported. */
const QUIET_MS = 400;

const V1 = 'listen: { port: 8081 }\n';
const V2 = 'listen: { port: 8082 }\nrules:\n  - { type: mock, filter: "~u /x", body: hi }\n';

interface Recorder {
  changes: { config: ConfigFile; text: string }[];
  invalid: string[][];
  errors: unknown[];
}

describe('watchConfigFile', () => {
  let dir: string;
  let file: string;
  let watcher: ConfigWatcher | null;
  let rec: Recorder;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'proxyctl-watch-'));
    file = join(dir, 'proxy.yaml');
    await writeFile(file, V1);
    watcher = null;
    rec = { changes: [], invalid: [], errors: [] };
  });

  afterEach(async () => {
    watcher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (opts: { initialText?: string } = {}) => {
    watcher = watchConfigFile(
      file,
      {
        onChange: (config, text) => rec.changes.push({ config, text }),
        onInvalid: (problems) => rec.invalid.push(problems),
        onError: (err) => rec.errors.push(err),
      },
      { debounceMs: DEBOUNCE, ...opts },
    );
    return watcher;
  };
  const quiet = () => new Promise((r) => setTimeout(r, QUIET_MS));

  it('reports a valid change, parsed, with the text read', async () => {
    start();
    await writeFile(file, V2);
    await waitFor(() => rec.changes.length === 1, { message: 'onChange after a valid write' });
    expect(rec.changes[0]!.config.listen?.port).toBe(8082);
    expect(rec.changes[0]!.config.rules?.[0]?.type).toBe('mock');
    expect(rec.changes[0]!.text).toBe(V2);
    expect(rec.invalid).toEqual([]);
  });

  it('refuses invalid YAML and a schema violation with onInvalid, never onChange', async () => {
    start();
    await writeFile(file, 'listen: { port: 8082\n');
    await waitFor(() => rec.invalid.length === 1, { message: 'onInvalid after broken YAML' });
    expect(rec.invalid[0]![0]).toMatch(/proxy\.yaml: not valid YAML or JSON/);

    await writeFile(file, 'rules:\n  - { type: block, filter: "~d a", status: 42 }\n');
    await waitFor(() => rec.invalid.length === 2, { message: 'onInvalid after a schema violation' });
    expect(rec.invalid[1]).toEqual(['rules[0].status: expected a number between 100 and 599']);
    expect(rec.changes).toEqual([]);

    // Fixing it is a change again.
    await writeFile(file, V2);
    await waitFor(() => rec.changes.length === 1, { message: 'onChange after the fix' });
  });

  it('follows an atomic save (write a temp file, rename it over the original)', async () => {
    start();
    const tmp = join(dir, '.proxy.yaml.swp');
    await writeFile(tmp, V2);
    await rename(tmp, file);
    await waitFor(() => rec.changes.length === 1, { message: 'onChange after rename over the file' });
    expect(rec.changes[0]!.text).toBe(V2);

    // And the watch survives the inode swap: a second atomic save is seen too.
    const V3 = 'listen: { port: 8083 }\n';
    await writeFile(tmp, V3);
    await rename(tmp, file);
    await waitFor(() => rec.changes.length === 2, { message: 'onChange after a second atomic save' });
    expect(rec.changes[1]!.config.listen?.port).toBe(8083);
  });

  it('ignores a save whose content did not change, and other files in the directory', async () => {
    start();
    await writeFile(file, V1);
    await writeFile(join(dir, 'other.yaml'), 'not: [valid');
    await quiet();
    expect(rec.changes).toEqual([]);
    expect(rec.invalid).toEqual([]);

    await writeFile(file, V2);
    await waitFor(() => rec.changes.length === 1, { message: 'the watcher still reports real changes' });
    // Saving V2 again is no change either.
    await writeFile(file, V2);
    await quiet();
    expect(rec.changes).toHaveLength(1);
  });

  it('uses initialText as the version in force', async () => {
    start({ initialText: V2 });
    // The file on disk (V1) differs from what the caller put in force: touching it reports V1.
    await writeFile(file, V1);
    await waitFor(() => rec.changes.length === 1, { message: 'onChange for content differing from initialText' });
    expect(rec.changes[0]!.text).toBe(V1);
  });

  it('debounces a burst of writes into one report of the last version', async () => {
    start();
    for (let port = 9000; port < 9010; port++) await writeFile(file, `listen: { port: ${port} }\n`);
    await waitFor(() => rec.changes.some((c) => c.config.listen?.port === 9009), { message: 'the last version of the burst' });
    await quiet();
    // Every report is of a version that was written, the last one is the final version, and the
    // burst did not produce one report per write.
    expect(rec.changes.at(-1)!.config.listen?.port).toBe(9009);
    expect(rec.changes.length).toBeLessThan(10);
  });

  it('reports a removed file once, keeps quiet, and reads a file that comes back', async () => {
    start();
    await rm(file);
    await waitFor(() => rec.invalid.length === 1, { message: 'onInvalid after removal' });
    expect(rec.invalid[0]).toEqual([`${file}: file was removed; keeping the config in force`]);

    // Coming back with the same content as before is reported: the runtime said it was gone.
    await writeFile(file, V1);
    await waitFor(() => rec.changes.length === 1, { message: 'onChange when the file comes back' });
    expect(rec.changes[0]!.text).toBe(V1);
    expect(rec.invalid).toHaveLength(1);
  });

  it('survives a handler that throws', async () => {
    watcher = watchConfigFile(
      file,
      {
        onChange: (config) => {
          rec.changes.push({ config, text: '' });
          throw new Error('boom');
        },
        onInvalid: (p) => rec.invalid.push(p),
        onError: (err) => rec.errors.push(err),
      },
      { debounceMs: DEBOUNCE },
    );
    await writeFile(file, V2);
    await waitFor(() => rec.errors.length === 1, { message: 'onError with the thrown error' });
    expect((rec.errors[0] as Error).message).toBe('boom');
    await writeFile(file, 'listen: { port: 8090 }\n');
    await waitFor(() => rec.changes.length === 2, { message: 'still watching after a handler threw' });
  });

  it('close() stops everything: no directory watch, no timer, no callback afterwards', async () => {
    const count = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;
    const watchesBefore = count('FSEventWrap');
    const timersBefore = count('Timeout');
    const w = start();
    expect(count('FSEventWrap')).toBe(watchesBefore + 1);

    // Start a debounce timer, then close before it fires.
    await writeFile(file, V2);
    await waitFor(() => count('Timeout') > timersBefore, { message: 'the debounce timer to be pending' });
    w.close();
    w.close(); // idempotent
    // clearTimeout is immediate; libuv closes the watch handle on its next turn.
    expect(count('Timeout')).toBe(timersBefore);
    await waitFor(() => count('FSEventWrap') === watchesBefore, { message: 'the directory watch handle to be closed' });
    await quiet();
    expect(rec.changes).toEqual([]);
    expect(rec.invalid).toEqual([]);
  });

  it('throws at once when the directory does not exist', () => {
    expect(() => watchConfigFile(join(dir, 'no-such-dir', 'proxy.yaml'), { onChange: () => {}, onInvalid: () => {} })).toThrow(/ENOENT/);
  });
});
