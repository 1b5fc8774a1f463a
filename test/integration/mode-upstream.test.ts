/**
 * `--mode upstream:URL` through the real proxy (issue 8 item 4): a child proxyctl sends every
 * origin connection through a parent proxyctl (regular mode, `--proxy-auth`, recording its own
 * flows). Plain http goes to the parent in absolute form over a kept-alive connection; https is a
 * CONNECT tunnel with TLS to the origin inside it; ignored hosts and WebSockets tunnel through the
 * parent too. A parent that refuses or cannot be reached is named on the 502 page.
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { ConfigFile, RuleSpec } from '../../src/config/schema.js';
import type { Flow } from '../../src/proxy/core/flow.js';
import { curlRequest } from '../helpers/curl.js';
import { originCa, originCerts } from '../helpers/origin-certs.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type RawStartFlags, type TestProxy } from '../helpers/proxy.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

/** Both proxies use the fixture CA: a child behind an intercepting parent must trust it upstream. */
const fixtureCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');
/** A password that needs percent-encoding in the mode URL. */
const PASSWORD = 'p@ss:w/rd';
const ENCODED = encodeURIComponent(PASSWORD);

type BlockSpec = Extract<RuleSpec, { type: 'block' }>;

function rawNames(raw: string[]): string[] {
  return raw.filter((_, i) => i % 2 === 0).map((k) => k.toLowerCase());
}

describe('--mode upstream:URL', () => {
  const origins: Origin[] = [];
  const closers: Array<() => unknown> = [];

  async function origin(kind: 'plain' | 'tls' | 'h2' = 'plain'): Promise<Origin> {
    const o = await startOrigin(kind === 'plain' ? {} : kind === 'tls' ? { tls: 'valid' } : { http2: true });
    origins.push(o);
    return o;
  }

  /** The parent: a regular proxyctl asking for alice's credentials, trusting the origin CA. */
  function parentProxy(flags: Partial<RawStartFlags> = {}, config?: ConfigFile): Promise<TestProxy> {
    return startProxy({ flags: { proxyAuth: `alice:${PASSWORD}`, ...flags }, ...(config ? { config } : {}) });
  }

  /** The child, in upstream mode towards `parent` with the given credentials. */
  function childProxy(parentPort: number, opts: { userinfo?: string; flags?: Partial<RawStartFlags>; upstreamCa?: string[] } = {}): Promise<TestProxy> {
    const userinfo = opts.userinfo ?? `alice:${ENCODED}@`;
    return startProxy({
      flags: { mode: `upstream:http://${userinfo}127.0.0.1:${parentPort}`, ...opts.flags },
      // Behind an intercepting parent the "origin" certificate is the parent's leaf (fixture CA).
      upstreamCa: opts.upstreamCa ?? [fixtureCaPem, originCa.cert],
    });
  }

  /** A port where nothing listens. */
  async function deadPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
  });

  it('sends plain http to the parent in absolute form, with credentials, over one kept-alive connection', async () => {
    const o = await origin();
    const parent = await parentProxy();
    const child = await childProxy(parent.port);
    for (let i = 0; i < 2; i++) {
      const res = await curlRequest(`${o.url}/hello`, { proxy: child.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');
    }
    const childFlows = (await child.waitForFlows(2)).filter((f) => f.kind === 'http');
    expect(childFlows.map((f) => `${f.request.scheme}://${f.request.host}:${f.request.port}${f.request.path}`)).toEqual([`${o.url}/hello`, `${o.url}/hello`]);
    const parentFlows = (await parent.waitForFlows(2)).filter((f) => f.kind === 'http');
    expect(parentFlows).toHaveLength(2);
    expect(parentFlows.map((f) => f.response?.status)).toEqual([200, 200]);
    expect(parentFlows.map((f) => f.request.host)).toEqual(['127.0.0.1', '127.0.0.1']);
    // The child reused its connection to the parent.
    expect(parentFlows[0]!.client.port).toBe(parentFlows[1]!.client.port);
    // The parent consumed the credentials: the origin never sees them.
    expect(o.requests.map((r) => r.url)).toEqual(['/hello', '/hello']);
    for (const r of o.requests) expect(rawNames(r.rawHeaders)).not.toContain('proxy-authorization');
  });

  it('intercepts https through a CONNECT tunnel to the parent (which intercepts too)', async () => {
    const o = await origin('tls');
    const parent = await parentProxy();
    const child = await childProxy(parent.port);
    const res = await curlRequest(`${o.url}/hello`, { proxy: child.url, cacert: fixtureCaPaths.cert });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
    const flow = await child.waitForFlow((f) => f.kind === 'http');
    expect(flow.request).toMatchObject({ scheme: 'https', host: 'localhost', port: o.port, path: '/hello' });
    expect(flow.server.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    expect(flow.timings.upstreamConnect).not.toBeNull();
    expect(flow.timings.upstreamTls).not.toBeNull();
    const seen = await parent.waitForFlow((f) => f.kind === 'http');
    expect(seen.request).toMatchObject({ scheme: 'https', host: 'localhost', port: o.port, path: '/hello' });
    // The child's CONNECT authenticated: the parent's tunnel carries alice.
    expect(seen.client.user).toBe('alice');
    expect(seen.server.certificate).toContain('proxyctl origin test root CA');
  });

  it('verifies the origin certificate itself when the parent only tunnels, and speaks h2 if the origin does', async () => {
    const o = await origin('h2');
    const parent = await parentProxy({ ignoreHosts: ['^localhost$'] });
    const child = await childProxy(parent.port, { upstreamCa: [originCa.cert] });
    const res = await curlRequest(`${o.url}/hello`, { proxy: child.url, cacert: fixtureCaPaths.cert });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.body.toString()).toBe('hello');
    const flow = await child.waitForFlow((f) => f.kind === 'http');
    expect(flow.server.certificate).toContain('proxyctl origin test root CA');
    expect(flow.server.alpn).toBe('h2');
    expect(o.requests[0]?.httpVersion).toBe('2.0');
    // The parent tunnelled (its flow stays open while the child keeps the h2 session).
    const tunnel = await waitFor(() => parent.flows().find((f) => f.kind === 'tunnel'), { message: "the parent's tunnel flow" });
    expect(tunnel.request).toMatchObject({ method: 'CONNECT', host: 'localhost', port: o.port });
    expect(tunnel.client.user).toBe('alice');
  });

  it('opens further HTTP/1.1 connections to an origin through the parent when one is busy', async () => {
    const o = await origin('tls'); // HTTP/1.1 only
    const parent = await parentProxy({ ignoreHosts: ['^localhost$'] });
    const child = await childProxy(parent.port, { upstreamCa: [originCa.cert] });
    const first = await curlRequest(`${o.url}/hello`, { proxy: child.url, cacert: fixtureCaPaths.cert });
    expect(first.body.toString()).toBe('hello');
    // Two at once: one reuses the kept-alive connection, the other needs a new tunnel.
    const both = await Promise.all([0, 1].map(() => curlRequest(`${o.url}/slow/300`, { proxy: child.url, cacert: fixtureCaPaths.cert })));
    expect(both.map((r) => `${r.exitCode} ${r.status} ${r.body.toString().trim()}`)).toEqual(['0 200 slow', '0 200 slow']);
    expect(o.connections).toBe(2);
    const flows = (await child.waitForFlows(3)).filter((f) => f.kind === 'http');
    expect(flows.map((f) => f.server.alpn)).toEqual(['http/1.1', 'http/1.1', 'http/1.1']);
    await waitFor(() => parent.flows().filter((f) => f.kind === 'tunnel').length === 2, { message: 'two tunnels through the parent' });
  });

  it('refuses an origin certificate the child does not trust, even through the parent', async () => {
    const o = await origin('tls');
    const parent = await parentProxy({ ignoreHosts: ['^localhost$'] });
    const child = await childProxy(parent.port, { upstreamCa: [] });
    const res = await curlRequest(`${o.url}/hello`, { proxy: child.url, cacert: fixtureCaPaths.cert });
    expect(res.status).toBe(502);
    const flow = await child.waitForFlow((f) => f.kind === 'http');
    expect(flow.error?.code).toMatch(/^UPSTREAM_CERT_/);
    expect(o.requests).toHaveLength(0);
  });

  it('names the parent and its 407 when the credentials are wrong (https and http)', async () => {
    const secure = await origin('tls');
    const plain = await origin();
    const parent = await parentProxy();
    const child = await childProxy(parent.port, { userinfo: 'alice:wrong@' });
    const a = await curlRequest(`${secure.url}/hello`, { proxy: child.url, cacert: fixtureCaPaths.cert });
    expect(a.status).toBe(502);
    expect(a.body.toString()).toContain(`upstream proxy 127.0.0.1:${parent.port} answered 407 Proxy Authentication Required to CONNECT localhost:${secure.port}`);
    const b = await curlRequest(`${plain.url}/hello`, { proxy: child.url });
    expect(b.status).toBe(502);
    expect(b.body.toString()).toContain(`upstream proxy 127.0.0.1:${parent.port} answered 407 Proxy Authentication Required to GET ${plain.url}/hello`);
    // The client is not asked for credentials of its own.
    expect(b.headers.map(([k]) => k.toLowerCase())).not.toContain('proxy-authenticate');
    const flows = (await child.waitForFlows(2)).filter((f) => f.kind === 'http');
    expect(flows.map((f) => f.error?.code)).toEqual(['TUNNEL_FAILED', 'TUNNEL_FAILED']);
    expect(flows[0]!.error?.message).toContain('407');
    expect(secure.requests).toHaveLength(0);
    expect(plain.requests).toHaveLength(0);
  });

  it('sends no credentials when the URL has none (the parent then asks for them)', async () => {
    const o = await origin('tls');
    const parent = await parentProxy();
    const child = await childProxy(parent.port, { userinfo: '' });
    const res = await curlRequest(`${o.url}/hello`, { proxy: child.url, cacert: fixtureCaPaths.cert });
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain('answered 407');
  });

  it('names the parent and its 403 when it refuses the CONNECT', async () => {
    const o = await origin('tls');
    const block: BlockSpec = { type: 'block', filter: '~d localhost', status: 403, action: 'respond', enabled: true };
    const parent = await parentProxy({ ignoreHosts: ['^localhost$'] }, { rules: [block] });
    const child = await childProxy(parent.port);
    const res = await curlRequest(`${o.url}/hello`, { proxy: child.url, cacert: fixtureCaPaths.cert });
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain(`upstream proxy 127.0.0.1:${parent.port} answered 403 Forbidden to CONNECT localhost:${o.port}`);
    const flow = await child.waitForFlow((f) => f.kind === 'http');
    expect(flow.error?.code).toBe('TUNNEL_FAILED');
  });

  it('names the parent when it cannot be reached', async () => {
    const secure = await origin('tls');
    const plain = await origin();
    const port = await deadPort();
    const child = await childProxy(port);
    const a = await curlRequest(`${secure.url}/hello`, { proxy: child.url, cacert: fixtureCaPaths.cert });
    expect(a.status).toBe(502);
    expect(a.body.toString()).toContain(`upstream proxy 127.0.0.1:${port} cannot be reached`);
    const b = await curlRequest(`${plain.url}/hello`, { proxy: child.url });
    expect(b.status).toBe(502);
    expect(b.body.toString()).toContain(`upstream proxy 127.0.0.1:${port} cannot be reached`);
    const flows: Flow[] = (await child.waitForFlows(2)).filter((f) => f.kind === 'http');
    expect(flows.map((f) => f.error?.code)).toEqual(['UPSTREAM_REFUSED', 'UPSTREAM_REFUSED']);
  });

  /** A misbehaving parent: `answer` gets each connection once its CONNECT head has arrived. */
  async function fakeParent(answer: (socket: net.Socket) => void): Promise<number> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {
        /* the child hangs up; nothing to report */
      });
      let head = '';
      socket.on('data', (c: Buffer) => {
        head += c.toString('latin1');
        if (head.includes('\r\n\r\n')) answer(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }));
    return (server.address() as AddressInfo).port;
  }

  it.each([
    { name: 'closes without answering', answer: (s: net.Socket) => s.destroy(), status: 502, code: 'UPSTREAM_RESET', text: 'closed the connection before answering CONNECT localhost:' },
    { name: 'answers something that is not HTTP', answer: (s: net.Socket) => s.write('SSH-2.0-nope\r\n\r\n'), status: 502, code: 'UPSTREAM_PROTOCOL', text: 'sent an invalid answer to CONNECT localhost:' },
    { name: 'never answers', answer: () => {}, status: 504, code: 'UPSTREAM_TIMEOUT', text: 'did not answer CONNECT localhost:' },
  ])('names the parent when it $name', async ({ answer, status, code, text }) => {
    const o = await origin('tls');
    const port = await fakeParent(answer);
    const child = await startProxy({ flags: { mode: `upstream:http://127.0.0.1:${port}` }, net: { connectTimeoutMs: 500 } });
    const res = await curlRequest(`${o.url}/hello`, { proxy: child.url, cacert: fixtureCaPaths.cert });
    expect(res.status).toBe(status);
    expect(res.body.toString()).toContain(`upstream proxy 127.0.0.1:${port} ${text}${o.port}`);
    const flow = await child.waitForFlow((f) => f.kind === 'http');
    expect(flow.error?.code).toBe(code);
  });

  it('tunnels ignored hosts through the parent: the client sees the origin certificate', async () => {
    const o = await origin('tls');
    const parent = await parentProxy({ ignoreHosts: ['^localhost$'] });
    const child = await childProxy(parent.port, { flags: { ignoreHosts: ['^localhost$'] } });
    const res = await curlRequest(`${o.url}/hello`, { proxy: child.url, cacert: originCa.certPath });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.body.toString()).toBe('hello');
    const mine = await child.waitForFlow((f) => f.kind === 'tunnel');
    expect(mine.request).toMatchObject({ method: 'CONNECT', host: 'localhost', port: o.port });
    expect(mine.response?.status).toBe(200);
    const theirs = await parent.waitForFlow((f) => f.kind === 'tunnel');
    expect(theirs.request).toMatchObject({ host: 'localhost', port: o.port });
    expect(theirs.client.user).toBe('alice');
  });

  it('refuses an ignored-host tunnel with a 502 naming the parent when it refuses', async () => {
    const o = await origin('tls');
    const parent = await parentProxy({ ignoreHosts: ['^localhost$'] });
    const child = await childProxy(parent.port, { userinfo: 'alice:wrong@', flags: { ignoreHosts: ['^localhost$'] } });
    const res = await curlRequest(`${o.url}/hello`, { proxy: child.url, cacert: originCa.certPath });
    // curl: "Received HTTP code 502 from proxy after CONNECT".
    expect(res.exitCode).toBe(56);
    expect(res.status).toBe(502);
    const flow = await child.waitForFlow((f) => f.kind === 'tunnel');
    expect(flow.error?.code).toBe('TUNNEL_FAILED');
    expect(flow.error?.message).toContain(`upstream proxy 127.0.0.1:${parent.port} answered 407`);
  });

  /** An echo WebSocket origin on 127.0.0.1 (TLS with the origin leaf for `wss`). */
  async function wsOrigin(secure: boolean): Promise<number> {
    const server = secure ? https.createServer({ cert: originCerts.valid.cert, key: originCerts.valid.key }) : http.createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const c of wss.clients) c.terminate();
          wss.close();
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return (server.address() as AddressInfo).port;
  }

  /** A socket to the child that carries the WebSocket: plain, or CONNECT + TLS trusting the child's CA. */
  async function clientSocket(child: TestProxy, host: string, port: number, secure: boolean): Promise<net.Socket> {
    const s = net.connect(child.port, '127.0.0.1');
    closers.push(() => s.destroy());
    if (!secure) return s;
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        let head = '';
        const onData = (c: Buffer) => {
          head += c.toString('latin1');
          if (!head.includes('\r\n\r\n')) return;
          s.off('data', onData);
          s.pause();
          if (/^HTTP\/1\.1 200 /.test(head)) resolve();
          else reject(new Error(`CONNECT refused: ${head}`));
        };
        s.on('data', onData);
        s.once('error', reject);
        s.once('connect', () => s.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`));
      }),
      5000,
      'CONNECT to the child',
    );
    const t = tls.connect({ socket: s, ca: fixtureCaPem, servername: host });
    closers.push(() => t.destroy());
    await withTimeout(once(t, 'secureConnect'), 5000, 'TLS with the child');
    return t;
  }

  it.each([
    { scheme: 'ws', secure: false, host: '127.0.0.1' },
    { scheme: 'wss', secure: true, host: 'localhost' },
  ])('relays a $scheme:// WebSocket through a tunnel to the parent', async ({ scheme, secure, host }) => {
    const port = await wsOrigin(secure);
    const parent = await parentProxy();
    const child = await childProxy(parent.port);
    const socket = await clientSocket(child, host, port, secure);
    const ws = new WebSocket(`${scheme}://${host}:${port}/chat`, {
      handshakeTimeout: 5000,
      createConnection: (() => socket) as unknown as typeof net.createConnection,
      // A proxy takes absolute-form request targets (RFC 9112 §3.2.2); `ws` writes origin-form.
      ...(secure
        ? {}
        : {
            finishRequest: (req: http.ClientRequest) => {
              req.path = `http://${host}:${port}/chat`;
              req.end();
            },
          }),
    });
    closers.push(() => ws.terminate());
    ws.on('error', () => {
      /* reported through the awaited events below */
    });
    await withTimeout(
      new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
      }),
      5000,
      'the WebSocket handshake through both proxies',
    );
    const echoed = withTimeout(new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString()))), 5000, 'the echo');
    ws.send('ping through two proxies');
    expect(await echoed).toBe('ping through two proxies');
    ws.close();
    const mine = await child.waitForFlow((f) => f.kind === 'websocket');
    expect(mine.request).toMatchObject({ scheme: secure ? 'https' : 'http', host, port });
    const theirs = await parent.waitForFlow((f) => f.kind === 'websocket');
    expect(theirs.request).toMatchObject({ scheme: secure ? 'https' : 'http', host, port });
    expect(theirs.client.user).toBe('alice');
  });
});
