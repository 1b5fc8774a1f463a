/**
 * Config hot reload (issue 6, point 1): "The running proxy watches the file: a valid change applies
 * without a restart and is noted in the event log; an invalid one is refused and the previous config
 * stays in force."
 *
 * A mock rule answers `GET /hello` with a version string, so what a client gets through the proxy
 * tells which config is in force (the origin behind it would answer `hello`). The file is changed
 * the two ways people change it: written in place (`echo > file`, most scripts) and saved the
 * editor way (a temporary file renamed over it: vim, VS Code, JetBrains). Waiting is by polling
 * what the proxy answers and what it logged, never by sleeping.
 *
 * In process (`Runtime` with `configPath`, the event log read from the bus) and through the built
 * CLI (`proxyctl start --no-tui --config FILE`, the notes read from stderr): run `npm run build`
 * first for the latter.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import type { ProxyEvent } from '../../src/proxy/core/events.js';
import { killAll, startCli, type CliProcess } from '../helpers/cli.js';
import { curlRequest, header, type CurlResponse } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { makeTempHome, type TempHome } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

/** A config whose one rule answers `GET /hello` with `body`. */
function mockConfig(body: string, extra = ''): string {
  return `# proxyctl test config\nrules:\n  - type: mock\n    filter: "~u /hello"\n    body: ${body}\n${extra}`;
}

/** Not YAML: a flow sequence that is never closed. */
const BROKEN_YAML = 'rules: [ { type: mock, filter: "~u /hello", body: v9\n';
/** YAML, but not a config: a status no HTTP response can have. */
const BAD_STATUS = 'rules:\n  - type: mock\n    filter: "~u /hello"\n    status: 999\n    body: v9\n';

interface Broken {
  name: string;
  text: string;
  /** What the refusal says about the file (a problem line). */
  problem: (path: string) => RegExp;
}

const BROKEN: Broken[] = [
  { name: 'invalid YAML', text: BROKEN_YAML, problem: (path) => new RegExp(`${escape(path)}: not valid YAML or JSON: `) },
  { name: 'a schema error (status: 999)', text: BAD_STATUS, problem: () => /rules\[0\]\.status: expected a number between 100 and 599/ },
];

type Save = (path: string, text: string) => Promise<void>;

/** `echo TEXT > FILE`: truncate and write the same inode. */
const writeInPlace: Save = (path, text) => writeFile(path, text);

let saves = 0;
/** What editors do: write a temporary file next to it, then rename it over the original. */
const atomicSave: Save = async (path, text) => {
  const temp = `${path}.${process.pid}.${++saves}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
};

const SAVES: Array<[string, Save]> = [
  ['written in place', writeInPlace],
  ['saved by temp file + rename', atomicSave],
];

/** A line of the event log, as the bus carries it. */
type LogEvent = Extract<ProxyEvent, { type: 'log' }>;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `{SHA}` htpasswd line (`htpasswd -s`). */
function shaLine(user: string, password: string): string {
  return `${user}:{SHA}${createHash('sha1').update(password).digest('base64')}\n`;
}

const dirs: string[] = [];
const homes: TempHome[] = [];
const servers: Server[] = [];
let origin: Origin | null = null;

/** A fresh folder holding only the config (the watcher watches the folder). */
async function configDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'proxyctl-reload-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await stopAllProxies();
  await killAll();
  await origin?.close();
  origin = null;
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  await Promise.all(homes.splice(0).map((h) => h.cleanup()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** `GET ORIGIN/hello` through `proxyUrl`, with curl. */
function hello(proxyUrl: string, headers: Record<string, string> = {}): Promise<CurlResponse> {
  return curlRequest(`${origin!.url}/hello`, { proxy: proxyUrl, headers, timeoutMs: 5000 });
}

/** Poll until the proxy answers `/hello` with `body` (a reload applied); resolves with that answer. */
function answers(proxyUrl: string, body: string, timeoutMs = 5000): Promise<CurlResponse> {
  let last = '';
  return waitFor(
    async () => {
      const res = await hello(proxyUrl);
      last = `${res.status} ${JSON.stringify(res.body.toString())}`;
      return res.status === 200 && res.body.toString() === body ? res : null;
    },
    { timeoutMs, intervalMs: 50, message: `the proxy to answer ${JSON.stringify(body)}` },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last answer: ${last || 'none'}`);
  });
}

describe('config hot reload, in process', () => {
  /** A proxy started from the config file at `path`, as `--config` does, with its event log. */
  async function proxyFor(path: string): Promise<{ proxy: TestProxy; log: LogEvent[]; messages: (level?: LogEvent['level']) => string[] }> {
    const loaded = await loadConfigFile(path);
    if (!loaded.ok) throw new Error(`test config does not load: ${loaded.problems.join('; ')}`);
    const proxy = await startProxy({ config: loaded.config, configPath: path });
    const log: LogEvent[] = [];
    proxy.runtime.bus.on('log', (e) => log.push(e));
    const messages = (level?: LogEvent['level']) => log.filter((e) => level === undefined || e.level === level).map((e) => e.message);
    return { proxy, log, messages };
  }

  /** Resolves with the first logged message at `level` matching `re`, after `from` earlier entries. */
  function logged(log: LogEvent[], level: LogEvent['level'], re: RegExp, from = 0): Promise<string> {
    return waitFor(() => log.slice(from).find((e) => e.level === level && re.test(e.message))?.message, {
      timeoutMs: 5000,
      message: `a ${level} log entry matching ${re} (log: ${JSON.stringify(log.map((e) => `${e.level}: ${e.message}`))})`,
    });
  }

  it.each(SAVES)('a valid change applies without a restart and is noted in the event log (%s)', async (_name, save) => {
    origin = await startOrigin();
    const path = join(await configDir(), 'proxyctl.yaml');
    await writeFile(path, mockConfig('v1'));
    const { proxy, log } = await proxyFor(path);
    const first = await hello(proxy.url);
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe('v1');

    await save(path, mockConfig('v2'));
    await answers(proxy.url, 'v2');
    const note = await logged(log, 'info', /reloaded/);
    expect(note).toBe(`config ${path} reloaded: 1 rule`);
    expect(origin.requests).toHaveLength(0);
    expect(log.filter((e) => e.level === 'error' || e.level === 'warn')).toEqual([]);
  });

  describe('config hot reload with a broken file', () => {
    const cases = BROKEN.flatMap((b) => SAVES.map(([how, save]) => [b.name, how, b, save] as const));

    it.each(cases)('%s, %s: refused, noted, and the previous config stays in force until fixed', async (_name, _how, { text, problem }, save) => {
      origin = await startOrigin();
      const path = join(await configDir(), 'proxyctl.yaml');
      await writeFile(path, mockConfig('v1'));
      const { proxy, log, messages } = await proxyFor(path);
      expect((await hello(proxy.url)).body.toString()).toBe('v1');

      await save(path, mockConfig('v2'));
      await answers(proxy.url, 'v2');
      await logged(log, 'info', /reloaded/);

      const before = log.length;
      await save(path, text);
      const error = await logged(log, 'error', /has problems/, before);
      expect(error.split('\n')[0]).toBe(`config ${path} has problems; the previous config stays in force:`);
      expect(error.split('\n').slice(1).some((l) => l.startsWith('  ') && problem(path).test(l)), error).toBe(true);
      // The refusal has been made: what is in force now is what stays in force.
      const kept = await hello(proxy.url);
      expect(kept.status).toBe(200);
      expect(kept.body.toString()).toBe('v2');
      expect(messages('info').filter((m) => m.includes('reloaded'))).toHaveLength(1);
      expect(proxy.runtime.rules.list.getSnapshot().filter((r) => r.source === 'config')).toHaveLength(1);

      // Fixing the file applies it, as any valid change does.
      await save(path, mockConfig('v3'));
      await answers(proxy.url, 'v3');
      expect(await logged(log, 'info', /reloaded/, before)).toBe(`config ${path} reloaded: 1 rule`);
      expect(origin.requests).toHaveLength(0);
    });
  });

  it('refuses a reload whose htpasswd file is missing, keeps the previous config, and applies it once the file is there', async () => {
    origin = await startOrigin();
    const dir = await configDir();
    const path = join(dir, 'proxyctl.yaml');
    await writeFile(path, mockConfig('v1'));
    const { proxy, log, messages } = await proxyFor(path);
    expect((await hello(proxy.url)).body.toString()).toBe('v1');

    const withAuth = (body: string) => mockConfig(body, 'proxyAuth:\n  htpasswd: ./users.htpasswd\n');
    await writeFile(path, withAuth('v2'));
    const error = await logged(log, 'error', /not applied/);
    expect(error).toBe(`config ${path} not applied; the previous config stays in force:\n  proxyAuth.htpasswd: no such file or directory ./users.htpasswd`);
    // No authentication demanded, and the old answer: the previous config is whole.
    const kept = await hello(proxy.url);
    expect(kept.status).toBe(200);
    expect(kept.body.toString()).toBe('v1');
    expect(messages('info').filter((m) => m.includes('reloaded'))).toEqual([]);
    expect(proxy.runtime.rules.list.getSnapshot().some((r) => r.type === 'auth')).toBe(false);

    // With the file in place, the next change to the config applies, authentication included.
    await writeFile(join(dir, 'users.htpasswd'), shaLine('alice', 's3cret'));
    await writeFile(path, withAuth('v3'));
    expect(await logged(log, 'info', /reloaded/)).toBe(`config ${path} reloaded: 1 rule, proxy authentication on`);
    const refused = await hello(proxy.url);
    expect(refused.status).toBe(407);
    expect(header(refused.headers, 'Proxy-Authenticate')).toMatch(/^Basic /);
    const authed = await hello(proxy.url, { 'Proxy-Authorization': `Basic ${Buffer.from('alice:s3cret').toString('base64')}` });
    expect(authed.status).toBe(200);
    expect(authed.body.toString()).toBe('v3');
  });

  it('a config rule switched off in the rules pane does not switch off the different rule a reload puts in its place', async () => {
    origin = await startOrigin();
    const path = join(await configDir(), 'proxyctl.yaml');
    await writeFile(path, mockConfig('v1'));
    const { proxy, log } = await proxyFor(path);
    expect((await hello(proxy.url)).body.toString()).toBe('v1');
    // What Space on the mock rule in the rules pane sends: the mock is off, the origin answers.
    expect(await proxy.runtime.execute({ type: 'toggle-rule', ruleId: 'config:0', enabled: false })).toMatchObject({ ok: true });
    expect((await hello(proxy.url)).body.toString()).toBe('hello');

    // The file now holds another rule in that place, enabled (the default); the reload says so.
    await writeFile(path, 'rules:\n  - type: block\n    filter: "~u /hello"\n');
    expect(await logged(log, 'info', /reloaded/)).toBe(`config ${path} reloaded: 1 rule`);
    const blocked = await hello(proxy.url);
    expect(blocked.status).toBe(403);
    expect(origin.requests).toHaveLength(1);
    // …and the rules pane shows it switched on, as the file says.
    const rule = proxy.runtime.rules.list.getSnapshot().find((r) => r.source === 'config');
    expect(rule).toMatchObject({ type: 'block', enabled: true });
  });

  it('a reload can turn the response cache on', async () => {
    // An origin that says how many times it was asked, cacheable for a minute.
    let hits = 0;
    const counting = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'max-age=60' });
      res.end(`answer ${hits}`);
    });
    servers.push(counting);
    await new Promise<void>((resolve) => counting.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(counting.address() as AddressInfo).port}/cacheable`;

    const path = join(await configDir(), 'proxyctl.yaml');
    await writeFile(path, 'cache:\n  enabled: false\n');
    const { proxy, log } = await proxyFor(path);
    expect(proxy.runtime.toggles.getSnapshot().cache).toBe(false);
    // Cache off: every request reaches the origin.
    expect((await curlRequest(url, { proxy: proxy.url })).body.toString()).toBe('answer 1');
    expect((await curlRequest(url, { proxy: proxy.url })).body.toString()).toBe('answer 2');

    await writeFile(path, 'cache:\n  enabled: true\n');
    await waitFor(() => proxy.runtime.toggles.getSnapshot().cache === true, { message: 'the cache to be switched on by the reload' });
    expect(await logged(log, 'info', /reloaded/)).toBe(`config ${path} reloaded: 0 rules`);
    expect(proxy.runtime.rules.list.getSnapshot().find((r) => r.id === 'cache')?.enabled).toBe(true);
    // Cache on: the next answer is stored, and the one after comes from the cache.
    expect((await curlRequest(url, { proxy: proxy.url })).body.toString()).toBe('answer 3');
    const cached = await curlRequest(url, { proxy: proxy.url });
    expect(cached.status).toBe(200);
    expect(cached.body.toString()).toBe('answer 3');
    expect(hits).toBe(3);
  });
});

describe('config hot reload, headless CLI', () => {
  /** `proxyctl start --no-tui --config PATH` with a home holding the fixture CA. */
  async function cliFor(path: string): Promise<CliProcess> {
    const home = await makeTempHome();
    homes.push(home);
    return startCli(['--config', path], { home: home.home });
  }

  /** Resolves once stderr (from offset `from`) matches `re`; resolves with that stderr tail. */
  function stderrShows(cli: CliProcess, re: RegExp, from = 0): Promise<string> {
    return waitFor(() => (re.test(cli.stderr.slice(from)) ? cli.stderr.slice(from) : null), {
      timeoutMs: 5000,
      message: `stderr matching ${re}`,
    }).catch((err: Error) => {
      throw new Error(`${err.message}; stderr:\n${cli.stderr}`);
    });
  }

  it.each(SAVES)('config hot reload with a broken file: notes on stderr, the proxy keeps answering from the last good config (%s)', async (_name, save) => {
    origin = await startOrigin();
    const path = join(await configDir(), 'proxyctl.yaml');
    await writeFile(path, mockConfig('v1'));
    const cli = await cliFor(path);
    expect((await hello(cli.url)).body.toString()).toBe('v1');

    await save(path, mockConfig('v2'));
    await answers(cli.url, 'v2');
    await stderrShows(cli, new RegExp(`^proxyctl: config ${escape(path)} reloaded: 1 rule$`, 'm'));

    // Invalid YAML: refused, with the problem on the indented line below.
    let from = cli.stderr.length;
    await save(path, BROKEN_YAML);
    let tail = await stderrShows(cli, /has problems[^\n]*\n {2}\S[^\n]*\n/, from);
    expect(tail).toMatch(new RegExp(`^proxyctl: error: config ${escape(path)} has problems; the previous config stays in force:\\n {2}${escape(path)}: not valid YAML or JSON: `));
    expect((await hello(cli.url)).body.toString()).toBe('v2');

    // A schema error: the problem names the field.
    from = cli.stderr.length;
    await save(path, BAD_STATUS);
    tail = await stderrShows(cli, /has problems[^\n]*\n {2}\S[^\n]*\n/, from);
    expect(tail).toBe(`proxyctl: error: config ${path} has problems; the previous config stays in force:\n  rules[0].status: expected a number between 100 and 599\n`);
    const kept = await hello(cli.url);
    expect(kept.status).toBe(200);
    expect(kept.body.toString()).toBe('v2');

    // Fixed: applied, without a restart.
    from = cli.stderr.length;
    await save(path, mockConfig('v3'));
    await answers(cli.url, 'v3');
    await stderrShows(cli, new RegExp(`^proxyctl: config ${escape(path)} reloaded: 1 rule$`, 'm'), from);
    expect(cli.child.exitCode).toBeNull();
    expect(origin.requests).toHaveLength(0);
    // The access log went on through the reloads: one line per request, all answered.
    await cli.waitForLine(/\/hello 200 /);
    expect(cli.lines.every((l) => / GET http:\/\/127\.0\.0\.1:\d+\/hello 200 /.test(l)), cli.lines.join('\n')).toBe(true);
    const exit = await cli.stop();
    expect(exit.code).toBe(0);
  });

  it('refuses a reload whose htpasswd file is missing and keeps serving the previous config', async () => {
    origin = await startOrigin();
    const path = join(await configDir(), 'proxyctl.yaml');
    await writeFile(path, mockConfig('v1'));
    const cli = await cliFor(path);
    expect((await hello(cli.url)).body.toString()).toBe('v1');

    await writeFile(path, mockConfig('v2', 'proxyAuth:\n  htpasswd: ./missing.htpasswd\n'));
    const tail = await stderrShows(cli, /not applied[^\n]*\n {2}\S[^\n]*\n/);
    expect(tail).toBe(`proxyctl: error: config ${path} not applied; the previous config stays in force:\n  proxyAuth.htpasswd: no such file or directory ./missing.htpasswd\n`);
    const kept = await hello(cli.url);
    expect(kept.status).toBe(200);
    expect(kept.body.toString()).toBe('v1');
    expect(cli.stderr).not.toContain('reloaded');
  });
});
