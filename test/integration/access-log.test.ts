/**
 * The access log in a file (issue 8): `--access-log FILE` or the config's `accessLog.file` (relative
 * to the config's folder), text or JSON lines, appended to (created if missing), in the TUI as well
 * as headless; a path that cannot be opened refuses the start with exit 2.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, repoRoot, runCli, startCli } from '../helpers/cli.js';
import { curlRequest } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { makeTempHome, type TempHome } from '../helpers/test-ca.js';
import { killAllTuis, startTui } from '../helpers/tmux.js';
import { waitFor } from '../helpers/wait.js';

/** `2024-01-02T03:04:05.678Z 127.0.0.1:54321 GET http://127.0.0.1:1234/hello 200 5B 3.21ms (proxy 0.4ms)` */
const TEXT_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1:\d+ (\S+) (\S+) (\d{3}|-) (\d+)B [\d.]+ms \(proxy [\d.]+ms\)$/;

/** The file's lines once it has at least `n` (the writer batches per event-loop turn). */
async function linesOf(path: string, n: number): Promise<string[]> {
  return waitFor(
    async () => {
      const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
      return lines.length >= n ? lines : null;
    },
    { timeoutMs: 5000, message: `${n} line(s) in ${path}` },
  );
}

describe('access log file', () => {
  let origin: Origin | undefined;
  const homes: TempHome[] = [];
  const dirs: string[] = [];

  async function home(): Promise<string> {
    const h = await makeTempHome();
    homes.push(h);
    return h.home;
  }

  async function tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'proxyctl-access-log-'));
    dirs.push(d);
    return d;
  }

  afterEach(async () => {
    await killAll();
    await killAllTuis();
    await origin?.close();
    origin = undefined;
    await Promise.all(homes.splice(0).map((h) => h.cleanup()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('--access-log FILE appends text lines to the file (keeping what was there); stdout keeps only the ready line', async () => {
    origin = await startOrigin();
    const dir = await tempDir();
    const path = join(dir, 'access.log');
    await writeFile(path, 'an earlier line\n');
    const cli = await startCli(['--access-log', path], { home: await home() });
    expect((await curlRequest(`${origin.url}/hello`, { proxy: cli.url })).status).toBe(200);
    expect((await curlRequest(`${origin.url}/status/404`, { proxy: cli.url })).status).toBe(404);

    const lines = await linesOf(path, 3);
    expect(lines[0]).toBe('an earlier line');
    const hello = TEXT_LINE.exec(lines[1]!);
    expect(hello, lines[1]).not.toBeNull();
    expect(hello!.slice(1, 5)).toEqual(['GET', `${origin.url}/hello`, '200', '5']);
    expect(TEXT_LINE.exec(lines[2]!)?.slice(1, 4)).toEqual(['GET', `${origin.url}/status/404`, '404']);
    expect(await cli.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(cli.lines).toEqual([]);
  });

  it("the config's accessLog.file is relative to the config's folder and follows accessLog.format: json", async () => {
    origin = await startOrigin();
    const dir = await tempDir();
    const configPath = join(dir, 'proxyctl.yaml');
    await writeFile(configPath, 'accessLog:\n  format: json\n  file: logs.jsonl\n');
    // The CLI runs in the repository: the file must land next to the config, not there.
    const cli = await startCli(['--config', configPath], { home: await home() });
    const res = await curlRequest(`${origin.url}/echo`, { proxy: cli.url, method: 'POST', data: 'twelve bytes' });
    expect(res.status).toBe(200);

    const [line] = await linesOf(join(dir, 'logs.jsonl'), 1);
    const entry = JSON.parse(line!) as Record<string, unknown>;
    expect(entry).toMatchObject({ method: 'POST', url: `${origin.url}/echo`, status: 200, requestBytes: 12, bytes: 12, error: null });
    expect(typeof entry['durationMs']).toBe('number');
    expect(existsSync(join(repoRoot, 'logs.jsonl'))).toBe(false);
    expect(await cli.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(cli.lines).toEqual([]);
  });

  it.each<[string, (dir: string) => Promise<string>, RegExp]>([
    ['a missing folder', async (dir) => join(dir, 'no-such-folder', 'access.log'), /ENOENT/],
    [
      'a folder',
      async (dir) => {
        await mkdir(join(dir, 'a-folder'));
        return join(dir, 'a-folder');
      },
      /EISDIR/,
    ],
  ])('a path that cannot be opened (%s) exits 2 naming it, before listening', async (_name, make, reason) => {
    const path = await make(await tempDir());
    const run = await runCli(['start', '--no-tui', '--port', '0', '--access-log', path], { home: await home() });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`error: access log ${path}: cannot open for appending`);
    expect(lines[0]).toMatch(reason);
  });

  it('works under the TUI too, which keeps the terminal to itself', async () => {
    origin = await startOrigin();
    const dir = await tempDir();
    const path = join(dir, 'tui.log');
    const tui = await startTui({ args: ['--access-log', path, '--log-format', 'json'] });
    expect((await curlRequest(`${origin.url}/hello`, { proxy: tui.proxyUrl })).status).toBe(200);
    const [line] = await linesOf(path, 1);
    expect(JSON.parse(line!)).toMatchObject({ method: 'GET', url: `${origin.url}/hello`, status: 200 });
    // The flow is in the list; no access-log line was written over the UI.
    const screen = await tui.waitForScreen('/hello', 'the flow in the list');
    expect(screen).not.toContain('"method"');
    expect(screen).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
  });
});
