/**
 * The blocklist through the real proxy (issue 6 point 2): a block rule answers a matching request
 * itself (403 by default, a page naming the rule, `X-Proxyctl-Blocked`) or drops the connection,
 * in plain HTTP and inside intercepted HTTPS tunnels; the flow is tagged `blocked`. The
 * `block-host` command (`b` in the TUI) adds a user rule saved in `$PROXYCTL_HOME/settings.json`,
 * which survives a restart and can be toggled and removed from the rules pane.
 *
 * Host names other than the origin's are routed to it with `--resolve HOST=127.0.0.1`.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeSettings, startFlagsSchema } from '../../src/config/start-options.js';
import { settingsPath } from '../../src/config/paths.js';
import type { ConfigFile, RuleSpec } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import { curlRequest, header, type CurlResponse } from '../helpers/curl.js';
import { originCa } from '../helpers/origin-certs.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { isFinished, startProxy, stopAllProxies } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';
import { fixtureCaPaths, loadFixtureCa } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

const fixtureCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');

type BlockSpec = Extract<RuleSpec, { type: 'block' }>;

function block(filter: string, extra: Partial<BlockSpec> = {}): BlockSpec {
  return { type: 'block', filter, status: 403, action: 'respond', enabled: true, ...extra };
}

const RESOLVE = ['blocked.test=127.0.0.1', 'sub.blocked.test=127.0.0.1', 'other.test=127.0.0.1'];

describe('blocklist', () => {
  const origins: Origin[] = [];
  const sockets: RawSocket[] = [];
  const runtimes = new Set<Runtime>();
  const dirs: string[] = [];

  async function origin(tls?: 'valid'): Promise<Origin> {
    const o = await startOrigin(tls ? { tls } : {});
    origins.push(o);
    return o;
  }

  /**
   * A runtime on a home the test owns (startProxy makes a fresh home each time; a restart needs
   * the same one): fixture CA, origin CA trusted upstream, synchronous store notifications.
   */
  async function startRuntime(home: string, config: ConfigFile = {}): Promise<Runtime> {
    const settings = mergeSettings(startFlagsSchema.parse({ port: '0', tui: false, resolve: RESOLVE }), config);
    const runtime = await Runtime.create({ home, settings, ca: await loadFixtureCa(), upstreamCa: [originCa.cert], config, storeNotifyMs: 0 });
    runtimes.add(runtime);
    await runtime.start();
    return runtime;
  }

  async function stopRuntime(runtime: Runtime): Promise<void> {
    runtimes.delete(runtime);
    await runtime.stop(500);
  }

  async function tempHome(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'proxyctl-block-home-'));
    dirs.push(d);
    return d;
  }

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await Promise.all([...runtimes].map((r) => stopRuntime(r)));
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  function expectBlockPage(res: CurlResponse, status: number, rule: string, filter: string, line: string): void {
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(status);
    expect(header(res.headers, 'x-proxyctl-blocked')).toBe(rule);
    expect(header(res.headers, 'content-type')).toBe('text/html; charset=utf-8');
    expect(header(res.headers, 'cache-control')).toBe('no-store');
    const page = res.body.toString();
    expect(page).toContain('<title>Blocked by proxyctl</title>');
    expect(page).toContain(`<p>${line}</p>`);
    expect(page).toContain(`<p>was blocked by ${rule} (${filter}).</p>`);
  }

  describe('config rules', () => {
    it('a matching request gets the 403 block page naming the rule, the flow is tagged blocked, the origin sees nothing', async () => {
      const o = await origin();
      const proxy = await startProxy({ config: { rules: [block('~u /ads/')] } });
      const res = await curlRequest(`${o.url}/ads/banner.js`, { proxy: proxy.url });
      expectBlockPage(res, 403, 'rules[0] block', '~u /ads/', `GET http://127.0.0.1:${o.port}/ads/banner.js`);
      expect(o.requests).toHaveLength(0);
      const flow = await proxy.waitForFlow((f) => f.request.path === '/ads/banner.js');
      expect(flow.response?.status).toBe(403);
      expect(flow.tags).toContain('blocked');
      expect(flow.server.address).toBeNull();

      // Requests the filter does not match pass.
      const ok = await curlRequest(`${o.url}/hello`, { proxy: proxy.url });
      expect(ok.status).toBe(200);
      expect(header(ok.headers, 'x-proxyctl-blocked')).toBeUndefined();
      const passed = await proxy.waitForFlow((f) => f.request.path === '/hello');
      expect(passed.tags).not.toContain('blocked');
      expect(o.requests.map((r) => r.url)).toEqual(['/hello']);
    });

    it('answers with a custom status (451)', async () => {
      const o = await origin();
      const proxy = await startProxy({ flags: { resolve: RESOLVE }, config: { rules: [block('~d ^other\\.test$'), block('~d blocked\\.test', { status: 451 })] } });
      const res = await curlRequest(`http://blocked.test:${o.port}/hello`, { proxy: proxy.url });
      expectBlockPage(res, 451, 'rules[1] block', '~d blocked\\.test', `GET http://blocked.test:${o.port}/hello`);
      const flow = await proxy.waitForFlow((f) => f.request.host === 'blocked.test');
      expect(flow.response?.status).toBe(451);
      expect(flow.tags).toContain('blocked');
      expect(o.requests).toHaveLength(0);
      // The raw status line carries the registered reason phrase.
      const raw = await openRaw(proxy.port);
      sockets.push(raw);
      await raw.write(`GET http://blocked.test:${o.port}/x HTTP/1.1\r\nHost: blocked.test:${o.port}\r\n\r\n`);
      expect((await raw.readHead()).split('\r\n')[0]).toBe('HTTP/1.1 451 Unavailable For Legal Reasons');
    });

    it('action drop closes the client connection without a response (curl: empty reply)', async () => {
      const o = await origin();
      const proxy = await startProxy({ config: { rules: [block('~u /tracker', { action: 'drop' })] } });
      const res = await curlRequest(`${o.url}/tracker`, { proxy: proxy.url });
      expect(res.exitCode).toBe(52);
      expect(res.stderr).toMatch(/Empty reply from server/);
      expect(res.status).toBe(0);
      expect(o.requests).toHaveLength(0);
      const flow = await proxy.waitForFlow((f) => f.request.path === '/tracker');
      expect(flow.tags).toContain('blocked');
      expect(flow.response).toBeNull();

      // On the wire: not one byte, then the close.
      const raw = await openRaw(proxy.port);
      sockets.push(raw);
      await raw.write(`GET ${o.url}/tracker HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\n\r\n`);
      expect((await raw.readToEnd()).length).toBe(0);
      expect(raw.ended).toBe(true);
      expect(o.requests).toHaveLength(0);
    });

    it('blocks inside an intercepted HTTPS tunnel (HTTP/2 and HTTP/1.1); other requests in the tunnel pass', async () => {
      const o = await origin('valid');
      const proxy = await startProxy({ config: { rules: [block('~u /secret')] } });
      for (const http of ['2', '1.1'] as const) {
        const res = await curlRequest(`${o.url}/secret`, { proxy: proxy.url, cacert: fixtureCaPaths.cert, http });
        expect(res.interim.map((b) => b.status)).toEqual([200]); // the CONNECT itself passes
        expect(res.httpVersion).toBe(http);
        expectBlockPage(res, 403, 'rules[0] block', '~u /secret', `GET https://localhost:${o.port}/secret`);
      }
      const ok = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert });
      expect(ok.status).toBe(200);
      expect(ok.body.toString()).toBe('hello');
      expect(o.requests.map((r) => r.url)).toEqual(['/hello']);
      const flows = (await proxy.waitForFlows(3)).filter((f) => f.request.path === '/secret');
      expect(flows).toHaveLength(2);
      for (const f of flows) {
        expect(f.request.scheme).toBe('https');
        expect(f.tags).toContain('blocked');
        expect(f.response?.status).toBe(403);
      }
    });

    it('drops inside an HTTPS tunnel: HTTP/1.1 connection closed without a response, HTTP/2 stream reset', async () => {
      const o = await origin('valid');
      const proxy = await startProxy({ config: { rules: [block('~u /secret', { action: 'drop' })] } });
      // HTTP/1.1 on a raw TLS connection in the tunnel: no bytes, then the close.
      const raw = await openRaw(proxy.port);
      sockets.push(raw);
      await raw.write(`CONNECT localhost:${o.port} HTTP/1.1\r\nHost: localhost:${o.port}\r\n\r\n`);
      expect(await raw.readHead()).toMatch(/^HTTP\/1\.1 200 /);
      const tls = await raw.startTls({ ca: fixtureCaPem, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
      sockets.push(tls);
      await tls.write(`GET /secret HTTP/1.1\r\nHost: localhost:${o.port}\r\n\r\n`);
      expect((await tls.readToEnd()).length).toBe(0);
      // HTTP/2 with curl: the stream is cancelled, no response.
      const h2 = await curlRequest(`${o.url}/secret`, { proxy: proxy.url, cacert: fixtureCaPaths.cert, http: '2' });
      expect(h2.exitCode).toBe(92);
      expect(h2.stderr).toMatch(/HTTP\/2 stream 1 was not closed cleanly: CANCEL/);
      expect(h2.info['http_connect']).toBe(200); // the tunnel was opened
      expect(h2.info['http_code']).toBe(0); // but no response came in it
      expect(o.requests).toHaveLength(0);
      const flows = (await proxy.waitForFlows(2)).filter((f) => f.request.path === '/secret');
      expect(flows).toHaveLength(2);
      for (const f of flows) expect(f.tags).toContain('blocked');
    });
  });

  describe('block-host command (b in the TUI)', () => {
    it('blocks later requests to that host only, lists the rule with source settings, and writes it to settings.json', async () => {
      const o = await origin();
      const home = await tempHome();
      const rt = await startRuntime(home);
      const via = (host: string) => curlRequest(`http://${host}:${o.port}/hello`, { proxy: rt.url });

      expect((await via('blocked.test')).status).toBe(200);
      const result = await rt.execute({ type: 'block-host', host: 'blocked.test' });
      expect(result).toEqual({ ok: true, message: 'blocking blocked.test' });

      const filter = '~d ^blocked\\.test$';
      expectBlockPage(await via('blocked.test'), 403, 'user rules[0] block', filter, `GET http://blocked.test:${o.port}/hello`);
      // Other hosts, including a subdomain and a look-alike, still pass.
      expect((await via('other.test')).status).toBe(200);
      expect((await via('sub.blocked.test')).status).toBe(200);
      expect(o.requests.map((r) => r.rawHeaders[r.rawHeaders.findIndex((k) => k.toLowerCase() === 'host') + 1])).toEqual([
        `blocked.test:${o.port}`,
        `other.test:${o.port}`,
        `sub.blocked.test:${o.port}`,
      ]);
      const blocked = rt.store.list().filter((f) => isFinished(f) && f.tags.includes('blocked'));
      expect(blocked.map((f) => f.request.host)).toEqual(['blocked.test']);

      const entries = rt.rules.list.getSnapshot().filter((e) => e.source === 'settings');
      expect(entries).toEqual([{ id: 'user:0', type: 'block', explain: `block ${filter} with 403`, enabled: true, source: 'settings' }]);

      const saved = JSON.parse(await readFile(settingsPath(home), 'utf8')) as { rules: unknown[] };
      expect(saved.rules).toEqual([{ type: 'block', filter, status: 403, action: 'respond', enabled: true }]);

      // Blocking the same host again adds nothing.
      expect(await rt.execute({ type: 'block-host', host: 'blocked.test' })).toEqual({ ok: true, message: 'blocked.test is already blocked' });
      expect(rt.rules.list.getSnapshot().filter((e) => e.source === 'settings')).toHaveLength(1);
    });

    it('survives a restart with the same $PROXYCTL_HOME; toggle-rule off lets requests pass, remove-rule removes it', async () => {
      const o = await origin();
      const home = await tempHome();
      const first = await startRuntime(home);
      expect((await first.execute({ type: 'block-host', host: 'blocked.test' })).ok).toBe(true);
      await stopRuntime(first);

      const rt = await startRuntime(home);
      const via = () => curlRequest(`http://blocked.test:${o.port}/hello`, { proxy: rt.url });
      const userEntries = () => rt.rules.list.getSnapshot().filter((e) => e.source === 'settings');
      const savedRules = async () => (JSON.parse(await readFile(settingsPath(home), 'utf8')) as { rules: Array<{ enabled: boolean }> }).rules;

      expect(userEntries()).toMatchObject([{ id: 'user:0', type: 'block', enabled: true, source: 'settings' }]);
      const after = await via();
      expect(after.status).toBe(403);
      expect(header(after.headers, 'x-proxyctl-blocked')).toBe('user rules[0] block');

      const off = await rt.execute({ type: 'toggle-rule', ruleId: 'user:0' });
      expect(off).toEqual({ ok: true, message: 'disabled block ~d ^blocked\\.test$ with 403' });
      expect(userEntries()).toMatchObject([{ id: 'user:0', enabled: false }]);
      expect((await savedRules()).map((r) => r.enabled)).toEqual([false]);
      const passing = await via();
      expect(passing.status).toBe(200);
      expect(passing.body.toString()).toBe('hello');

      const on = await rt.execute({ type: 'toggle-rule', ruleId: 'user:0' });
      expect(on).toMatchObject({ ok: true, message: expect.stringMatching(/^enabled /) });
      expect((await via()).status).toBe(403);

      const removed = await rt.execute({ type: 'remove-rule', ruleId: 'user:0' });
      expect(removed).toEqual({ ok: true, message: 'removed block ~d ^blocked\\.test$ with 403' });
      expect(userEntries()).toEqual([]);
      expect(await savedRules()).toEqual([]);
      expect((await via()).status).toBe(200);
      expect(o.requests).toHaveLength(2);
      // The flows recorded: blocked, passed, blocked, passed.
      await waitFor(() => rt.store.list().filter(isFinished).length === 4, { message: 'four finished flows' });
      expect(rt.store.list().map((f) => [f.response?.status, f.tags.includes('blocked')])).toEqual([
        [403, true],
        [200, false],
        [403, true],
        [200, false],
      ]);
    });

    // Known bug (see the report): block rules only have a requestHeaders hook, which never runs for
    // a passthrough tunnel, so `b` on a tunnel flow says "blocking HOST" and blocks nothing.
    it('b on a passthrough tunnel flow (--ignore-hosts) blocks later tunnels to that host', async () => {
      const o = await origin('valid');
      const proxy = await startProxy({ flags: { ignoreHosts: ['^localhost$'] } });
      const first = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: originCa.certPath });
      expect(first.status).toBe(200);
      const tunnel = await proxy.waitForFlow((f) => f.kind === 'tunnel');
      expect(tunnel.request.host).toBe('localhost');
      // What the TUI sends for `b` on the selected flow.
      expect(await proxy.runtime.execute({ type: 'block-host', host: tunnel.request.host })).toEqual({ ok: true, message: 'blocking localhost' });

      const second = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: originCa.certPath });
      expect(second.body.toString()).not.toBe('hello');
      expect(o.requests).toHaveLength(1);
      expect(o.connections).toBe(1);
      const blocked = proxy.flows().filter((f) => f.request.host === 'localhost' && f.tags.includes('blocked'));
      expect(blocked).toHaveLength(1);
    });

    it('remove-rule on a config rule is refused with a message, and the rule stays in force; toggle-rule can switch it off', async () => {
      const o = await origin();
      const home = await tempHome();
      const rt = await startRuntime(home, { rules: [block('~d ^blocked\\.test$')] });
      const via = () => curlRequest(`http://blocked.test:${o.port}/hello`, { proxy: rt.url });
      const entry = rt.rules.list.getSnapshot().find((e) => e.id === 'config:0');
      expect(entry).toMatchObject({ type: 'block', source: 'config', enabled: true });

      const refused = await rt.execute({ type: 'remove-rule', ruleId: 'config:0' });
      expect(refused).toEqual({ ok: false, error: 'only rules added in proxyctl can be removed here; rules from the config file are edited in the file' });
      expect(rt.rules.list.getSnapshot().find((e) => e.id === 'config:0')).toMatchObject({ enabled: true });
      expect((await via()).status).toBe(403);

      expect(await rt.execute({ type: 'remove-rule', ruleId: 'user:7' })).toEqual({ ok: false, error: 'no rule user:7' });

      // A config rule can be switched off for this run (it is not written back).
      expect((await rt.execute({ type: 'toggle-rule', ruleId: 'config:0' })).ok).toBe(true);
      expect((await via()).status).toBe(200);
      const saved = JSON.parse(await readFile(settingsPath(home), 'utf8').catch(() => '{"rules":[]}')) as { rules: unknown[] };
      expect(saved.rules).toEqual([]);
    });
  });
});
