/**
 * Sessions on disk through the real CLI (issue 7): every finished flow is on disk the moment its
 * access-log line is printed, so `kill -9` loses nothing finished; a killed session can be
 * continued; `proxyctl sessions list|show|rm` and `proxyctl import` work on what was recorded.
 * These spawn the BUILT CLI: run `npm run build` first (`npm test` does).
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { caCertPath } from '../../src/config/paths.js';
import { flowsToHar } from '../../src/export/har.js';
import type { Flow } from '../../src/proxy/core/flow.js';
import { readSessionFlows } from '../../src/store/session-reader.js';
import { killAll, runCli, startCli } from '../helpers/cli.js';
import { curlRequest, type CurlResponse } from '../helpers/curl.js';
import { body, makeFlow } from '../helpers/make-flow.js';
import { originCa } from '../helpers/origin-certs.js';
import { originBytes, startOrigin, type Origin } from '../helpers/origin.js';
import { makeTempHome, type TempHome } from '../helpers/test-ca.js';

describe('sessions (real CLI)', () => {
  const origins: Origin[] = [];
  const homes: TempHome[] = [];
  const dirs: string[] = [];

  async function home(): Promise<string> {
    const h = await makeTempHome();
    homes.push(h);
    return h.home;
  }

  afterEach(async () => {
    await killAll();
    await Promise.all(origins.splice(0).map((o) => o.close()));
    await Promise.all(homes.splice(0).map((h) => h.cleanup()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('kill -9 after the access-log lines loses no finished flow: all N come back with their bodies', async () => {
    const plain = await startOrigin();
    const secure = await startOrigin({ tls: 'valid' });
    origins.push(plain, secure);
    const h = await home();
    const cli = await startCli(['--session', 'crash'], { home: h, env: { NODE_EXTRA_CA_CERTS: originCa.certPath } });

    type Sent = { url: string; method: string; data?: Buffer; res: CurlResponse };
    const sent: Sent[] = [];
    const send = async (url: string, method = 'GET', data?: Buffer) => {
      const res = await curlRequest(url, { proxy: cli.url, cacert: caCertPath(h), method, ...(data ? { data, headers: [['Content-Type', 'application/octet-stream']] } : {}) });
      expect(res.exitCode, res.stderr).toBe(0);
      sent.push({ url, method, ...(data ? { data } : {}), res });
    };
    // Mixed traffic, with repeated bodies (shared blobs) and a binary upload.
    for (let i = 0; i < 4; i++) await send(`${plain.url}/hello?n=${i}`);
    await send(`${plain.url}/bytes/100000`);
    await send(`${plain.url}/echo`, 'POST', Buffer.from([0, 1, 2, 0xff, 0xfe]));
    await send(`${plain.url}/gzip`);
    await send(`${secure.url}/hello`);
    await send(`${secure.url}/bytes/3000`);
    await send(`${plain.url}/status/404`);
    const n = sent.length;
    const last = await cli.waitForLine(/\/status\/404 404 /);
    expect(last).toBeTruthy();
    expect(cli.lines).toHaveLength(n);

    cli.child.kill('SIGKILL');
    const exit = await cli.exited;
    expect(exit.signal).toBe('SIGKILL');

    const warnings: string[] = [];
    const flows = await readSessionFlows(h, 'crash', { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(flows).toHaveLength(n);
    flows.forEach((flow: Flow, i) => {
      const s = sent[i]!;
      expect(flow.phase).toBe('done');
      expect(`${flow.request.scheme}://${flow.request.host}:${flow.request.port}${flow.request.path}`).toBe(s.url);
      expect(flow.response!.status).toBe(s.res.status);
      // The body as it crossed the wire (the gzip route's stays encoded; curl did not ask to decode).
      expect(flow.response!.body.bytes!.equals(s.res.body), `${s.url} body`).toBe(true);
      if (s.data) expect(flow.request.body.bytes!.equals(s.data)).toBe(true);
    });
    expect(flows[4]!.response!.body.bytes!.equals(originBytes(100000))).toBe(true);

    // The index was not flushed by a graceful stop; listing recounts the log.
    const list = await runCli(['sessions', 'list'], { home: h });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^crash\\s+\\S+ \\S+\\s+${n}\\s+\\d`, 'm'));
  });

  it('continues a session with --session NAME, and a graceful stop leaves the index exact', async () => {
    const o = await startOrigin();
    origins.push(o);
    const h = await home();
    const first = await startCli(['--session', 'cont'], { home: h });
    await curlRequest(`${o.url}/hello?run=1`, { proxy: first.url });
    await first.waitForLine(/run=1/);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startCli(['--session', 'cont'], { home: h });
    await curlRequest(`${o.url}/hello?run=2`, { proxy: second.url });
    await second.waitForLine(/run=2/);
    expect((await second.stop('SIGTERM')).code).toBe(0);

    const flows = await readSessionFlows(h, 'cont');
    expect(flows.map((f) => f.request.path)).toEqual(['/hello?run=1', '/hello?run=2']);
    const list = await runCli(['sessions', 'list', '--json'], { home: h });
    const rows = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; flows: number; bytes: number });
    expect(rows).toEqual([expect.objectContaining({ name: 'cont', flows: 2 })]);
    expect(rows[0]!.bytes).toBeGreaterThan(0);
  });

  it('records into a session named after the start time when no --session is given', async () => {
    const o = await startOrigin();
    origins.push(o);
    const h = await home();
    const cli = await startCli([], { home: h });
    await curlRequest(`${o.url}/hello`, { proxy: cli.url });
    await cli.waitForLine(/\/hello /);
    expect((await cli.stop()).code).toBe(0);
    const names = await readdir(join(h, 'sessions'));
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d$/);
    expect(await readSessionFlows(h, names[0]!)).toHaveLength(1);
  });

  it('sessions show lists method, status and URL; sessions rm removes the session', async () => {
    const o = await startOrigin();
    origins.push(o);
    const h = await home();
    const cli = await startCli(['--session', 'shown'], { home: h });
    await curlRequest(`${o.url}/hello`, { proxy: cli.url });
    await curlRequest(`${o.url}/echo`, { proxy: cli.url, method: 'POST', data: 'x' });
    await cli.waitForLine(/\/echo /);
    await cli.stop();

    const show = await runCli(['sessions', 'show', 'shown'], { home: h });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout.split('\n').slice(0, 3)).toEqual([
      '#  METHOD  STATUS  URL',
      `1  GET     200     ${o.url}/hello`,
      `2  POST    200     ${o.url}/echo`,
    ]);

    const missing = await runCli(['sessions', 'show', 'nope'], { home: h });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no session named nope');
    expect((await runCli(['sessions', 'show', '../etc'], { home: h })).code).toBe(2);

    const removed = await runCli(['sessions', 'rm', 'shown'], { home: h });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe('removed session shown\n');
    expect((await runCli(['sessions', 'list'], { home: h })).stdout).toContain('no sessions yet');
    expect((await runCli(['sessions', 'rm', 'shown'], { home: h })).code).toBe(2);
  });

  it('import FILE.har makes a session that reads back like a recorded one', async () => {
    const h = await home();
    const dir = await mkdtemp(join(tmpdir(), 'proxyctl-import-'));
    dirs.push(dir);
    const file = join(dir, 'traffic.har');
    const flows = [makeFlow({ request: { path: '/a' }, response: { body: body('first') } }), makeFlow({ request: { method: 'POST', path: '/b', body: body('{"x":1}') }, response: { status: 201, body: body('second') } })];
    await writeFile(file, JSON.stringify(flowsToHar(flows)));

    const imported = await runCli(['import', file], { home: h });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toBe('imported 2 flows into session traffic\n');
    const back = await readSessionFlows(h, 'traffic');
    expect(back.map((f) => [f.request.method, f.request.path, f.response!.status, f.response!.body.bytes!.toString()])).toEqual([
      ['GET', '/a', 200, 'first'],
      ['POST', '/b', 201, 'second'],
    ]);

    const again = await runCli(['import', file], { home: h });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('session traffic already exists');
    expect((await runCli(['import', file, '--session', 'other'], { home: h })).code).toBe(0);

    await writeFile(join(dir, 'bad.har'), '{"log":{}}');
    const bad = await runCli(['import', join(dir, 'bad.har')], { home: h });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a HAR 1\.2 document: log\.entries/);
  });
});
