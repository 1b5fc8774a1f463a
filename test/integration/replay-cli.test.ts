/**
 * `proxyctl replay` end to end: a HAR recorded by hand from a real origin's responses (and a
 * session recorded through the proxy) is replayed against real servers on 127.0.0.1. One origin
 * answers as recorded (exit 0, ✓ lines), another has changed (exit 1, the difference named), and
 * bad invocations exit 2.
 *
 * The command runs in process (`replayCommand().parseAsync`) and, once registered in cli.ts, as
 * the built CLI (`runCli`, needs `npm run build`).
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CommanderError } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { replayCommand } from '../../src/commands/replay.js';
import { SessionRecorder } from '../../src/store/recorder.js';
import { runCli, killAll } from '../helpers/cli.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies } from '../helpers/proxy.js';

// --- an API whose second version changed ----------------------------------------------------------

interface Api {
  url: string;
  port: number;
  /** `METHOD path host` of each request received. */
  seen: string[];
  bodies: string[];
  close(): Promise<void>;
}

/**
 * A small JSON API. `v2` differs from `v1` in two places: `/api/items` lists its keys in another
 * order (which must not count) and one price changed; `/api/orders` fails with 500.
 */
async function startApi(variant: 'v1' | 'v2'): Promise<Api> {
  const seen: string[] = [];
  const bodies: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push(`${req.method} ${req.url} ${req.headers.host}`);
      bodies.push(body);
      const json = (status: number, value: string, extra: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(value), ...extra });
        res.end(value);
      };
      if (req.url === '/hello') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5, date: new Date().toUTCString() });
        res.end('hello');
      } else if (req.url === '/api/items?page=1') {
        json(
          200,
          variant === 'v1'
            ? '{"total":3,"items":[{"id":1,"price":5},{"id":2,"price":7},{"id":3,"price":10}]}'
            : '{"items":[{"price":5,"id":1},{"id":2,"price":7},{"id":3,"price":12}],"total":3}',
        );
      } else if (req.url === '/api/orders' && req.method === 'POST') {
        if (variant === 'v1') json(201, `{"ok":true,"received":${body}}`);
        else json(500, '{"ok":false,"error":"boom"}');
      } else if (req.url === '/gzip') {
        const packed = gzipSync(Buffer.from('{"compressed":true,"n":[1,2,3]}'));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': packed.length });
        res.end(packed);
      } else {
        res.writeHead(404, { 'content-length': 0 });
        res.end();
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

// --- recording a HAR by hand, from real responses -----------------------------------------------

interface HarEntry {
  startedDateTime: string;
  time: number;
  request: { method: string; url: string; httpVersion: string; headers: Array<{ name: string; value: string }>; queryString: []; cookies: []; headersSize: number; bodySize: number; postData?: { mimeType: string; text: string } };
  response: { status: number; statusText: string; httpVersion: string; headers: Array<{ name: string; value: string }>; cookies: []; content: { size: number; mimeType: string; text: string }; redirectURL: string; headersSize: number; bodySize: number };
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
}

/**
 * Send one request to `origin` and describe it as a HAR entry whose URL names `recordedHost`
 * (the replay's --target puts the origin back). The response text is decoded, as HAR 1.2 says.
 */
function recordEntry(origin: string, recordedHost: string, method: string, path: string, headers: Array<[string, string]>, body?: string): Promise<HarEntry> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    // A raw header array gets no automatic Host: add the origin's, as a client talking to it would.
    const raw = [['Host', u.host], ...headers].flat();
    const req = http.request({ host: u.hostname, port: Number(u.port), method, path, headers: raw, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let bytes = Buffer.concat(chunks);
        if (res.headers['content-encoding'] === 'gzip') bytes = gunzipSync(bytes);
        const pairs: Array<{ name: string; value: string }> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push({ name: res.rawHeaders[i]!, value: res.rawHeaders[i + 1]! });
        resolve({
          startedDateTime: new Date().toISOString(),
          time: 1,
          request: {
            method,
            url: `http://${recordedHost}${path}`,
            httpVersion: 'HTTP/1.1',
            headers: [['Host', recordedHost] as [string, string], ...headers].map(([name, value]) => ({ name, value })),
            queryString: [],
            cookies: [],
            headersSize: -1,
            bodySize: body ? Buffer.byteLength(body) : 0,
            ...(body ? { postData: { mimeType: 'application/json', text: body } } : {}),
          },
          response: {
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            httpVersion: 'HTTP/1.1',
            headers: pairs,
            cookies: [],
            content: { size: bytes.length, mimeType: String(res.headers['content-type'] ?? ''), text: bytes.toString('utf8') },
            redirectURL: '',
            headersSize: -1,
            bodySize: -1,
          },
          cache: {},
          timings: { send: 0, wait: 1, receive: 0 },
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function harOf(entries: unknown[]): string {
  return JSON.stringify({ log: { version: '1.2', creator: { name: 'replay-cli.test', version: '1' }, entries } }, null, 2);
}

// --- running the command -------------------------------------------------------------------------

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `proxyctl replay ...args` in process, with captured output and the exit code `main()` in cli.ts
 * would give: commander's own errors (missing argument …) are usage errors too.
 */
async function replay(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const cmd = replayCommand({ stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env });
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  try {
    await cmd.parseAsync(args, { from: 'user' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode === 0 ? 0 : err.code === 'proxyctl.runtime' ? 1 : 2, stdout, stderr };
    throw err;
  }
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

describe('proxyctl replay', () => {
  const RECORDED_HOST = 'shop.example.test';
  let scratch: string;
  let harPath: string;
  let v1: Api;
  let v2: Api;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'proxyctl-replay-'));
    v1 = await startApi('v1');
    v2 = await startApi('v2');
    const entries = [
      await recordEntry(v1.url, RECORDED_HOST, 'GET', '/hello', [['Accept', 'text/plain']]),
      await recordEntry(v1.url, RECORDED_HOST, 'GET', '/api/items?page=1', [['Accept', 'application/json']]),
      await recordEntry(v1.url, RECORDED_HOST, 'POST', '/api/orders', [['Content-Type', 'application/json']], '{"item":3,"qty":2}'),
      await recordEntry(v1.url, RECORDED_HOST, 'GET', '/gzip', [['Accept-Encoding', 'gzip']]),
    ];
    harPath = join(scratch, 'shop.har');
    await writeFile(harPath, harOf(entries));
    v1.seen.length = 0;
    v1.bodies.length = 0;
  });

  afterEach(async () => {
    v1.seen.length = 0;
    v2.seen.length = 0;
    await stopAllProxies();
    await killAll();
  });

  afterAll(async () => {
    await v1?.close();
    await v2?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('against an origin that answers as recorded: exit 0, one ✓ line per request and a summary', async () => {
    const run = await replay([harPath, '--target', v1.url]);
    expect(run.stderr).toBe('');
    expect(lines(run.stdout)).toEqual([
      '✓ GET /hello 200',
      '✓ GET /api/items?page=1 200',
      '✓ POST /api/orders 201',
      '✓ GET /gzip 200',
      '4 replayed: 4 matched, 0 differed, 0 failed',
    ]);
    expect(run.code).toBe(0);
    // Sent straight to the target, with the target's Host, in recorded order, bodies intact.
    const host = `127.0.0.1:${v1.port}`;
    expect(v1.seen).toEqual([`GET /hello ${host}`, `GET /api/items?page=1 ${host}`, `POST /api/orders ${host}`, `GET /gzip ${host}`]);
    expect(v1.bodies[2]).toBe('{"item":3,"qty":2}');
  });

  it('against an origin that changed: exit 1, the status change and the JSON paths that differ', async () => {
    const run = await replay([harPath, '--target', v2.url]);
    expect(run.code).toBe(1);
    expect(lines(run.stdout)).toEqual([
      '✓ GET /hello 200',
      // Key order differs too, and does not count.
      '✗ GET /api/items?page=1 200, body: $.items[2].price 10→12',
      '✗ POST /api/orders 201→500, body: $.ok true→false; $.received removed (was {"item":3,"qty":2}); $.error added ("boom")',
      '✓ GET /gzip 200',
      '4 replayed: 2 matched, 2 differed, 0 failed',
    ]);
    expect(run.stderr).toMatch(/2 of 4 requests did not match/);
  });

  it('--filter selects among the recorded requests with the filter language', async () => {
    const run = await replay([harPath, '--target', v2.url, '--filter', '~u /api/ & ~m GET']);
    expect(lines(run.stdout)).toEqual(['✗ GET /api/items?page=1 200, body: $.items[2].price 10→12', '1 replayed: 0 matched, 1 differed, 0 failed']);
    expect(run.code).toBe(1);
    expect(v2.seen).toEqual([`GET /api/items?page=1 127.0.0.1:${v2.port}`]);
  });

  it('--json prints one report with every change', async () => {
    const run = await replay([harPath, '--target', v2.url, '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { target: string; summary: unknown; results: Array<Record<string, unknown>> };
    expect(report.target).toBe(`http://127.0.0.1:${v2.port}`);
    expect(report.summary).toEqual({ replayed: 4, matched: 2, differed: 2, failed: 0, skipped: 0 });
    expect(report.results[2]).toMatchObject({
      outcome: 'differ',
      method: 'POST',
      path: '/api/orders',
      url: `http://127.0.0.1:${v2.port}/api/orders`,
      recordedStatus: 201,
      status: 500,
      body: {
        kind: 'json',
        changes: [
          { kind: 'changed', path: '$.ok', before: true, after: false },
          { kind: 'removed', path: '$.received', before: { item: 3, qty: 2 } },
          { kind: 'added', path: '$.error', after: 'boom' },
        ],
      },
    });
  });

  it('a request that cannot be sent is a failure with its code (exit 1)', async () => {
    const gone = await startApi('v1');
    const url = gone.url;
    await gone.close();
    const run = await replay([harPath, '--target', url, '--filter', '~u /hello']);
    expect(lines(run.stdout)[0]).toMatch(/^✗ GET \/hello failed: UPSTREAM_REFUSED /);
    expect(run.code).toBe(1);
  });

  it('--timeout bounds each request', async () => {
    const origin: Origin = await startOrigin();
    try {
      const slow = { ...(await recordEntry(v1.url, RECORDED_HOST, 'GET', '/hello', [])), request: { method: 'GET', url: `http://${RECORDED_HOST}/slow/5000`, httpVersion: 'HTTP/1.1', headers: [], queryString: [], cookies: [], headersSize: -1, bodySize: 0 } };
      const path = join(scratch, 'slow.har');
      await writeFile(path, harOf([slow]));
      const started = Date.now();
      const run = await replay([path, '--target', origin.url, '--timeout', '200']);
      expect(lines(run.stdout)[0]).toMatch(/^✗ GET \/slow\/5000 failed: UPSTREAM_TIMEOUT /);
      expect(run.code).toBe(1);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await origin.close();
    }
  });

  it('HTTPS origins are verified unless --insecure', async () => {
    const origin = await startOrigin({ tls: 'valid' });
    try {
      const entry = { ...(await recordEntry(v1.url, RECORDED_HOST, 'GET', '/hello', [])), request: { method: 'GET', url: `${origin.url}/hello`, httpVersion: 'HTTP/1.1', headers: [], queryString: [], cookies: [], headersSize: -1, bodySize: 0 } };
      // The recorded answer came from v1 ('hello', text/plain): the TLS origin says the same.
      const path = join(scratch, 'tls.har');
      await writeFile(path, harOf([entry]));
      const strict = await replay([path]);
      expect(lines(strict.stdout)[0]).toMatch(/^✗ GET \/hello failed: UPSTREAM_CERT_UNTRUSTED /);
      expect(strict.code).toBe(1);
      const insecure = await replay([path, '--insecure']);
      expect(lines(insecure.stdout)[0]).toBe('✓ GET /hello 200');
      expect(insecure.code).toBe(0);
    } finally {
      await origin.close();
    }
  });

  it('a HAR saved without response bodies is compared on status only, and failed entries are skipped', async () => {
    const full = await recordEntry(v1.url, RECORDED_HOST, 'GET', '/hello', []);
    // Browsers can save HARs without content: `size` says there was a body, `text` is absent.
    const noBody = { ...full, response: { ...full.response, content: { size: 5, mimeType: 'text/plain' } } };
    const failed = { ...full, request: { ...full.request, url: `http://${RECORDED_HOST}/never` }, response: { ...full.response, status: 0, statusText: '', headers: [], content: { size: 0, mimeType: '' } } };
    const path = join(scratch, 'no-bodies.har');
    await writeFile(path, harOf([noBody, failed]));
    const run = await replay([path, '--target', v1.url]);
    expect(lines(run.stdout)).toEqual([
      '✓ GET /hello 200 (body not compared: the body was not recorded)',
      expect.stringMatching(/^- GET \/never skipped: the recording ended in error/),
      '1 replayed: 1 matched, 0 differed, 0 failed (1 skipped)',
    ]);
    expect(run.code).toBe(0);
  });

  it('replays a session recorded through the proxy, by name', async () => {
    const home = await mkdtemp(join(tmpdir(), 'proxyctl-replay-home-'));
    try {
      const proxy = await startProxy();
      const recorder = await SessionRecorder.open(home, 'shop', { onWarning: () => {} });
      const detach = recorder.attach(proxy.runtime.bus);
      for (const path of ['/hello', '/api/items?page=1', '/gzip']) {
        await new Promise<void>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port: proxy.port, path: `${v1.url}${path}`, headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.end();
        });
      }
      await proxy.waitForFlows(3);
      detach();
      await recorder.close();
      await proxy.stop();
      v1.seen.length = 0;

      const same = await replay(['shop'], { PROXYCTL_HOME: home });
      expect(lines(same.stdout)).toEqual(['✓ GET /hello 200', '✓ GET /api/items?page=1 200', '✓ GET /gzip 200', '3 replayed: 3 matched, 0 differed, 0 failed']);
      expect(same.code).toBe(0);
      expect(v1.seen).toHaveLength(3);

      const changed = await replay(['shop', '--target', v2.url], { PROXYCTL_HOME: home });
      expect(lines(changed.stdout)[1]).toBe('✗ GET /api/items?page=1 200, body: $.items[2].price 10→12');
      expect(changed.code).toBe(1);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  describe('usage errors exit 2', () => {
    it.each<[string, () => string[], RegExp]>([
      ['no such file or session', () => [join(scratch, 'missing.har')], /no session or file named .*missing\.har/],
      ['not a HAR', () => [join(scratch, 'bad.json')], /bad\.json: not a HAR 1\.2 document: log: /],
      ['a target with a path', () => [harPath, '--target', 'http://127.0.0.1:1/base'], /--target takes only scheme:\/\/host\[:port\]/],
      ['a target that is not a URL', () => [harPath, '--target', 'localhost:3000'], /--target must be an http\(s\) URL/],
      ['a bad filter, with its column', () => [harPath, '--filter', '~u ('], /--filter: ~u \(\n\s+\^ expected an argument after ~u/],
      ['a bad timeout', () => [harPath, '--timeout', 'soon'], /--timeout: expected a whole number of milliseconds/],
      ['a filter that selects nothing', () => [harPath, '--filter', '~m DELETE'], /nothing to replay: --filter "~m DELETE" selected none of the 4 recorded requests/],
      ['a missing argument', () => [], /missing required argument 'recording'/],
    ])('%s', async (_name, args, message) => {
      await writeFile(join(scratch, 'bad.json'), '{"not":"a har"}');
      const run = await replay(args(), { PROXYCTL_HOME: scratch });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(v1.seen).toEqual([]);
    });
  });

  // The built CLI: needs `npm run build` and `replayCommand()` registered in src/cli.ts.
  describe('as the built CLI (proxyctl replay)', () => {
    it('exit 0 and ✓ lines against the matching origin', async () => {
      const run = await runCli(['replay', harPath, '--target', v1.url]);
      expect(run.stderr).toBe('');
      expect(lines(run.stdout)).toEqual(['✓ GET /hello 200', '✓ GET /api/items?page=1 200', '✓ POST /api/orders 201', '✓ GET /gzip 200', '4 replayed: 4 matched, 0 differed, 0 failed']);
      expect(run.code).toBe(0);
    });

    it('exit 1 with the differences against the changed origin; exit 2 for a usage error', async () => {
      const run = await runCli(['replay', harPath, '--target', v2.url]);
      expect(run.stdout).toContain('✗ GET /api/items?page=1 200, body: $.items[2].price 10→12');
      expect(run.stdout).toContain('✗ POST /api/orders 201→500');
      expect(run.code).toBe(1);
      const bad = await runCli(['replay', harPath, '--target', 'nope']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--target must be an http\(s\) URL/);
    });
  });
});
