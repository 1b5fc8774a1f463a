import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, LEAF_RENEW_BEFORE_MS } from '../../../src/ca/index.js';
import { readFixtureCaPem } from '../../helpers/test-ca.js';

const DAY = 24 * 60 * 60 * 1000;

describe('leaf cache', () => {
  let pem: { cert: string; key: string };

  beforeAll(async () => {
    pem = await readFixtureCaPem();
  });

  const makeCa = (opts: { cacheSize?: number; now?: () => Date } = {}) => CertificateAuthority.fromPem(pem.cert, pem.key, opts);

  it('issues once per host and then answers from the cache', async () => {
    const ca = await makeCa();
    const first = ca.secureContextFor('example.com');
    expect(ca.secureContextFor('example.com')).toBe(first);
    // Host names are case-insensitive (RFC 4343); the cache key is the lowercased name.
    expect(ca.secureContextFor('EXAMPLE.com')).toBe(first);
    expect(ca.leafFor('example.com').certPem).toBe(ca.leafFor('Example.Com').certPem);
    expect(ca.stats()).toEqual({ issued: 1, cacheHits: 4, cached: 1 });
  });

  it('shares entries between leafFor and secureContextFor', async () => {
    const ca = await makeCa();
    const leaf = ca.leafFor('shared.example');
    ca.secureContextFor('shared.example');
    expect(ca.leafFor('shared.example')).toEqual(leaf);
    expect(ca.stats()).toMatchObject({ issued: 1, cached: 1 });
  });

  it('keeps one certificate per exact host (no wildcards)', async () => {
    const ca = await makeCa();
    const a = new X509Certificate(ca.leafFor('a.example.com').certPem);
    const b = new X509Certificate(ca.leafFor('b.example.com').certPem);
    expect(a.subjectAltName).toBe('DNS:a.example.com');
    expect(b.checkHost('a.example.com')).toBeUndefined();
    expect(ca.stats().issued).toBe(2);
  });

  it('evicts the least recently used host at the bound', async () => {
    const ca = await makeCa({ cacheSize: 3 });
    for (const h of ['a.test', 'b.test', 'c.test']) ca.secureContextFor(h);
    ca.secureContextFor('a.test'); // a is fresh again; b is now the oldest
    ca.secureContextFor('d.test');
    expect(ca.stats()).toEqual({ issued: 4, cacheHits: 1, cached: 3 });

    ca.secureContextFor('a.test'); // still cached
    expect(ca.stats()).toMatchObject({ issued: 4, cacheHits: 2 });
    ca.secureContextFor('b.test'); // evicted: issued again
    expect(ca.stats()).toEqual({ issued: 5, cacheHits: 2, cached: 3 });
  });

  it('re-issues a cached leaf within a day of its notAfter', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const ca = await makeCa({ now: () => now });
    const first = ca.leafFor('renew.example');
    const firstContext = ca.secureContextFor('renew.example');
    expect(first.notAfter.getTime()).toBe(now.getTime() + 365 * DAY);

    now = new Date(first.notAfter.getTime() - LEAF_RENEW_BEFORE_MS - 1);
    expect(ca.leafFor('renew.example')).toEqual(first);
    expect(ca.secureContextFor('renew.example')).toBe(firstContext);
    expect(ca.stats()).toMatchObject({ issued: 1 });

    now = new Date(first.notAfter.getTime() - LEAF_RENEW_BEFORE_MS);
    const second = ca.leafFor('renew.example');
    expect(ca.stats()).toMatchObject({ issued: 2, cached: 1 });
    expect(second.notAfter.getTime()).toBe(now.getTime() + 365 * DAY);
    expect(second.certPem).not.toBe(first.certPem);
    expect(ca.secureContextFor('renew.example')).not.toBe(firstContext);
    expect(new Date(new X509Certificate(second.certPem).validFrom).getTime()).toBe(now.getTime() - 2 * DAY);
  });

  it('never issues a leaf that outlives the root', async () => {
    const rootNotAfter = new Date(new X509Certificate(pem.cert).validTo);
    const now = new Date(rootNotAfter.getTime() - 30 * DAY);
    const ca = await makeCa({ now: () => now });
    expect(ca.leafFor('late.example').notAfter.getTime()).toBe(rootNotAfter.getTime());
  });

  it('serves 200 distinct hosts from one CA', async () => {
    const ca = await makeCa();
    const hosts = Array.from({ length: 200 }, (_, i) => `host-${i}.bulk.example`);
    const contexts = hosts.map((h) => ca.secureContextFor(h));
    expect(new Set(contexts).size).toBe(200);
    hosts.forEach((h, i) => expect(ca.secureContextFor(h)).toBe(contexts[i]));
    expect(ca.stats()).toEqual({ issued: 200, cacheHits: 200, cached: 200 });
  });

  it.each([0, -5, 2.5])('refuses cacheSize %s', async (cacheSize) => {
    await expect(makeCa({ cacheSize })).rejects.toThrow(RangeError);
  });
});
