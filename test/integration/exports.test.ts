/**
 * Exports that real tools load (issue 7): a session recorded through the real CLI is exported with
 * `proxyctl export`, and the result is loaded by the tool it is meant for, with the origin already
 * gone (so every answer comes from the export):
 * - HAR 1.2: checked against the spec's required fields, then replayed by Playwright's
 *   `routeFromHAR` in Chromium;
 * - nock definitions through `nock.define()` answering Node's http client;
 * - msw handlers through `setupServer(...handlers)` answering `fetch`;
 * - the generated vitest file, run by a child `npx vitest run`.
 * These spawn the BUILT CLI: run `npm run build` first (`npm test` does).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, repoRoot, runCli, startCli } from '../helpers/cli.js';
import { chromiumPath } from '../helpers/chromium.js';
import { cleanEnv, curlRequest, type CurlResponse } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { makeTempHome, type TempHome } from '../helpers/test-ca.js';

interface Recorded {
  method: string;
  url: string;
  data?: string;
  contentType?: string;
  res: CurlResponse;
  /** The body as a client that decodes content-coding sees it. */
  decoded: Buffer;
}

const LOGIN_BODY = '{"user":"alice","token":"t0k3n"}';

describe('exports loaded by real tools', () => {
  let home: TempHome;
  let origin: Origin;
  let work: string;
  const recorded: Recorded[] = [];
  const byPath = (path: string) => recorded.find((r) => r.url === `${origin.url}${path}`)!;

  beforeAll(async () => {
    home = await makeTempHome();
    work = await mkdtemp(join(tmpdir(), 'proxyctl-exports-'));
    // Generated modules import 'msw', 'nock' and 'vitest': let them resolve to this repository's.
    await symlink(join(repoRoot, 'node_modules'), join(work, 'node_modules'), 'dir');
    origin = await startOrigin();
    const cli = await startCli(['--session', 'rec'], { home: home.home });
    const send = async (path: string, method = 'GET', data?: string, contentType?: string, auth?: string) => {
      const headers: Array<[string, string]> = [];
      if (contentType) headers.push(['Content-Type', contentType]);
      if (auth) headers.push(['Authorization', auth]);
      const res = await curlRequest(`${origin.url}${path}`, { proxy: cli.url, method, ...(data !== undefined ? { data } : {}), headers });
      expect(res.exitCode, res.stderr).toBe(0);
      const gz = res.headers.some(([k, v]) => k.toLowerCase() === 'content-encoding' && v === 'gzip');
      recorded.push({ method, url: `${origin.url}${path}`, ...(data !== undefined ? { data } : {}), ...(contentType ? { contentType } : {}), res, decoded: gz ? gunzipSync(res.body) : res.body });
    };
    await send('/hello');
    await send('/hello?lang=fr');
    await send('/echo', 'POST', LOGIN_BODY, 'application/json', 'Bearer s3cr3t');
    await send('/gzip');
    await send('/bytes/300');
    await send('/status/404');
    await cli.waitForLine(/\/status\/404 /);
    expect((await cli.stop()).code).toBe(0);
    // From here on, every answer must come from an export.
    await origin.close();
  });

  afterAll(async () => {
    await killAll();
    await origin?.close();
    await home?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function exportTo(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const run = await runCli(['export', 'rec', ...args], { home: home.home });
    expect(run.code, run.stderr).toBe(0);
    return run;
  }

  it('HAR: valid HAR 1.2, secrets redacted by default, and replayed by Playwright routeFromHAR in Chromium', async () => {
    const file = join(work, 'rec.har');
    const run = await exportTo(['--format', 'har', '-o', file]);
    expect(run.stderr).toContain('redacted Authorization ×1');
    const har = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(harProblems(har)).toEqual([]);
    const entries = (har['log'] as { entries: Array<{ request: { url: string; headers: Array<{ name: string; value: string }> }; response: { content: { text?: string } } }> }).entries;
    expect(entries.map((e) => e.request.url)).toEqual(recorded.map((r) => r.url));
    expect(entries[2]!.request.headers).toContainEqual({ name: 'Authorization', value: '[REDACTED]' });
    expect(JSON.stringify(har)).not.toContain('s3cr3t');
    expect(entries[3]!.response.content.text).toBe(byPath('/gzip').decoded.toString());

    let browser: Browser | null = null;
    try {
      browser = await chromium.launch({
        executablePath: chromiumPath(),
        headless: true,
        timeout: 30_000,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
      const page = await browser.newPage();
      await page.routeFromHAR(file, { notFound: 'abort' });
      const hello = await page.goto(`${origin.url}/hello`);
      expect(hello!.status()).toBe(200);
      expect(await page.textContent('body')).toBe('hello');
      // The gzip route: HAR holds the decoded JSON, served with the recorded headers.
      const gz = await page.goto(`${origin.url}/gzip`);
      expect(gz!.status()).toBe(200);
      expect(JSON.parse((await page.textContent('body'))!)).toEqual(JSON.parse(byPath('/gzip').decoded.toString()));
      const missing = await page.goto(`${origin.url}/never-recorded`).then(
        () => 'loaded',
        (err: Error) => err.message,
      );
      expect(missing).toMatch(/net::ERR_FAILED/);
    } finally {
      await browser?.close();
    }
  });

  it('HAR: --no-redact keeps secrets; --redact-json-path replaces body fields', async () => {
    const kept = await exportTo(['--format', 'har', '--no-redact']);
    expect(kept.stdout).toContain('Bearer s3cr3t');
    expect(kept.stderr).not.toContain('redacted');
    const pathed = await exportTo(['--format', 'har', '--redact-json-path', '$.token', '--filter', '~m POST']);
    const har = JSON.parse(pathed.stdout) as { log: { entries: Array<{ request: { postData: { text: string } }; response: { content: { text: string } } }> } };
    expect(har.log.entries).toHaveLength(1);
    expect(JSON.parse(har.log.entries[0]!.request.postData.text)).toEqual({ user: 'alice', token: '[REDACTED]' });
    // /echo answered with the same JSON: redacted there too.
    expect(JSON.parse(har.log.entries[0]!.response.content.text)).toEqual({ user: 'alice', token: '[REDACTED]' });
    expect(pathed.stderr).toContain('redacted Authorization ×1, $.token ×2');
    const bad = await runCli(['export', 'rec', '--format', 'har', '--redact-json-path', 'token'], { home: home.home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('a path starts with $');
    const badFilter = await runCli(['export', 'rec', '--format', 'har', '--filter', '~m ('], { home: home.home });
    expect(badFilter.code).toBe(2);
  });

  it('curl and raw: one command / one HTTP message per flow', async () => {
    const curlOut = (await exportTo(['--format', 'curl', '--filter', '~u /hello'])).stdout;
    expect(curlOut).toContain(`# GET ${origin.url}/hello → 200\ncurl ${origin.url}/hello`);
    expect(curlOut.match(/^curl /gm)).toHaveLength(2);
    const raw = (await exportTo(['--format', 'raw', '--filter', '~u /echo'])).stdout;
    expect(raw).toContain(`POST /echo HTTP/1.1\nHost: ${origin.url.replace('http://', '')}`);
    expect(raw).toContain('Authorization: [REDACTED]');
    expect(raw).toContain(`\n${LOGIN_BODY}\n`);
  });

  it('nock: nock.define() loads nock.json and answers the recorded requests made with Node http', async () => {
    const dir = join(work, 'nock-out');
    await exportTo(['--format', 'nock', '-o', dir]);
    const defs = JSON.parse(await readFile(join(dir, 'nock.json'), 'utf8')) as unknown[];
    expect(defs).toHaveLength(recorded.length);
    const { default: nock } = await import('nock');
    try {
      nock.disableNetConnect();
      nock.define(defs as Parameters<typeof nock.define>[0]);
      for (const r of recorded) {
        const got = await nodeRequest(r.url, r.method, r.data, r.contentType);
        expect(got.status, r.url).toBe(r.res.status);
        expect(got.body.equals(r.decoded), `${r.url} body`).toBe(true);
      }
      expect(nock.isDone()).toBe(true);
    } finally {
      nock.cleanAll();
      nock.enableNetConnect();
      nock.restore();
    }
  });

  it('msw: the handlers module answers fetch through setupServer', async () => {
    const file = join(work, 'msw-out', 'handlers.js');
    await exportTo(['--format', 'msw', '-o', file]);
    const { handlers } = (await import(pathToFileURL(file).href)) as { handlers: Parameters<typeof setupServer>[0][] };
    const { setupServer } = await import('msw/node');
    const server = setupServer(...handlers);
    server.listen({ onUnhandledRequest: 'error' });
    try {
      for (const r of recorded) {
        const res = await fetch(r.url, { method: r.method, redirect: 'manual', ...(r.data !== undefined ? { body: r.data, headers: { 'content-type': r.contentType! } } : {}) });
        expect(res.status, r.url).toBe(r.res.status);
        expect(Buffer.from(await res.arrayBuffer()).equals(r.decoded), `${r.url} body`).toBe(true);
      }
      // A request that was not recorded is not answered.
      await expect(fetch(`${origin.url}/hello?lang=de`)).rejects.toThrow();
    } finally {
      server.close();
    }
  });

  it.each([
    ['msw, JavaScript, directory layout', ['--format', 'vitest', '-o', 'DIR'], ['handlers.js', 'recorded.test.js']],
    ['nock, TypeScript, directory layout', ['--format', 'vitest', '--mock', 'nock', '--lang', 'ts', '-o', 'DIR'], ['nock.json', 'recorded.test.ts']],
    ['msw, TypeScript, one self-contained file', ['--format', 'vitest', '-o', 'DIR/api.test.ts'], ['api.test.ts']],
  ])('vitest (%s): the generated test passes in a child vitest', async (_what, args, files) => {
    const dir = await mkdtemp(join(work, 'vitest-'));
    const run = await exportTo(args.map((a) => a.replace('DIR', dir)));
    expect(run.stderr).toContain(`exported ${recorded.length} flows to ${files.map((f) => join(dir, f)).join(', ')}`);
    const testFile = files.at(-1)!;
    const child = await runVitest(dir, testFile);
    expect(child.code, `${child.stdout}\n${child.stderr}`).toBe(0);
    expect(child.stdout).toMatch(new RegExp(`Tests\\s+${recorded.length} passed`));
  }, 120_000);
});

/** One request with Node's http client (nock intercepts it), body collected. */
function nodeRequest(url: string, method: string, data?: string, contentType?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: contentType ? { 'content-type': contentType } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** `npx vitest run FILE --root DIR`, bounded; the parent's VITEST_* variables are not passed on. */
function runVitest(dir: string, file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = cleanEnv({ NO_COLOR: '1', CI: '1' });
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'NODE_OPTIONS') delete env[k];
  return new Promise((resolve) => {
    const child = spawn('npx', ['vitest', 'run', file, '--root', dir], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The HAR 1.2 rules (http://www.softwareishard.com/blog/har-12-spec/) a loader relies on: every
 * required field present with its type, times non-negative, `time` the sum of the timings.
 */
function harProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const need = (cond: boolean, what: string) => {
    if (!cond) problems.push(what);
  };
  const isStr = (v: unknown) => typeof v === 'string';
  const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const nameValues = (v: unknown, where: string) => {
    need(Array.isArray(v), `${where} is an array`);
    if (Array.isArray(v)) v.forEach((x, i) => need(isObj(x) && isStr(x['name']) && isStr(x['value']), `${where}[${i}] has name and value strings`));
  };
  const log = doc['log'];
  if (!isObj(log)) return ['log is an object'];
  need(log['version'] === '1.2', 'log.version is "1.2"');
  need(isObj(log['creator']) && isStr(log['creator']['name']) && isStr(log['creator']['version']), 'log.creator has name and version');
  need(Array.isArray(log['entries']), 'log.entries is an array');
  for (const [i, e] of ((log['entries'] as unknown[]) ?? []).entries()) {
    const at = `log.entries[${i}]`;
    if (!isObj(e)) {
      problems.push(`${at} is an object`);
      continue;
    }
    need(isStr(e['startedDateTime']) && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(e['startedDateTime'] as string), `${at}.startedDateTime is ISO 8601`);
    need(isNum(e['time']) && (e['time'] as number) >= 0, `${at}.time is a number >= 0`);
    const req = e['request'];
    const res = e['response'];
    need(isObj(req), `${at}.request is an object`);
    need(isObj(res), `${at}.response is an object`);
    need(isObj(e['cache']), `${at}.cache is an object`);
    if (isObj(req)) {
      need(isStr(req['method']), `${at}.request.method`);
      need(isStr(req['url']) && /^https?:\/\//.test(req['url'] as string), `${at}.request.url is absolute`);
      need(isStr(req['httpVersion']), `${at}.request.httpVersion`);
      nameValues(req['cookies'], `${at}.request.cookies`);
      nameValues(req['headers'], `${at}.request.headers`);
      nameValues(req['queryString'], `${at}.request.queryString`);
      need(isNum(req['headersSize']) && isNum(req['bodySize']), `${at}.request.headersSize/bodySize`);
      if (req['postData'] !== undefined) need(isObj(req['postData']) && isStr(req['postData']['mimeType']), `${at}.request.postData.mimeType`);
    }
    if (isObj(res)) {
      need(isNum(res['status']), `${at}.response.status`);
      need(isStr(res['statusText']), `${at}.response.statusText`);
      need(isStr(res['httpVersion']), `${at}.response.httpVersion`);
      nameValues(res['cookies'], `${at}.response.cookies`);
      nameValues(res['headers'], `${at}.response.headers`);
      const c = res['content'];
      need(isObj(c) && isNum(c['size']) && isStr(c['mimeType']), `${at}.response.content has size and mimeType`);
      if (isObj(c) && c['encoding'] !== undefined) need(c['encoding'] === 'base64', `${at}.response.content.encoding`);
      need(isStr(res['redirectURL']), `${at}.response.redirectURL`);
      need(isNum(res['headersSize']) && isNum(res['bodySize']), `${at}.response.headersSize/bodySize`);
    }
    const t = e['timings'];
    if (!isObj(t)) {
      problems.push(`${at}.timings is an object`);
      continue;
    }
    for (const k of ['send', 'wait', 'receive']) need(isNum(t[k]) && (t[k] as number) >= 0, `${at}.timings.${k} >= 0`);
    for (const k of ['blocked', 'dns', 'connect', 'ssl']) if (t[k] !== undefined) need(isNum(t[k]) && (t[k] as number) >= -1, `${at}.timings.${k} >= -1`);
    const sum = ['blocked', 'dns', 'connect', 'send', 'wait', 'receive'].map((k) => t[k] as number | undefined).filter((n): n is number => n !== undefined && n >= 0).reduce((a, b) => a + b, 0);
    need(Math.abs(sum - (e['time'] as number)) < 0.01, `${at}.time equals the sum of its timings`);
  }
  return problems;
}
