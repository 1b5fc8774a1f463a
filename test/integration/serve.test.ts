/**
 * `proxyctl serve` (server replay, issue 7) as a user runs it: a session recorded through the real
 * CLI is served by a second process that never goes upstream (the origins are closed first), and
 * curl through it gets the recorded answers byte for byte, over plain HTTP and over HTTPS inside
 * CONNECT with proxyctl's CA; an unknown request gets a 404 naming the closest recorded one.
 * These spawn the BUILT CLI: run `npm run build` first (`npm test` does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { caCertPath } from '../../src/config/paths.js';
import { flowsToHar } from '../../src/export/har.js';
import { binPath, killAll, repoRoot, startCli } from '../helpers/cli.js';
import { cleanEnv, curlRequest, header, type CurlResponse } from '../helpers/curl.js';
import { body, makeFlow } from '../helpers/make-flow.js';
import { originCa } from '../helpers/origin-certs.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { makeTempHome, type TempHome } from '../helpers/test-ca.js';

const READY = /^proxyctl serving (\S+) on http:\/\/127\.0\.0\.1:(\d+)$/;

interface Served {
  url: string;
  lines: string[];
  child: ChildProcess;
}

describe('proxyctl serve', () => {
  let home: TempHome;
  let plain: Origin;
  let secure: Origin;
  const recorded = new Map<string, CurlResponse>();
  const children: ChildProcess[] = [];
  let work: string;

  beforeAll(async () => {
    home = await makeTempHome();
    work = await mkdtemp(join(tmpdir(), 'proxyctl-serve-'));
    plain = await startOrigin();
    secure = await startOrigin({ tls: 'valid' });
    const cli = await startCli(['--session', 'rec'], { home: home.home, env: { NODE_EXTRA_CA_CERTS: originCa.certPath } });
    const get = async (url: string, opts: Parameters<typeof curlRequest>[1] = {}) => {
      const res = await curlRequest(url, { proxy: cli.url, cacert: caCertPath(home.home), ...opts });
      expect(res.exitCode, res.stderr).toBe(0);
      recorded.set(`${opts.method ?? 'GET'} ${url}`, res);
    };
    await get(`${plain.url}/hello`);
    await get(`${plain.url}/headers`);
    await get(`${plain.url}/gzip`);
    await get(`${plain.url}/echo`, { method: 'POST', data: 'recorded body', headers: [['Content-Type', 'text/plain']] });
    await get(`${secure.url}/bytes/5000`);
    await get(`${secure.url}/hello`);
    await cli.waitForLine(/localhost:\d+\/hello /);
    expect((await cli.stop()).code).toBe(0);
    // Nothing upstream any more: answers can only come from the recording.
    await plain.close();
    await secure.close();
  });

  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  afterAll(async () => {
    await killAll();
    await home?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function serve(args: string[]): Promise<Served> {
    const child = spawn(process.execPath, [binPath, 'serve', ...args, '--port', '0'], { cwd: repoRoot, env: cleanEnv({ PROXYCTL_HOME: home.home, NO_COLOR: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const lines: string[] = [];
    const rl = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within 15 s; stderr:\n${stderr}`)), 15_000);
      rl.once('line', (line) => {
        clearTimeout(timer);
        resolve(line);
      });
      child.once('exit', (code) => reject(new Error(`proxyctl serve exited (${code}) before its ready line; stderr:\n${stderr}`)));
    });
    rl.on('line', (l) => lines.push(l));
    const m = READY.exec(first);
    expect(m, first).not.toBeNull();
    return { url: `http://127.0.0.1:${m![2]}`, lines, child };
  }

  it('answers a plain HTTP request through it byte for byte as recorded', async () => {
    const s = await serve(['rec']);
    for (const path of ['/hello', '/headers', '/gzip']) {
      const want = recorded.get(`GET ${plain.url}${path}`)!;
      const got = await curlRequest(`${plain.url}${path}`, { proxy: s.url });
      expect(got.exitCode, got.stderr).toBe(0);
      expect(got.status).toBe(want.status);
      expect(got.body.equals(want.body), `${path} body`).toBe(true);
      // The recorded end-to-end headers, in order and case (the Date the origin sent, too).
      const endToEnd = (h: Array<[string, string]>) => h.filter(([k]) => !/^(connection|keep-alive|transfer-encoding)$/i.test(k));
      expect(endToEnd(got.headers)).toEqual(endToEnd(want.headers));
    }
    const post = await curlRequest(`${plain.url}/echo`, { proxy: s.url, method: 'POST', data: 'recorded body', headers: [['Content-Type', 'text/plain']] });
    expect(post.body.toString()).toBe('recorded body');
    expect(s.lines).toContainEqual(`hit GET ${plain.url}/hello → 200 (recorded 1 of 1)`);
  });

  it('answers HTTPS inside CONNECT with a certificate from proxyctl CA', async () => {
    const s = await serve(['rec']);
    const want = recorded.get(`GET ${secure.url}/bytes/5000`)!;
    const got = await curlRequest(`${secure.url}/bytes/5000`, { proxy: s.url, cacert: caCertPath(home.home) });
    expect(got.exitCode, got.stderr).toBe(0);
    expect(got.status).toBe(200);
    expect(got.body.equals(want.body)).toBe(true);
    expect(header(got.headers, 'content-type')).toBe('application/octet-stream');
    const hello = await curlRequest(`${secure.url}/hello`, { proxy: s.url, cacert: caCertPath(home.home) });
    expect(hello.body.toString()).toBe('hello');
    // Not our CA: curl refuses the certificate.
    const untrusted = await curlRequest(`${secure.url}/hello`, { proxy: s.url });
    expect(untrusted.exitCode).toBe(60);
  });

  it('answers an unknown request with 404 naming what was looked for and the closest recorded request', async () => {
    const s = await serve(['rec']);
    const miss = await curlRequest(`${plain.url}/hello?lang=de`, { proxy: s.url });
    expect(miss.status).toBe(404);
    expect(header(miss.headers, 'x-proxyctl-replay')).toBe('miss');
    expect(miss.body.toString()).toBe(
      ['proxyctl serve: no recorded response for', `  GET ${plain.url}/hello?lang=de  (request body 0 bytes)`, 'closest recorded requests:', `  GET ${plain.url}/hello  (query differs)`, ''].join('\n'),
    );
    const body = await curlRequest(`${plain.url}/echo`, { proxy: s.url, method: 'POST', data: 'other body' });
    expect(body.status).toBe(404);
    expect(body.body.toString()).toContain(`POST ${plain.url}/echo  (body differs)`);
    expect(s.lines).toContainEqual(`miss GET ${plain.url}/hello?lang=de → 404`);
  });

  it('--ignore-query answers the same path with any query', async () => {
    const s = await serve(['rec', '--ignore-query']);
    const got = await curlRequest(`${plain.url}/hello?lang=de`, { proxy: s.url });
    expect(got.status).toBe(200);
    expect(got.body.toString()).toBe('hello');
  });

  it('serves a HAR file, answering identical requests in recorded order, then the last again', async () => {
    const file = join(work, 'poll.har');
    const flows = ['one', 'two'].map((b) => makeFlow({ request: { host: 'api.test', path: '/poll' }, response: { body: body(b) } }));
    await writeFile(file, JSON.stringify(flowsToHar(flows)));
    const s = await serve([file]);
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) bodies.push((await curlRequest('http://api.test/poll', { proxy: s.url })).body.toString());
    expect(bodies).toEqual(['one', 'two', 'two']);
  });

  it('refuses bad options with exit code 2', async () => {
    for (const args of [['nope'], ['rec', '--port', 'x'], ['rec', '--ignore-header', 'x-a']]) {
      const child = spawn(process.execPath, [binPath, 'serve', ...args], { cwd: repoRoot, env: cleanEnv({ PROXYCTL_HOME: home.home }), stdio: 'ignore' });
      children.push(child);
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(code, args.join(' ')).toBe(2);
    }
  });
});
