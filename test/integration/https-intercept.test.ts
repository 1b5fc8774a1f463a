/**
 * HTTPS interception through the real proxy (issue 2): CONNECT, TLS terminated with a leaf from our
 * CA, upstream certificates verified (a failure is a 502 naming the reason), `--insecure`,
 * `--ignore-hosts` passthrough, and upstream trust through Node's store + NODE_EXTRA_CA_CERTS.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowErrorCode } from '../../src/proxy/core/flow.js';
import { killAll, startCli } from '../helpers/cli.js';
import { curlRequest, header } from '../helpers/curl.js';
import { originCa, originCerts } from '../helpers/origin-certs.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import type { OriginTlsKind } from '../helpers/origin-certs.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';
import { fixtureCaPaths, makeTempHome, type TempHome } from '../helpers/test-ca.js';

const fixtureCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');
const fixtureCa = new X509Certificate(fixtureCaPem);
const originCaX509 = new X509Certificate(originCa.cert);

describe('HTTPS interception', () => {
  const origins: Origin[] = [];
  const sockets: RawSocket[] = [];
  const homes: TempHome[] = [];

  async function origin(tls?: OriginTlsKind): Promise<Origin> {
    const o = await startOrigin(tls ? { tls } : {});
    origins.push(o);
    return o;
  }

  async function open(proxy: TestProxy): Promise<RawSocket> {
    const raw = await openRaw(proxy.port);
    sockets.push(raw);
    return raw;
  }

  /** CONNECT `authority` and return the tunnel once the proxy answered 200. */
  async function connectTunnel(proxy: TestProxy, authority: string): Promise<RawSocket> {
    const raw = await open(proxy);
    await raw.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    const head = await raw.readHead();
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    return raw;
  }

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await killAll();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
    await Promise.all(homes.splice(0).map((h) => h.cleanup()));
  });

  it('intercepts https://localhost through curl -x with the proxy CA trusted', async () => {
    const o = await origin('valid');
    const proxy = await startProxy();
    const res = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
    expect(res.interim.map((b) => b.status)).toEqual([200]); // the CONNECT answer
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.request.scheme).toBe('https');
    expect(flow.request.host).toBe('localhost');
    expect(flow.request.port).toBe(o.port);
    expect(flow.client.sni).toBe('localhost');
    expect(flow.client.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    expect(flow.server.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    expect(flow.server.certificate).toContain('proxyctl origin test root CA');
  });

  it('shows the client a leaf for localhost issued by our CA', async () => {
    const o = await origin('valid');
    const proxy = await startProxy();
    const tunnel = await connectTunnel(proxy, `localhost:${o.port}`);
    const tls = await tunnel.startTls({ ca: fixtureCaPem, servername: 'localhost' });
    sockets.push(tls);
    const peer = tls.socket.getPeerX509Certificate()!;
    expect(peer.issuer).toBe(fixtureCa.subject);
    expect(peer.checkIssued(fixtureCa)).toBe(true);
    expect(peer.verify(fixtureCa.publicKey)).toBe(true);
    expect(peer.subjectAltName).toBe('DNS:localhost');
    await tls.write(`GET /hello HTTP/1.1\r\nHost: localhost:${o.port}\r\n\r\n`);
    expect(await tls.readHead()).toMatch(/^HTTP\/1\.1 200 /);
    expect((await tls.readBytes(5)).toString()).toBe('hello');
  });

  it('gives an IP target (no SNI) a leaf with IP SAN 127.0.0.1', async () => {
    const o = await origin('valid');
    const proxy = await startProxy();
    const tunnel = await connectTunnel(proxy, `127.0.0.1:${o.port}`);
    // No servername, so no SNI (an IP must not be sent as SNI, RFC 6066 §3). Node would then check
    // the name "localhost" on a tunnelled socket, so the checks are done here instead.
    const tls = await tunnel.startTls({ insecure: true });
    sockets.push(tls);
    const peer = tls.socket.getPeerX509Certificate()!;
    expect(peer.issuer).toBe(fixtureCa.subject);
    expect(peer.verify(fixtureCa.publicKey)).toBe(true);
    expect(peer.subjectAltName).toBe('IP Address:127.0.0.1');
    expect(peer.checkIP('127.0.0.1')).toBe('127.0.0.1');
    await tls.write(`GET /hello HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\n\r\n`);
    expect(await tls.readHead()).toMatch(/^HTTP\/1\.1 200 /);
    expect((await tls.readBytes(5)).toString()).toBe('hello');
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.client.sni).toBeNull();
    expect(flow.request.host).toBe('127.0.0.1');
  });

  it('serves plain HTTP inside a CONNECT tunnel', async () => {
    const o = await origin();
    const proxy = await startProxy();
    const tunnel = await connectTunnel(proxy, `127.0.0.1:${o.port}`);
    await tunnel.write(`GET /hello HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\n\r\n`);
    expect(await tunnel.readHead()).toMatch(/^HTTP\/1\.1 200 /);
    expect((await tunnel.readBytes(5)).toString()).toBe('hello');
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.request.scheme).toBe('http');
    expect(flow.request.path).toBe('/hello');
    expect(flow.response?.status).toBe(200);
  });

  describe('invalid upstream certificates: 502 naming the reason', () => {
    it.each<[string, OriginTlsKind, FlowErrorCode, RegExp]>([
      ['expired', 'expired', 'UPSTREAM_CERT_EXPIRED', /expired/i],
      ['self-signed', 'self-signed', 'UPSTREAM_CERT_SELF_SIGNED', /self-signed/i],
      ['wrong host', 'wrong-host', 'UPSTREAM_CERT_HOSTNAME', /host name/i],
    ])('%s', async (_name, kind, code, reason) => {
      const o = await origin(kind);
      const proxy = await startProxy();
      const res = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(502);
      const page = res.body.toString();
      expect(page).toContain(code);
      expect(page).toMatch(reason);
      expect(header(res.headers, 'x-proxyctl-error')).toBeDefined();
      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.phase).toBe('error');
      expect(flow.error?.code).toBe(code);
      expect(flow.response?.status).toBe(502);
    });

    it('untrusted CA (the origin CA is not known to the proxy)', async () => {
      const o = await origin('valid');
      const proxy = await startProxy({ upstreamCa: [] });
      const res = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert });
      expect(res.status).toBe(502);
      // The origin sends its leaf alone, so OpenSSL reports UNABLE_TO_VERIFY_LEAF_SIGNATURE.
      expect(res.body.toString()).toContain('UPSTREAM_CERT_UNTRUSTED');
      expect(res.body.toString()).toMatch(/not trusted/i);
      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.error?.code).toBe('UPSTREAM_CERT_UNTRUSTED');
    });

    it('--insecure accepts the expired certificate', async () => {
      const o = await origin('expired');
      const proxy = await startProxy({ flags: { insecure: true } });
      const res = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');
      const flow = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(flow.phase).toBe('done');
    });
  });

  it('--ignore-hosts tunnels untouched: the client sees the origin certificate, the store a tunnel flow', async () => {
    const o = await origin('valid');
    const proxy = await startProxy({ flags: { ignoreHosts: ['^localhost$'] } });
    // curl trusts only the ORIGIN CA here: it can only succeed if nothing re-signs the traffic.
    const res = await curlRequest(`${o.url}/hello`, { proxy: proxy.url, cacert: originCa.certPath });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');

    const tunnel = await connectTunnel(proxy, `localhost:${o.port}`);
    const tls = await tunnel.startTls({ ca: originCa.cert, servername: 'localhost' });
    sockets.push(tls);
    const peer = tls.socket.getPeerX509Certificate()!;
    expect(peer.issuer).toBe(originCaX509.subject);
    expect(peer.fingerprint256).toBe(new X509Certificate(originCerts.valid.cert).fingerprint256);
    tls.close();

    const flow = await proxy.waitForFlow((f) => f.kind === 'tunnel');
    expect(flow.request.host).toBe('localhost');
    expect(flow.request.port).toBe(o.port);
    expect(flow.request.method).toBe('CONNECT');
    expect(flow.response?.body.size).toBeGreaterThan(0);
    expect(proxy.flows().filter((f) => f.kind === 'http')).toEqual([]);
  });

  describe('upstream trust from Node: default store + NODE_EXTRA_CA_CERTS (CLI)', () => {
    it('trusts the origin CA given by NODE_EXTRA_CA_CERTS without any option', async () => {
      const o = await origin('valid');
      const home = await makeTempHome();
      homes.push(home);
      const cli = await startCli([], { home: home.home, env: { NODE_EXTRA_CA_CERTS: originCa.certPath } });
      const res = await curlRequest(`${o.url}/hello`, { proxy: cli.url, cacert: fixtureCaPaths.cert });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');
      expect((await cli.stop()).code).toBe(0);
    });

    it('without NODE_EXTRA_CA_CERTS the same origin is a 502', async () => {
      const o = await origin('valid');
      const home = await makeTempHome();
      homes.push(home);
      const cli = await startCli([], { home: home.home, env: { NODE_EXTRA_CA_CERTS: undefined } });
      const res = await curlRequest(`${o.url}/hello`, { proxy: cli.url, cacert: fixtureCaPaths.cert });
      expect(res.status).toBe(502);
      expect(res.body.toString()).toContain('UPSTREAM_CERT_UNTRUSTED');
      await cli.waitForLine(/UPSTREAM_CERT_UNTRUSTED/);
      expect((await cli.stop()).code).toBe(0);
    });
  });
});

