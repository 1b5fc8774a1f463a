/**
 * Proxy authentication through the real proxy (issue 6 point 3): `--proxy-auth user:pass`, config
 * users and htpasswd files. Requests and CONNECTs without valid `Proxy-Authorization` get 407 with
 * `Proxy-Authenticate`; the header is consumed by the proxy (never forwarded, never recorded); an
 * authenticated CONNECT tunnel carries its user, so requests inside it need no header.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigFile } from '../../src/config/schema.js';
import { mergeSettings, startFlagsSchema } from '../../src/config/start-options.js';
import type { Flow } from '../../src/proxy/core/flow.js';
import { Runtime } from '../../src/runtime.js';
import { killAll, runCli, startCli } from '../helpers/cli.js';
import { curlRequest, header } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type RawStartFlags, type TestProxy } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';
import { originCa } from '../helpers/origin-certs.js';
import { fixtureCaPaths, loadFixtureCa, makeTempHome, type TempHome } from '../helpers/test-ca.js';

const fixtureCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');
const REALM_CHALLENGE = 'Basic realm="proxyctl"';

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** Header names of a raw `[k, v, k, v …]` list, lowercased. */
function rawNames(raw: string[]): string[] {
  return raw.filter((_, i) => i % 2 === 0).map((k) => k.toLowerCase());
}

function headerNames(flow: Flow): string[] {
  return flow.request.headers.map(([k]) => k.toLowerCase());
}

/** Every file of the session the proxy records into, as text (the on-disk record of the flows). */
async function sessionText(proxy: TestProxy): Promise<string> {
  const dir = proxy.runtime.recorder!.dir;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name), 'utf8')));
  return texts.join('\n');
}

interface NodeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One absolute-form GET through the proxy with Node's http client (a fresh connection). */
function getViaProxy(proxyPort: number, url: string, headers: Record<string, string> = {}): Promise<NodeResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: proxyPort,
      method: 'GET',
      path: url,
      headers: { host: new URL(url).host, ...headers },
      agent: false,
      signal: AbortSignal.timeout(5000),
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * htpasswd lines for bob (`$apr1$`) and carol (`{SHA}`). Generated with openssl at test time when
 * it is installed; otherwise the same vectors, computed in advance with
 * `openssl passwd -apr1 -salt Zx9Qw1Ab 'b0b-pass'` and `printf 'carol pw' | openssl dgst -sha1 -binary | base64`.
 */
function htpasswdLines(): { bob: string; carol: string; generatedBy: string } {
  const fixed = { bob: 'bob:$apr1$Zx9Qw1Ab$5QUguVIAAlfVZ2SShYxdH/', carol: 'carol:{SHA}wgpYEjJDLC+2ATkar1uYUyuPRRc=' };
  let apr1: string;
  try {
    apr1 = execFileSync('openssl', ['passwd', '-apr1', 'b0b-pass'], { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return { ...fixed, generatedBy: 'fixed vectors' };
  }
  expect(apr1).toMatch(/^\$apr1\$[^$]{1,8}\$[./0-9A-Za-z]{22}$/);
  // The same fixed vector, recomputed, guards the fallback against a typo.
  expect(execFileSync('openssl', ['passwd', '-apr1', '-salt', 'Zx9Qw1Ab', 'b0b-pass'], { encoding: 'utf8', timeout: 5000 }).trim()).toBe(fixed.bob.slice(4));
  const sha = `{SHA}${createHash('sha1').update('carol pw', 'utf8').digest('base64')}`;
  expect(`carol:${sha}`).toBe(fixed.carol);
  return { bob: `bob:${apr1}`, carol: `carol:${sha}`, generatedBy: 'openssl' };
}

describe('proxy authentication', () => {
  const origins: Origin[] = [];
  const sockets: RawSocket[] = [];
  const dirs: string[] = [];
  const homes: TempHome[] = [];

  /** A \$PROXYCTL_HOME holding the fixture CA, so the CLI never generates a key. */
  async function home(): Promise<string> {
    const h = await makeTempHome();
    homes.push(h);
    return h.home;
  }

  async function origin(tls?: 'valid'): Promise<Origin> {
    const o = await startOrigin(tls ? { tls } : {});
    origins.push(o);
    return o;
  }

  async function open(proxy: TestProxy): Promise<RawSocket> {
    const raw = await openRaw(proxy.port);
    sockets.push(raw);
    return raw;
  }

  async function tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'proxyctl-auth-'));
    dirs.push(d);
    return d;
  }

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await killAll();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    await Promise.all(homes.splice(0).map((h) => h.cleanup()));
  });

  describe('plain HTTP', () => {
    it('answers a request without credentials with 407 and Proxy-Authenticate, tags the flow, and never reaches the origin', async () => {
      const o = await origin();
      const proxy = await startProxy({ config: { proxyAuth: { users: [{ user: 'alice', password: 'secret' }] } } });
      const res = await curlRequest(`${o.url}/hello`, { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(407);
      expect(header(res.headers, 'proxy-authenticate')).toBe(REALM_CHALLENGE);
      expect(res.body.toString()).toContain('proxy authentication required');
      const flow = await proxy.waitForFlow((f) => f.request.path === '/hello');
      expect(flow.response?.status).toBe(407);
      expect(flow.tags).toContain('auth-required');
      expect(o.requests).toHaveLength(0);
    });

    it('answers a wrong password with 407 and logs the failed user', async () => {
      const o = await origin();
      const proxy = await startProxy({ flags: { proxyAuth: 'alice:secret' } });
      const logs: string[] = [];
      proxy.runtime.bus.on('log', (e) => logs.push(`${e.level}: ${e.message}`));
      const res = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, extra: ['--proxy-user', 'alice:wrong'] });
      expect(res.status).toBe(407);
      expect(header(res.headers, 'proxy-authenticate')).toBe(REALM_CHALLENGE);
      const unknown = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, extra: ['--proxy-user', 'mallory:secret'] });
      expect(unknown.status).toBe(407);
      const flows = await proxy.waitForFlows(2);
      expect(flows.map((f) => f.tags.includes('auth-required'))).toEqual([true, true]);
      expect(o.requests).toHaveLength(0);
      expect(logs).toContain('warn: proxy authentication failed for user "alice" from 127.0.0.1');
      expect(logs).toContain('warn: proxy authentication failed for user "mallory" from 127.0.0.1');
      // The password itself is never logged.
      expect(logs.join('\n')).not.toContain('wrong');
    });

    it('forwards a request with the right credentials without Proxy-Authorization, and does not record the header', async () => {
      const o = await origin();
      const proxy = await startProxy({ flags: { proxyAuth: 'alice:secret' } });
      const res = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, extra: ['--proxy-user', 'alice:secret'] });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');
      expect(o.requests).toHaveLength(1);
      expect(rawNames(o.requests[0]!.rawHeaders)).not.toContain('proxy-authorization');
      const flow = await proxy.waitForFlow((f) => f.request.path === '/hello');
      expect(flow.response?.status).toBe(200);
      expect(flow.tags).not.toContain('auth-required');
      expect(headerNames(flow)).not.toContain('proxy-authorization');
      // Nor does the session on disk.
      const recorded = await sessionText(proxy);
      expect(recorded).toContain('/hello');
      expect(recorded.toLowerCase()).not.toContain('proxy-authorization');
      expect(recorded).not.toContain(basic('alice', 'secret').slice('Basic '.length));
    });

    it('checks every request on a keep-alive connection: the credentials are per request in plain HTTP', async () => {
      const o = await origin();
      const proxy = await startProxy({ flags: { proxyAuth: 'alice:secret' } });
      const raw = await open(proxy);
      const host = `127.0.0.1:${o.port}`;
      await raw.write(`GET http://${host}/hello HTTP/1.1\r\nHost: ${host}\r\nProxy-Authorization: ${basic('alice', 'secret')}\r\n\r\n`);
      expect(await raw.readHead()).toMatch(/^HTTP\/1\.1 200 /);
      expect((await raw.readBytes(5)).toString()).toBe('hello');
      await raw.write(`GET http://${host}/hello HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      const head = await raw.readHead();
      expect(head).toMatch(/^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
      expect(head).toContain(`\r\nProxy-Authenticate: ${REALM_CHALLENGE}\r\n`);
      expect(o.requests).toHaveLength(1);
    });
  });

  describe('CONNECT', () => {
    it('curl -x to an https URL without credentials: the CONNECT gets 407 and no tunnel is opened', async () => {
      const o = await origin('valid');
      const proxy = await startProxy({ flags: { proxyAuth: 'alice:secret' } });
      const res = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert });
      // curl: (56) CONNECT tunnel failed, response 407
      expect(res.exitCode).toBe(56);
      expect(res.stderr).toMatch(/CONNECT tunnel failed, response 407/);
      expect(res.status).toBe(407);
      expect(header(res.headers, 'proxy-authenticate')).toBe(REALM_CHALLENGE);
      const flow = await proxy.waitForFlow((f) => f.request.method === 'CONNECT');
      expect(flow.request.host).toBe('localhost');
      expect(flow.request.port).toBe(o.port);
      expect(flow.response?.status).toBe(407);
      expect(flow.tags).toContain('auth-required');
      expect(o.connections).toBe(0);
    });

    it('a raw CONNECT without credentials gets the exact 407 status line and challenge, then the connection closes', async () => {
      const o = await origin('valid');
      const proxy = await startProxy({ flags: { proxyAuth: 'alice:secret' } });
      const raw = await open(proxy);
      await raw.write(`CONNECT localhost:${o.port} HTTP/1.1\r\nHost: localhost:${o.port}\r\n\r\n`);
      const head = await raw.readHead();
      const lines = head.split('\r\n');
      expect(lines[0]).toBe('HTTP/1.1 407 Proxy Authentication Required');
      expect(lines).toContain(`Proxy-Authenticate: ${REALM_CHALLENGE}`);
      expect(lines).toContain('Connection: close');
      const length = Number(/\r\nContent-Length: (\d+)\r\n/i.exec(head)?.[1]);
      const rest = await raw.readToEnd();
      expect(rest.length).toBe(length);
      expect(rest.toString()).toContain('proxy authentication required');
      expect(o.connections).toBe(0);
    });

    it('a raw CONNECT with a wrong password gets 407 and the recorded CONNECT flow does not keep the credentials', async () => {
      const o = await origin('valid');
      const proxy = await startProxy({ flags: { proxyAuth: 'alice:secret' } });
      const raw = await open(proxy);
      await raw.write(`CONNECT localhost:${o.port} HTTP/1.1\r\nHost: localhost:${o.port}\r\nProxy-Authorization: ${basic('alice', 'nope')}\r\n\r\n`);
      expect((await raw.readHead()).split('\r\n')[0]).toBe('HTTP/1.1 407 Proxy Authentication Required');
      const flow = await proxy.waitForFlow((f) => f.request.method === 'CONNECT');
      expect(flow.tags).toContain('auth-required');
      expect(headerNames(flow)).not.toContain('proxy-authorization');
      expect(flow.client.user).toBeUndefined();
    });

    it('curl --proxy-user alice:secret: the HTTPS request inside the tunnel succeeds and the flow records the user', async () => {
      const o = await origin('valid');
      const proxy = await startProxy({ flags: { proxyAuth: 'alice:secret' } });
      const res = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert, extra: ['--proxy-user', 'alice:secret'] });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.interim.map((b) => b.status)).toEqual([200]); // the CONNECT answer
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');
      const flow = await proxy.waitForFlow((f) => f.request.path === '/hello');
      expect(flow.request.scheme).toBe('https');
      expect(flow.response?.status).toBe(200);
      expect(flow.client.user).toBe('alice');
      expect(flow.tags).not.toContain('auth-required');
      expect(o.requests).toHaveLength(1);
      expect(rawNames(o.requests[0]!.rawHeaders)).not.toContain('proxy-authorization');
    });

    it('requests inside an authenticated tunnel need no header, and one sent there anyway is not forwarded', async () => {
      const o = await origin('valid');
      const proxy = await startProxy({ flags: { proxyAuth: 'alice:secret' } });
      const raw = await open(proxy);
      await raw.write(`CONNECT localhost:${o.port} HTTP/1.1\r\nHost: localhost:${o.port}\r\nProxy-Authorization: ${basic('alice', 'secret')}\r\n\r\n`);
      expect(await raw.readHead()).toMatch(/^HTTP\/1\.1 200 /);
      const tls = await raw.startTls({ ca: fixtureCaPem, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
      sockets.push(tls);
      await tls.write(`GET /hello HTTP/1.1\r\nHost: localhost:${o.port}\r\n\r\n`);
      expect(await tls.readHead()).toMatch(/^HTTP\/1\.1 200 /);
      expect((await tls.readBytes(5)).toString()).toBe('hello');
      // A client that repeats the header inside the tunnel: consumed, not forwarded upstream.
      await tls.write(`GET /hello HTTP/1.1\r\nHost: localhost:${o.port}\r\nProxy-Authorization: ${basic('alice', 'secret')}\r\n\r\n`);
      expect(await tls.readHead()).toMatch(/^HTTP\/1\.1 200 /);
      expect((await tls.readBytes(5)).toString()).toBe('hello');
      expect(o.requests).toHaveLength(2);
      for (const r of o.requests) expect(rawNames(r.rawHeaders)).not.toContain('proxy-authorization');
      const flows = await proxy.waitForFlows(2);
      const inner = flows.filter((f) => f.request.path === '/hello');
      expect(inner).toHaveLength(2);
      for (const f of inner) {
        expect(f.client.user).toBe('alice');
        expect(headerNames(f)).not.toContain('proxy-authorization');
      }
      expect((await sessionText(proxy)).toLowerCase()).not.toContain('proxy-authorization');
    });
  });

  describe('htpasswd', () => {
    it('admits $apr1$ and {SHA} users from an htpasswd file in the config and refuses wrong passwords', async () => {
      const { bob, carol, generatedBy } = htpasswdLines();
      const dir = await tempDir();
      const file = join(dir, 'htpasswd');
      await writeFile(file, `# made by ${generatedBy}\n${bob}\n\n${carol}\n`);
      const o = await origin();
      const proxy = await startProxy({ config: { proxyAuth: { htpasswd: file } } });
      const url = `${o.url}/hello`;
      expect((await getViaProxy(proxy.port, url, { 'proxy-authorization': basic('bob', 'b0b-pass') })).status).toBe(200);
      expect((await getViaProxy(proxy.port, url, { 'proxy-authorization': basic('carol', 'carol pw') })).status).toBe(200);
      const wrongApr1 = await getViaProxy(proxy.port, url, { 'proxy-authorization': basic('bob', 'b0b-pasS') });
      expect(wrongApr1.status).toBe(407);
      expect(wrongApr1.headers['proxy-authenticate']).toBe(REALM_CHALLENGE);
      expect((await getViaProxy(proxy.port, url, { 'proxy-authorization': basic('carol', 'carol') })).status).toBe(407);
      // A user's password works for that user only.
      expect((await getViaProxy(proxy.port, url, { 'proxy-authorization': basic('carol', 'b0b-pass') })).status).toBe(407);
      expect(o.requests).toHaveLength(2);
      // The rules pane says auth is on, and where the users come from.
      const auth = proxy.runtime.rules.list.getSnapshot().find((e) => e.id === 'auth');
      expect(auth?.explain).toBe('proxy auth (Basic, realm "proxyctl"): 2 users from htpasswd');
    });

    it('takes the htpasswd file from --proxy-auth @FILE, over the CONNECT too', async () => {
      const { bob } = htpasswdLines();
      const dir = await tempDir();
      const file = join(dir, 'users.htpasswd');
      await writeFile(file, `${bob}\n`);
      const o = await origin('valid');
      const proxy = await startProxy({ flags: { proxyAuth: `@${file}` } });
      const denied = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert, extra: ['--proxy-user', 'bob:wrong'] });
      expect(denied.exitCode).toBe(56);
      expect(denied.status).toBe(407);
      const ok = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert, extra: ['--proxy-user', 'bob:b0b-pass'] });
      expect(ok.exitCode, ok.stderr).toBe(0);
      expect(ok.status).toBe(200);
      const flow = await proxy.waitForFlow((f) => f.request.path === '/hello');
      expect(flow.client.user).toBe('bob');
    });

    it('a missing htpasswd file: the runtime refuses to start with a message naming proxyAuth.htpasswd', async () => {
      // What startProxy does, on a home this test owns (startProxy leaves its temporary home behind
      // when Runtime.create rejects).
      const dir = await tempDir();
      const missing = join(dir, 'no-such.htpasswd');
      const create = async (flags: Partial<RawStartFlags>, config: ConfigFile) =>
        Runtime.create({
          home: dir,
          settings: mergeSettings(startFlagsSchema.parse({ port: '0', tui: false, ...flags }), config),
          ca: await loadFixtureCa(),
          config,
          storeNotifyMs: 0,
        });
      await expect(create({}, { proxyAuth: { htpasswd: missing } })).rejects.toThrow(/^proxyAuth\.htpasswd: cannot read .*no-such\.htpasswd: ENOENT$/);
      await expect(create({ proxyAuth: `@${missing}` }, {})).rejects.toThrow(/^proxyAuth\.htpasswd: cannot read .*no-such\.htpasswd: ENOENT$/);
      // Nothing was started: no settings, no session written.
      expect(await readdir(dir)).toEqual([]);
    });

    it('a missing htpasswd file: the CLI exits 2 naming proxyAuth.htpasswd, from the flag and from a config file', async () => {
      const dir = await tempDir();
      const missing = join(dir, 'no-such.htpasswd');
      const fromFlag = await runCli(['start', '--no-tui', '--port', '0', '--proxy-auth', `@${missing}`], { home: await home() });
      expect(fromFlag.code, fromFlag.stderr).toBe(2);
      expect(fromFlag.stderr).toContain('proxyAuth.htpasswd');
      expect(fromFlag.stderr).toContain(missing);
      expect(fromFlag.stdout).not.toMatch(/listening/);

      const config = join(dir, 'proxyctl.json');
      await writeFile(config, JSON.stringify({ proxyAuth: { htpasswd: 'no-such.htpasswd' } }));
      const fromConfig = await runCli(['start', '--no-tui', '--port', '0', '--config', config], { home: await home() });
      expect(fromConfig.code, fromConfig.stderr).toBe(2);
      expect(fromConfig.stderr).toContain('proxyAuth.htpasswd');
      expect(fromConfig.stdout).not.toMatch(/listening/);
    });
  });

  describe('CLI', () => {
    it('--proxy-auth alice:secret end to end with curl, over plain HTTP and CONNECT', async () => {
      const plain = await origin();
      const secure = await origin('valid');
      const cli = await startCli(['--proxy-auth', 'alice:secret'], { home: await home(), env: { NODE_EXTRA_CA_CERTS: originCa.certPath } });
      const refused = await curlRequest(`${plain.url}/hello`, { proxy: cli.url });
      expect(refused.status).toBe(407);
      expect(header(refused.headers, 'proxy-authenticate')).toBe(REALM_CHALLENGE);
      const ok = await curlRequest(`${plain.url}/hello`, { proxy: cli.url, extra: ['--proxy-user', 'alice:secret'] });
      expect(ok.exitCode, ok.stderr).toBe(0);
      expect(ok.status).toBe(200);
      expect(ok.body.toString()).toBe('hello');
      const tunnelRefused = await curlRequest(`${secure.url}/hello`, { proxy: cli.url, cacert: fixtureCaPaths.cert });
      expect(tunnelRefused.exitCode).toBe(56);
      expect(tunnelRefused.status).toBe(407);
      const tunnelOk = await curlRequest(`${secure.url}/hello`, { proxy: cli.url, cacert: fixtureCaPaths.cert, extra: ['--proxy-user', 'alice:secret'] });
      expect(tunnelOk.exitCode, tunnelOk.stderr).toBe(0);
      expect(tunnelOk.status).toBe(200);
      expect(plain.requests).toHaveLength(1);
      expect(rawNames(plain.requests[0]!.rawHeaders)).not.toContain('proxy-authorization');
      expect(secure.requests).toHaveLength(1);
      // The access log shows the refusals and the successes.
      await cli.waitForLine(new RegExp(`GET http://127\\.0\\.0\\.1:${plain.port}/hello 407 .*tags=auth-required`));
      await cli.waitForLine(new RegExp(`GET http://127\\.0\\.0\\.1:${plain.port}/hello 200 `));
      await cli.waitForLine(new RegExp(`CONNECT \\S*localhost:${secure.port}\\S* 407 .*tags=auth-required`));
      await cli.waitForLine(new RegExp(`GET https://localhost:${secure.port}/hello 200 `));
    });
  });
});
