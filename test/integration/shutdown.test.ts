/**
 * Graceful shutdown (issue 8, DESIGN.md §7): on SIGTERM the real CLI stops accepting, closes idle
 * keep-alive connections, lets a request in flight finish, reports 503 on /healthz meanwhile,
 * flushes the session and the access log, closes the admin port and exits 0. In process, the
 * drain deadline: a request that never ends is cut when it passes, and stop() still completes.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sessionDir, FLOWS_FILE } from '../../src/store/session-paths.js';
import { killAll, startCli, type CliProcess } from '../helpers/cli.js';
import { curlRequest } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies } from '../helpers/proxy.js';
import { fixtureCaPaths, makeTempHome, type TempHome } from '../helpers/test-ca.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

/** GET through the proxy (absolute form) on `agent`; resolves with the status, body and socket. */
function getVia(proxyPort: number, url: string, agent: http.Agent): Promise<{ status: number; body: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: url, headers: { host: u.host }, agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket: req.socket! }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Try to connect; resolves with the error code, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

function healthz(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/healthz`, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('healthz timed out')));
    req.on('error', reject);
  });
}

describe('graceful shutdown', () => {
  let origin: Origin | undefined;
  const homes: TempHome[] = [];
  const agents: http.Agent[] = [];

  afterEach(async () => {
    for (const a of agents.splice(0)) a.destroy();
    await killAll();
    await stopAllProxies();
    await origin?.close();
    origin = undefined;
    await Promise.all(homes.splice(0).map((h) => h.cleanup()));
  });

  it('SIGTERM: stops accepting, closes idle keep-alive connections, lets the request in flight finish, flushes, exits 0', async () => {
    origin = await startOrigin();
    const home = await makeTempHome();
    homes.push(home);
    const logPath = join(home.home, 'access.log');
    const cli: CliProcess = await startCli(['--admin-port', '0', '--access-log', logPath, '--session', 'drain'], { home: home.home });
    const adminLine = await waitFor(() => /^proxyctl: admin on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(cli.stderr), { message: 'the admin line on stderr' });
    const adminUrl = adminLine[1]!;
    expect((await healthz(adminUrl)).status).toBe(200);

    // A keep-alive connection that served one request and now sits idle.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const first = await getVia(cli.port, `${origin.url}/hello`, agent);
    expect(first.body).toBe('hello');
    const idleClosed = new Promise<void>((resolve) => first.socket.once('close', () => resolve()));

    // A slow request, truly in flight (it reached the origin) when the signal comes.
    const slow = curlRequest(`${origin.url}/slow/2500`, { proxy: cli.url });
    await waitFor(() => origin!.requests.some((r) => r.url === '/slow/2500'), { message: 'the slow request to reach the origin' });
    const exit = cli.stop('SIGTERM');
    await waitFor(() => /shutting down; waiting up to 5 s for 1 flow in flight/.test(cli.stderr), { message: 'the shutdown note on stderr' });

    // While draining: no new connections, idle ones closed, /healthz says so.
    expect(await tryConnect(cli.port)).toBe('ECONNREFUSED');
    await withTimeout(idleClosed, 5000, 'the idle keep-alive connection to be closed');
    const during = await healthz(adminUrl);
    expect(during.status).toBe(503);
    expect(JSON.parse(during.body)).toMatchObject({ status: 'shutting-down', flows: { inFlight: 1 } });

    const res = await slow;
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('slow\n');
    expect(await exit).toEqual({ code: 0, signal: null });

    // Flushed: the access log file and the session hold both flows; the admin port is closed.
    const log = (await readFile(logPath, 'utf8')).trim().split('\n');
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(/ GET http:\/\/127\.0\.0\.1:\d+\/hello 200 /);
    expect(log[1]).toMatch(/ GET http:\/\/127\.0\.0\.1:\d+\/slow\/2500 200 /);
    const session = (await readFile(join(sessionDir(home.home, 'drain'), FLOWS_FILE), 'utf8')).trim().split('\n');
    expect(session.map((l) => (JSON.parse(l) as { request: { path: string } }).request.path)).toEqual(['/hello', '/slow/2500']);
    expect(await tryConnect(Number(new URL(adminUrl).port))).toBe('ECONNREFUSED');
    expect(cli.lines).toEqual([]); // with --access-log, stdout has the ready line only
  });

  it('an HTTP/2 stream in flight (intercepted HTTPS) finishes before stop() completes', async () => {
    origin = await startOrigin({ http2: true });
    const proxy = await startProxy();
    const slow = curlRequest(`${origin.url}/slow/800`, { proxy: proxy.url, cacert: fixtureCaPaths.cert, http: '2' });
    await waitFor(() => origin!.requests.some((r) => r.url === '/slow/800'), { message: 'the slow request to reach the origin' });
    await withTimeout(proxy.runtime.stop(5000), 10_000, 'runtime.stop(5000)');
    const res = await slow;
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.httpVersion).toBe('2');
    expect(res.body.toString()).toBe('slow\n');
    expect(proxy.runtime.proxy.openConnections).toBe(0);
  });

  it('the drain deadline cuts a request that never ends, and stop() completes', async () => {
    origin = await startOrigin();
    const proxy = await startProxy({ flags: { adminPort: '0' } });
    const hanging = curlRequest(`${origin.url}/hang`, { proxy: proxy.url, timeoutMs: 15_000 });
    await waitFor(() => origin!.requests.some((r) => r.url === '/hang'), { message: 'the hanging request to reach the origin' });
    await withTimeout(proxy.runtime.stop(300), 10_000, 'runtime.stop(300) with a request that never ends');
    const res = await hanging;
    // curl 52: empty reply; 56: connection reset. Either way the client was not left waiting.
    expect(res.status).toBe(0);
    expect([52, 56]).toContain(res.exitCode);
    expect(proxy.runtime.proxy.openConnections).toBe(0);
    expect(proxy.runtime.proxy.emitter.active).toBe(0);
  });
});
