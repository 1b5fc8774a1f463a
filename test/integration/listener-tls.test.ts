/**
 * TLS ending at the listener in reverse mode (issue 8 item 3): certificates configured per server
 * name (`reverse.tls.certs`, exact and `*.` wildcard), chosen by the client's SNI, the CA's own
 * certificate for any other name, ALPN h2, and renewals picked up from disk without a restart while
 * a half-written or mismatched pair keeps the previous certificate in force.
 *
 * The certificates are checked the way a client sees them: a real TLS handshake reading the peer
 * certificate. Leaves are issued by the origin test CA (fixtures/origin) through our own issuer, so
 * no RSA key is generated here; each `CertificateAuthority.fromPem` has its own leaf key, which
 * gives distinct key pairs.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, type LeafCertificate } from '../../src/ca/index.js';
import type { ConfigFile } from '../../src/config/schema.js';
import { curlRequest } from '../helpers/curl.js';
import { originCa } from '../helpers/origin-certs.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

const fixtureCa = new X509Certificate(readFileSync(fixtureCaPaths.cert, 'utf8'));

interface Peer {
  fingerprint256: string;
  subjectaltname: string | undefined;
  issuerCN: string | undefined;
  alpn: string | false;
}

/** Handshake with `servername` and report the certificate the listener presented. */
function handshake(port: number, servername: string | null, alpn: string[] = ['http/1.1']): Promise<Peer> {
  return new Promise((resolve, reject) => {
    // `servername: ''` sends no SNI (what clients do when they connect to an IP address).
    const socket = tls.connect({ host: '127.0.0.1', port, servername: servername ?? '', ALPNProtocols: alpn, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TLS handshake for ${servername} did not finish within 5 s`));
    }, 5000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      resolve({ fingerprint256: cert.fingerprint256, subjectaltname: cert.subjectaltname, issuerCN: [cert.issuer?.CN ?? []].flat()[0], alpn: socket.alpnProtocol ?? false });
      socket.destroy();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

describe('listener TLS with certificates per server name', () => {
  let issuerA: CertificateAuthority;
  let issuerB: CertificateAuthority;
  let dir: string;
  let backend: Origin;
  let proxy: TestProxy;
  let logs: string[];

  beforeAll(async () => {
    // Two issuers: two different leaf keys, so pairs can be mixed up on purpose.
    [issuerA, issuerB] = await Promise.all([CertificateAuthority.fromPem(originCa.cert, originCa.key), CertificateAuthority.fromPem(originCa.cert, originCa.key)]);
  });

  afterEach(async () => {
    await stopAllProxies();
    await backend?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function writePair(name: string, leaf: LeafCertificate): Promise<void> {
    await writeFile(join(dir, `${name}.pem`), leaf.certPem);
    await writeFile(join(dir, `${name}.key`), leaf.keyPem);
  }

  async function start(extra: Partial<NonNullable<NonNullable<ConfigFile['reverse']>['tls']>> = {}): Promise<void> {
    dir = await mkdtemp(join(tmpdir(), 'proxyctl-listener-tls-'));
    backend = await startOrigin();
    await writePair('a', issuerA.leafFor('a.test'));
    await writePair('b', issuerA.leafFor('b.test'));
    await writePair('wild', issuerA.leafFor('wild.test'));
    const config: ConfigFile = {
      mode: `reverse:http://127.0.0.1:${backend.port}`,
      reverse: {
        tls: {
          enabled: true,
          certs: [
            // Relative paths: they resolve against the config file's folder.
            { serverName: 'a.test', cert: './a.pem', key: './a.key' },
            { serverName: 'b.test', cert: 'b.pem', key: 'b.key' },
            { serverName: '*.wild.test', cert: 'wild.pem', key: 'wild.key' },
          ],
          ...extra,
        },
      },
    };
    const configPath = join(dir, 'proxyctl.json');
    await writeFile(configPath, JSON.stringify(config));
    proxy = await startProxy({ config, configPath });
    logs = [];
    proxy.runtime.bus.on('log', (e) => logs.push(`${e.level}: ${e.message}`));
  }

  it('presents the configured certificate for each SNI name, and the CA one for other names', { timeout: 20_000 }, async () => {
    await start();
    const a = await handshake(proxy.port, 'a.test');
    expect(a.fingerprint256).toBe(fingerprint(readFileSync(join(dir, 'a.pem'), 'utf8')));
    expect(a.subjectaltname).toBe('DNS:a.test');

    const b = await handshake(proxy.port, 'B.Test');
    expect(b.fingerprint256).toBe(fingerprint(readFileSync(join(dir, 'b.pem'), 'utf8')));

    const wild = await handshake(proxy.port, 'api.wild.test');
    expect(wild.fingerprint256).toBe(fingerprint(readFileSync(join(dir, 'wild.pem'), 'utf8')));

    // A wildcard covers one label only: deeper names and the bare domain get the CA's certificate.
    for (const name of ['other.test', 'x.api.wild.test', 'wild.test']) {
      const peer = await handshake(proxy.port, name);
      expect(peer.subjectaltname, name).toBe(`DNS:${name}`);
      expect(peer.issuerCN, name).toBe(fixtureCa.subject.match(/CN=([^\n]+)/)?.[1]);
    }

    // No SNI at all (a client dialling the IP): a CA certificate for the listen address, not a failed handshake.
    const bare = await handshake(proxy.port, null);
    expect(bare.subjectaltname).toBe('IP Address:127.0.0.1');
    expect(bare.issuerCN).toBe(fixtureCa.subject.match(/CN=([^\n]+)/)?.[1]);
  });

  it('negotiates h2 by ALPN with a configured certificate', { timeout: 20_000 }, async () => {
    await start();
    const h2 = await handshake(proxy.port, 'a.test', ['h2', 'http/1.1']);
    expect(h2.alpn).toBe('h2');
    expect(h2.subjectaltname).toBe('DNS:a.test');
    const h1 = await handshake(proxy.port, 'a.test', ['http/1.1']);
    expect(h1.alpn).toBe('http/1.1');
  });

  it('picks up a renewed pair without a restart, and keeps the old one while the files are broken', { timeout: 30_000 }, async () => {
    await start();
    const first = fingerprint(readFileSync(join(dir, 'a.pem'), 'utf8'));
    expect((await handshake(proxy.port, 'a.test')).fingerprint256).toBe(first);

    // Half written: the certificate file cut short. The previous certificate stays in force.
    const renewed = issuerB.leafFor('a.test');
    await writeFile(join(dir, 'a.pem'), renewed.certPem.slice(0, 200));
    await waitFor(() => logs.find((l) => l.startsWith('warn: certificate for a.test not reloaded')), { timeoutMs: 5000, message: 'a warning about the broken file' });
    expect((await handshake(proxy.port, 'a.test')).fingerprint256).toBe(first);

    // The new certificate with the old key: a mismatched pair, refused too.
    await writeFile(join(dir, 'a.pem'), renewed.certPem);
    await waitFor(() => logs.find((l) => l.includes('do not belong together')), { timeoutMs: 5000, message: 'a warning about the mismatched pair' });
    expect((await handshake(proxy.port, 'a.test')).fingerprint256).toBe(first);

    // The key lands: the renewed pair is complete and new connections get it.
    await writeFile(join(dir, 'a.key'), renewed.keyPem);
    await waitFor(async () => (await handshake(proxy.port, 'a.test')).fingerprint256 === fingerprint(renewed.certPem), { timeoutMs: 5000, intervalMs: 100, message: 'the renewed certificate' });
    expect(logs.some((l) => l.startsWith('info: reloaded certificate for a.test'))).toBe(true);
    // The other names are untouched.
    expect((await handshake(proxy.port, 'b.test')).fingerprint256).toBe(fingerprint(readFileSync(join(dir, 'b.pem'), 'utf8')));
  });

  it('serves the backend over TLS that a client verifies against the configured chain, h1 and h2', { timeout: 20_000 }, async () => {
    await start();
    for (const http of ['1.1', '2'] as const) {
      // curl trusts only the origin test CA, which issued a.test's configured certificate.
      const r = await curlRequest(`https://a.test:${proxy.port}/hello`, { cacert: originCa.certPath, http, extra: ['--resolve', `a.test:${proxy.port}:127.0.0.1`] });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.status).toBe(200);
      expect(r.httpVersion).toBe(http);
      expect(r.body.toString()).toMatch(/^hello/);
    }
    // (Health checks, if any, go to other paths.)
    expect(backend.requests.filter((q) => q.url === '/hello')).toHaveLength(2);
  });

  it('uses the CA for every name while reverse.tls is not enabled', { timeout: 20_000 }, async () => {
    await start({ enabled: false });
    const peer = await handshake(proxy.port, 'a.test');
    expect(peer.fingerprint256).not.toBe(fingerprint(readFileSync(join(dir, 'a.pem'), 'utf8')));
    expect(peer.issuerCN).toBe(fixtureCa.subject.match(/CN=([^\n]+)/)?.[1]);
  });

  it('refuses to start with a pair that does not belong together, naming the field', { timeout: 20_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'proxyctl-listener-tls-'));
    await writeFile(join(dir, 'a.pem'), issuerA.leafFor('a.test').certPem);
    await writeFile(join(dir, 'a.key'), issuerB.leafFor('a.test').keyPem);
    const config: ConfigFile = { mode: 'reverse:http://127.0.0.1:9', reverse: { tls: { enabled: true, certs: [{ serverName: 'a.test', cert: 'a.pem', key: 'a.key' }] } } };
    await expect(startProxy({ config, configPath: join(dir, 'proxyctl.json') })).rejects.toThrow(/^reverse\.tls\.certs\[0\]: the certificate and the key do not belong together/);
  });
});
