/**
 * `proxyctl start --no-tui` as a user runs it (DESIGN.md §7): the ready line, access-log lines,
 * signals, exit codes and messages for bad options, and the CA's place in `$PROXYCTL_HOME`.
 * These spawn the BUILT CLI: run `npm run build` first (`npm test` does).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, runCli, startCli } from '../helpers/cli.js';
import { curlRequest } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { makeTempHome, type TempHome } from '../helpers/test-ca.js';

/** `2024-01-02T03:04:05.678Z 127.0.0.1:54321 GET http://127.0.0.1:1234/hello 200 5B 3.21ms (proxy 0.4ms)` */
const TEXT_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (127\.0\.0\.1:\d+) (\S+) (\S+) (\d{3}|-) (\d+)B ([\d.]+)ms \(proxy ([\d.]+)ms\)/;

describe('headless CLI', () => {
  let origin: Origin | undefined;
  const homes: TempHome[] = [];
  const dirs: string[] = [];
  const servers: net.Server[] = [];

  async function home(): Promise<string> {
    const h = await makeTempHome();
    homes.push(h);
    return h.home;
  }

  async function tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'proxyctl-cli-test-'));
    dirs.push(d);
    return d;
  }

  afterEach(async () => {
    await killAll();
    await origin?.close();
    origin = undefined;
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    await Promise.all(homes.splice(0).map((h) => h.cleanup()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('prints the ready line first, with the real port, then one text access-log line per flow', async () => {
    origin = await startOrigin();
    const cli = await startCli([], { home: await home() });
    // The helper checked that the ready line came first; the port must be the one really bound.
    expect(cli.port).toBeGreaterThan(0);
    expect(cli.url).toBe(`http://127.0.0.1:${cli.port}`);
    const res = await curlRequest(`${origin.url}/hello`, { proxy: cli.url });
    expect(res.status).toBe(200);
    // A second request marks the end: once its line is there, the first has been printed.
    await curlRequest(`${origin.url}/status/204`, { proxy: cli.url });
    await cli.waitForLine(/\/status\/204 /);
    expect(cli.lines).toHaveLength(2);
    const m = TEXT_LINE.exec(cli.lines[0]!);
    expect(m, cli.lines[0]).not.toBeNull();
    const [, time, client, method, url, status, bytes, duration, proxyMs] = m!;
    expect(Math.abs(Date.parse(time!) - Date.now())).toBeLessThan(60_000);
    expect(client).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(method).toBe('GET');
    expect(url).toBe(`${origin.url}/hello`);
    expect(status).toBe('200');
    expect(bytes).toBe('5');
    expect(Number(duration)).toBeGreaterThanOrEqual(0);
    expect(Number(proxyMs)).toBeLessThanOrEqual(Number(duration));
    expect(cli.lines[1]).toMatch(/ GET \S+\/status\/204 204 0B /);
  });

  it('--log-format json prints one parseable JSON object per flow', async () => {
    origin = await startOrigin();
    const cli = await startCli(['--log-format', 'json'], { home: await home() });
    const res = await curlRequest(`${origin.url}/bytes/1234`, { proxy: cli.url });
    expect(res.status).toBe(200);
    const line = await cli.waitForLine(/bytes\/1234/);
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(Math.abs(Date.parse(String(entry['time'])) - Date.now())).toBeLessThan(60_000);
    expect(entry['client']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(entry['method']).toBe('GET');
    expect(entry['url']).toBe(`${origin.url}/bytes/1234`);
    expect(entry['status']).toBe(200);
    expect(entry['bytes']).toBe(1234);
    expect(typeof entry['durationMs']).toBe('number');
    expect(typeof entry['proxyMs']).toBe('number');
    expect(entry['error']).toBeNull();
  });

  it('SIGTERM lets a request in flight finish, then exits 0', async () => {
    origin = await startOrigin();
    const cli = await startCli([], { home: await home() });
    const inFlight = curlRequest(`${origin.url}/slow/1500`, { proxy: cli.url });
    const o = origin;
    // Signal only once the request reached the origin (it is then truly in flight).
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the slow request never reached the origin')), 5000);
      o.server.once('request', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const exit = cli.stop('SIGTERM');
    const res = await inFlight;
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('slow\n');
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(cli.lines.some((l) => l.includes('/slow/1500 200 '))).toBe(true);
  });

  it('SIGINT exits 0', async () => {
    const cli = await startCli([], { home: await home() });
    expect(await cli.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });

  describe('bad options exit 2 with one line naming the option', () => {
    it.each<[string, string[], RegExp]>([
      ['--port 99999', ['--port', '99999'], /--port/],
      ['--port abc', ['--port', 'abc'], /--port/],
      ['--log-format xml', ['--log-format', 'xml'], /--log-format/],
      ['--resolve nonsense', ['--resolve', 'nonsense'], /--resolve/],
      ['--bogus', ['--bogus'], /--bogus/],
    ])('%s', async (_name, args, names) => {
      const run = await runCli(['start', '--no-tui', ...args], { home: await home() });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trim().split('\n');
      expect(lines, run.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(names);
    });

    it('--config with a bad field names the field', async () => {
      const dir = await tempDir();
      const file = join(dir, 'proxyctl.yaml');
      await writeFile(file, 'listen:\n  port: 70000\n');
      const run = await runCli(['start', '--no-tui', '--config', file], { home: await home() });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/listen\.port/);
      expect(run.stdout).toBe('');
    });
  });

  it('a port already in use exits 1 with a message', async () => {
    const blocker = net.createServer();
    servers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const run = await runCli(['start', '--no-tui', '--port', String(port)], { home: await home() });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`${port}.*EADDRINUSE|EADDRINUSE.*${port}|in use`));
    expect(run.stdout).not.toMatch(/listening/);
  });

  it('`proxyctl ca path` prints $PROXYCTL_HOME/ca/ca.pem, which exists', async () => {
    const h = await home();
    const run = await runCli(['ca', 'path'], { home: h });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${join(h, 'ca', 'ca.pem')}\n`);
    expect(existsSync(run.stdout.trim())).toBe(true);
  });

  it('creates the CA at ca/ca.pem on the first start with an empty home', async () => {
    // The CLI's own first-run path: it generates the root key (once, here).
    const empty = await tempDir();
    const cli = await startCli([], { home: empty, timeoutMs: 20_000 });
    expect(existsSync(join(empty, 'ca', 'ca.pem'))).toBe(true);
    expect(existsSync(join(empty, 'ca', 'ca.key'))).toBe(true);
    expect(await cli.stop()).toEqual({ code: 0, signal: null });
    const run = await runCli(['ca', 'path'], { home: empty });
    expect(run.stdout.trim()).toBe(join(empty, 'ca', 'ca.pem'));
  });
});
