/**
 * `--mode socks5` through the real proxy (issue 8 item 4): curl as a SOCKS5 client
 * (`socks5h://`, the proxy resolves names; `socks5://`, curl sends addresses) to http and https
 * origins, intercepted and recorded like an HTTP CONNECT tunnel; username/password checked by the
 * proxy auth rule; connect rules and ignored hosts; malformed handshakes answered and closed; HTTP
 * proxy clients still served on the same port.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigFile, RuleSpec } from '../../src/config/schema.js';
import type { Flow } from '../../src/proxy/core/flow.js';
import type { ProxyOptions } from '../../src/proxy/net/options.js';
import { curlRequest } from '../helpers/curl.js';
import { originCa } from '../helpers/origin-certs.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type RawStartFlags, type TestProxy } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';

const b = (...bytes: number[]) => Buffer.from(bytes);

type BlockSpec = Extract<RuleSpec, { type: 'block' }>;

function block(filter: string): BlockSpec {
  return { type: 'block', filter, status: 403, action: 'respond', enabled: true };
}

/** A SOCKS5 CONNECT request to a domain name. */
function connectRequest(host: string, port: number, cmd = 0x01): Buffer {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port);
  return Buffer.concat([b(5, cmd, 0, 3, host.length), Buffer.from(host, 'latin1'), p]);
}

describe('--mode socks5', () => {
  const origins: Origin[] = [];
  const sockets: RawSocket[] = [];

  async function origin(tls = false): Promise<Origin> {
    const o = await startOrigin(tls ? { tls: 'valid' } : {});
    origins.push(o);
    return o;
  }

  function socksProxy(flags: Partial<RawStartFlags> = {}, config?: ConfigFile, net?: Partial<ProxyOptions>): Promise<TestProxy> {
    return startProxy({ flags: { mode: 'socks5', ...flags }, ...(config ? { config } : {}), ...(net ? { net } : {}) });
  }

  async function raw(proxy: TestProxy): Promise<RawSocket> {
    const s = await openRaw(proxy.port);
    sockets.push(s);
    return s;
  }

  const httpFlows = (proxy: TestProxy): Flow[] => proxy.flows().filter((f) => f.kind === 'http');

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
  });

  it('relays plain http for socks5h:// (the proxy resolves the name) and records the flow', async () => {
    const o = await origin();
    const proxy = await socksProxy();
    const res = await curlRequest(`http://localhost:${o.port}/hello`, { proxy: `socks5h://127.0.0.1:${proxy.port}` });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.request.scheme).toBe('http');
    expect(flow.request.host).toBe('localhost');
    expect(flow.request.port).toBe(o.port);
    expect(flow.request.path).toBe('/hello');
    expect(flow.response?.status).toBe(200);
    expect(o.requests.map((r) => r.url)).toEqual(['/hello']);
  });

  it('intercepts https for socks5h:// with the proxy CA trusted', async () => {
    const o = await origin(true);
    const proxy = await socksProxy();
    const res = await curlRequest(`${o.url}/hello`, { proxy: `socks5h://127.0.0.1:${proxy.port}`, cacert: fixtureCaPaths.cert });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.request.scheme).toBe('https');
    expect(flow.request.host).toBe('localhost');
    expect(flow.request.port).toBe(o.port);
    expect(flow.client.sni).toBe('localhost');
    // The proxy spoke TLS to the real origin (its certificate is on the flow).
    expect(flow.server.certificate).toContain('proxyctl origin test root CA');
  });

  it('takes addresses from socks5:// (curl resolves): the flow shows the address, TLS still names the host', async () => {
    const plain = await origin();
    const secure = await origin(true);
    const proxy = await socksProxy();
    const proxyUrl = `socks5://127.0.0.1:${proxy.port}`;
    const a = await curlRequest(`http://localhost:${plain.port}/hello`, { proxy: proxyUrl });
    expect(a.exitCode, a.stderr).toBe(0);
    expect(a.body.toString()).toBe('hello');
    const b2 = await curlRequest(`${secure.url}/hello`, { proxy: proxyUrl, cacert: fixtureCaPaths.cert });
    expect(b2.exitCode, b2.stderr).toBe(0);
    expect(b2.body.toString()).toBe('hello');
    const [first, second] = (await proxy.waitForFlows(2)).filter((f) => f.kind === 'http');
    expect(first?.request).toMatchObject({ scheme: 'http', host: '127.0.0.1', port: plain.port, path: '/hello' });
    expect(second?.request).toMatchObject({ scheme: 'https', host: '127.0.0.1', port: secure.port, path: '/hello' });
    expect(second?.client.sni).toBe('localhost');
  });

  it('checks username/password against --proxy-auth (--proxy-user and user:pass@ in the URL)', async () => {
    const o = await origin(true);
    const proxy = await socksProxy({ proxyAuth: 'alice:s3cret' });
    const viaFlag = await curlRequest(`${o.url}/hello`, {
      proxy: `socks5h://127.0.0.1:${proxy.port}`,
      cacert: fixtureCaPaths.cert,
      extra: ['--proxy-user', 'alice:s3cret'],
    });
    expect(viaFlag.exitCode, viaFlag.stderr).toBe(0);
    expect(viaFlag.body.toString()).toBe('hello');
    const viaUrl = await curlRequest(`http://127.0.0.1:${(await origin()).port}/hello`, { proxy: `socks5h://alice:s3cret@127.0.0.1:${proxy.port}` });
    expect(viaUrl.exitCode, viaUrl.stderr).toBe(0);
    expect(viaUrl.body.toString()).toBe('hello');
    const flows = await proxy.waitForFlows(2);
    const http = flows.filter((f) => f.kind === 'http');
    expect(http).toHaveLength(2);
    // The tunnel carries the user, as an authenticated CONNECT does.
    expect(http.map((f) => f.client.user)).toEqual(['alice', 'alice']);
    expect(http.map((f) => f.response?.status)).toEqual([200, 200]);
  });

  it('refuses a wrong password and a client that offers no username/password', async () => {
    const o = await origin();
    const proxy = await socksProxy({ proxyAuth: 'alice:s3cret' });
    const wrong = await curlRequest(`http://127.0.0.1:${o.port}/hello`, { proxy: `socks5h://alice:nope@127.0.0.1:${proxy.port}` });
    expect(wrong.exitCode).not.toBe(0);
    expect(wrong.stderr).toMatch(/rejected/i);
    const none = await curlRequest(`http://127.0.0.1:${o.port}/hello`, { proxy: `socks5h://127.0.0.1:${proxy.port}` });
    expect(none.exitCode).not.toBe(0);
    expect(none.stderr).toMatch(/authentication method/i);
    expect(o.requests).toHaveLength(0);
    expect(httpFlows(proxy)).toHaveLength(0);
    // The proxy still serves a client with the right password.
    const ok = await curlRequest(`http://127.0.0.1:${o.port}/hello`, { proxy: `socks5h://alice:s3cret@127.0.0.1:${proxy.port}` });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(o.requests).toHaveLength(1);
  });

  it('answers the RFC 1929 status bytes on the wire', async () => {
    const proxy = await socksProxy({ proxyAuth: 'alice:s3cret' });
    const bad = await raw(proxy);
    await bad.write(b(5, 2, 0, 2));
    expect(await bad.readBytes(2)).toEqual(b(5, 2)); // username/password chosen over no-auth
    await bad.write(Buffer.concat([b(1, 5), Buffer.from('alice'), b(5), Buffer.from('wrong')]));
    expect(await bad.readBytes(2)).toEqual(b(1, 1));
    await bad.closed();
    const good = await raw(proxy);
    await good.write(b(5, 1, 2));
    expect(await good.readBytes(2)).toEqual(b(5, 2));
    await good.write(Buffer.concat([b(1, 5), Buffer.from('alice'), b(6), Buffer.from('s3cret')]));
    expect(await good.readBytes(2)).toEqual(b(1, 0));
  });

  it('keeps serving HTTP proxy clients on the same port', async () => {
    const plain = await origin();
    const secure = await origin(true);
    const proxy = await socksProxy();
    const a = await curlRequest(`${plain.url}/hello`, { proxy: proxy.url });
    expect(a.exitCode, a.stderr).toBe(0);
    expect(a.body.toString()).toBe('hello');
    const c = await curlRequest(`${secure.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert });
    expect(c.exitCode, c.stderr).toBe(0);
    expect(c.body.toString()).toBe('hello');
    expect((await proxy.waitForFlows(2)).filter((f) => f.kind === 'http')).toHaveLength(2);
  });

  it('tunnels ignored hosts untouched: the client sees the origin certificate, the flow is a tunnel', async () => {
    const o = await origin(true);
    const proxy = await socksProxy({ ignoreHosts: ['^localhost$'] });
    const res = await curlRequest(`${o.url}/hello`, { proxy: `socks5h://127.0.0.1:${proxy.port}`, cacert: originCa.certPath });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.body.toString()).toBe('hello');
    const flow = await proxy.waitForFlow((f) => f.kind === 'tunnel');
    expect(flow.tags).toContain('ignored-host');
    expect(flow.request).toMatchObject({ method: 'CONNECT', host: 'localhost', port: o.port });
    expect(flow.response?.status).toBe(200);
    expect(flow.response?.body.size).toBeGreaterThan(0);
    expect(httpFlows(proxy)).toHaveLength(0);
  });

  it('applies connect rules: a blocked ignored host gets "not allowed by ruleset" and a CONNECT flow', async () => {
    const o = await origin(true);
    const proxy = await socksProxy({ ignoreHosts: ['^localhost$'] }, { rules: [block('~d localhost')] });
    const s = await raw(proxy);
    await s.write(b(5, 1, 0));
    expect(await s.readBytes(2)).toEqual(b(5, 0));
    await s.write(connectRequest('localhost', o.port));
    const answer = await s.readBytes(10);
    expect(answer[1]).toBe(0x02);
    await s.closed();
    const flow = await proxy.waitForFlow((f) => f.request.method === 'CONNECT');
    expect(flow.tags).toContain('blocked');
    expect(flow.response?.status).toBe(403);
    expect(o.requests).toHaveLength(0);
  });

  it('applies request rules inside an intercepted SOCKS tunnel (block page for curl)', async () => {
    const o = await origin();
    const proxy = await socksProxy({}, { rules: [block('~u /hello')] });
    const res = await curlRequest(`http://127.0.0.1:${o.port}/hello`, { proxy: `socks5h://127.0.0.1:${proxy.port}` });
    expect(res.status).toBe(403);
    expect(res.body.toString()).toContain('Blocked by proxyctl');
    expect(o.requests).toHaveLength(0);
  });

  it('replies "connection refused" when an ignored host cannot be reached', async () => {
    const o = await origin();
    const port = o.port;
    await o.close(); // nothing listens there now
    origins.splice(origins.indexOf(o), 1);
    const proxy = await socksProxy({ ignoreHosts: ['.*'] });
    const s = await raw(proxy);
    await s.write(b(5, 1, 0));
    expect(await s.readBytes(2)).toEqual(b(5, 0));
    await s.write(connectRequest('127.0.0.1', port));
    const answer = await s.readBytes(10);
    expect(answer[1]).toBe(0x05);
    const flow = await proxy.waitForFlow((f) => f.kind === 'tunnel');
    expect(flow.error?.code).toBe('UPSTREAM_REFUSED');
  });

  it.each([
    { name: 'BIND', send: [b(5, 1, 0), connectRequest('localhost', 80, 0x02)], want: [b(5, 0), b(5, 0x07, 0, 1, 0, 0, 0, 0, 0, 0)] },
    { name: 'UDP ASSOCIATE', send: [b(5, 1, 0), Buffer.concat([b(5, 3, 0, 1, 0, 0, 0, 0), b(0, 0)])], want: [b(5, 0), b(5, 0x07, 0, 1, 0, 0, 0, 0, 0, 0)] },
    { name: 'an unknown address type', send: [b(5, 1, 0), b(5, 1, 0, 9, 1, 2, 3, 4, 0, 80)], want: [b(5, 0), b(5, 0x08, 0, 1, 0, 0, 0, 0, 0, 0)] },
    { name: 'a greeting with no methods', send: [b(5, 0)], want: [b(5, 0xff)] },
    { name: 'a greeting without no-auth or username/password', send: [b(5, 1, 0x01)], want: [b(5, 0xff)] },
  ])('answers $name with the right SOCKS error and closes', async ({ send, want }) => {
    const proxy = await socksProxy();
    const s = await raw(proxy);
    for (let i = 0; i < send.length; i++) {
      await s.write(send[i]!);
      const expected = want[i]!;
      expect(await s.readBytes(expected.length)).toEqual(expected);
    }
    await s.closed();
    expect(proxy.flows()).toHaveLength(0);
    // The listener is unharmed.
    const o = await origin();
    const res = await curlRequest(`${o.url}/hello`, { proxy: `socks5h://127.0.0.1:${proxy.port}` });
    expect(res.body.toString()).toBe('hello');
  });

  it('closes a client that sends garbage after 0x05 or stalls mid-handshake', async () => {
    const proxy = await socksProxy({}, undefined, { handshakeTimeoutMs: 1000 });
    const garbage = await raw(proxy);
    await garbage.write(b(5, 1, 0));
    expect(await garbage.readBytes(2)).toEqual(b(5, 0));
    await garbage.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    // 'G' is no SOCKS version: general failure, then closed.
    expect((await garbage.readBytes(2))[1]).toBe(0x01);
    await garbage.closed();
    const stalled = await openRaw(proxy.port);
    sockets.push(stalled);
    await stalled.write(b(5, 2, 0)); // announces two methods, sends one
    expect(await stalled.closed(5000)).toBe(false);
  });

  it('treats 0x05 as HTTP (a 400) in regular mode', async () => {
    const proxy = await startProxy();
    const s = await raw(proxy);
    await s.write(b(5, 1, 0));
    s.end();
    const text = (await s.readToEnd()).toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
  });
});
