import { describe, expect, it } from 'vitest';
import type { HeaderPairs } from '../../../../../src/proxy/core/flow.js';
import { cacheKey, DEFAULT_CACHE_MAX_BYTES, entrySize, HttpCache, type NewEntry } from '../../../../../src/proxy/rules/cache/http-cache.js';

const T = Date.UTC(2024, 0, 1, 12);
const KEY = 'http://example.com/a';

function entry(o: Partial<NewEntry> & { bytes?: number } = {}): NewEntry {
  return {
    key: KEY,
    status: 200,
    statusText: 'OK',
    headers: [['Cache-Control', 'max-age=60']],
    body: Buffer.alloc(o.bytes ?? 10, 'x'),
    requestTime: T,
    responseTime: T,
    requestHeaders: [],
    ...o,
  };
}

/** Bytes an entry of `bodyBytes` made by `entry()` is counted as. */
const sizeOf = (bodyBytes: number, key = KEY) => entrySize(key, [['Cache-Control', 'max-age=60']], Buffer.alloc(bodyBytes));

describe('cacheKey', () => {
  it.each<[string, Parameters<typeof cacheKey>[0], string]>([
    ['http default port', { scheme: 'http', host: 'example.com', port: 80, path: '/a?b=c' }, 'http://example.com/a?b=c'],
    ['https other port', { scheme: 'https', host: 'example.com', port: 8443, path: '/' }, 'https://example.com:8443/'],
    ['host case folded', { scheme: 'http', host: 'Example.COM', port: 80, path: '/A' }, 'http://example.com/A'],
    ['dot segments', { scheme: 'http', host: 'example.com', port: 80, path: '/a/../b' }, 'http://example.com/b'],
    ['IPv6', { scheme: 'http', host: '::1', port: 8080, path: '/' }, 'http://[::1]:8080/'],
  ])('%s', (_case, req, expected) => {
    expect(cacheKey(req)).toBe(expected);
  });
});

describe('HttpCache', () => {
  it('defaults to 256 MiB with a per-entry cap of 1/16', () => {
    const c = new HttpCache();
    expect(c.maxBytes).toBe(DEFAULT_CACHE_MAX_BYTES);
    expect(c.maxBytes).toBe(268435456);
    expect(c.maxEntryBytes).toBe(16 * 1024 * 1024);
    expect(c.stats()).toEqual({ entries: 0, bytes: 0, maxBytes: 268435456 });
    expect(new HttpCache({ maxBytes: 100, maxEntryBytes: 1000 }).maxEntryBytes).toBe(100);
  });

  it('stores and finds an entry, counting its bytes', () => {
    const c = new HttpCache();
    const e = c.put(entry());
    expect(e).not.toBeNull();
    expect(c.lookup(KEY, [])).toBe(e);
    expect(c.lookup('http://example.com/b', [])).toBeUndefined();
    expect(c.stats()).toEqual({ entries: 1, bytes: sizeOf(10), maxBytes: DEFAULT_CACHE_MAX_BYTES });
  });

  it('replaces the variant the same request selects', () => {
    const c = new HttpCache();
    c.put(entry({ body: Buffer.from('one') }));
    c.put(entry({ body: Buffer.from('two') }));
    expect(c.stats().entries).toBe(1);
    expect(c.lookup(KEY, [])!.body.toString()).toBe('two');
  });

  it('keeps one variant per Vary selection (§4.1)', () => {
    const c = new HttpCache();
    const vary: HeaderPairs = [['Vary', 'Accept-Encoding']];
    c.put(entry({ headers: vary, body: Buffer.from('gzip'), requestHeaders: [['Accept-Encoding', 'gzip']] }));
    c.put(entry({ headers: vary, body: Buffer.from('br'), requestHeaders: [['Accept-Encoding', 'br']] }));
    c.put(entry({ headers: vary, body: Buffer.from('none'), requestHeaders: [] }));
    expect(c.stats().entries).toBe(3);
    expect(c.lookup(KEY, [['Accept-Encoding', 'gzip']])!.body.toString()).toBe('gzip');
    expect(c.lookup(KEY, [['accept-encoding', 'br']])!.body.toString()).toBe('br');
    expect(c.lookup(KEY, [])!.body.toString()).toBe('none');
    expect(c.lookup(KEY, [['Accept-Encoding', 'zstd']])).toBeUndefined();
  });

  it('chooses the most recent Date when several variants match (§4.1)', () => {
    const c = new HttpCache();
    c.put(entry({ headers: [['Vary', 'Accept'], ['Date', 'Mon, 01 Jan 2024 11:00:00 GMT']], body: Buffer.from('old'), requestHeaders: [['Accept', 'a']] }));
    c.put(entry({ headers: [['Vary', 'Origin'], ['Date', 'Mon, 01 Jan 2024 11:30:00 GMT']], body: Buffer.from('new'), requestHeaders: [['Accept', 'b']] }));
    expect(c.stats().entries).toBe(2);
    expect(c.lookup(KEY, [['Accept', 'a']])!.body.toString()).toBe('new');
  });

  it('does not store Vary: * or an entry over the per-entry cap', () => {
    const c = new HttpCache({ maxBytes: 10_000, maxEntryBytes: sizeOf(100) });
    expect(c.put(entry({ headers: [['Vary', '*']] }))).toBeNull();
    expect(c.put(entry({ bytes: 101 }))).toBeNull();
    expect(c.put(entry({ bytes: 100 }))).not.toBeNull();
    expect(c.stats().entries).toBe(1);
  });

  it('evicts the least recently used entries by bytes', () => {
    const one = sizeOf(100, 'http://e/1');
    const c = new HttpCache({ maxBytes: one * 3, maxEntryBytes: one * 3 });
    const keys = ['http://e/1', 'http://e/2', 'http://e/3'];
    for (const key of keys) c.put(entry({ key, bytes: 100 }));
    expect(c.stats()).toEqual({ entries: 3, bytes: one * 3, maxBytes: one * 3 });
    c.lookup('http://e/1', []); // 1 is now the most recently used: 2 goes first
    c.put(entry({ key: 'http://e/4', bytes: 100 }));
    expect(keys.map((k) => c.lookup(k, []) !== undefined)).toEqual([true, false, true]);
    // A big entry pushes out as many as it needs.
    c.put(entry({ key: 'http://e/5', bytes: 100 + one }));
    expect(c.stats().entries).toBe(2);
    expect(c.stats().bytes).toBeLessThanOrEqual(one * 3);
    expect(c.lookup('http://e/5', [])).toBeDefined();
  });

  it('refreshes an entry in place, adjusting bytes and selection', () => {
    const c = new HttpCache();
    const e = c.put(entry({ requestHeaders: [['Accept', 'a']] }))!;
    const headers: HeaderPairs = [['Cache-Control', 'max-age=120'], ['Vary', 'Accept']];
    expect(c.refresh(e, headers, T + 1000, T + 2000, [['Accept', 'b']])).toBe(true);
    expect(e).toMatchObject({ headers, requestTime: T + 1000, responseTime: T + 2000 });
    expect(c.stats().bytes).toBe(entrySize(KEY, headers, e.body));
    expect(c.lookup(KEY, [['Accept', 'a']])).toBeUndefined();
    expect(c.lookup(KEY, [['Accept', 'b']])).toBe(e);
    // A new Vary: * removes it; a removed entry is not refreshed.
    expect(c.refresh(e, [['Vary', '*']], T, T, [])).toBe(false);
    expect(c.stats()).toMatchObject({ entries: 0, bytes: 0 });
    expect(c.refresh(e, headers, T, T, [])).toBe(false);
    expect(c.has(e)).toBe(false);
  });

  it('invalidates every variant of a URL and clears', () => {
    const c = new HttpCache();
    c.put(entry({ headers: [['Vary', 'Accept']], requestHeaders: [['Accept', 'a']] }));
    c.put(entry({ headers: [['Vary', 'Accept']], requestHeaders: [['Accept', 'b']] }));
    c.put(entry({ key: 'http://example.com/other' }));
    expect(c.invalidate(KEY)).toBe(2);
    expect(c.invalidate(KEY)).toBe(0);
    expect(c.stats().entries).toBe(1);
    c.clear();
    expect(c.stats()).toEqual({ entries: 0, bytes: 0, maxBytes: DEFAULT_CACHE_MAX_BYTES });
    expect(c.lookup('http://example.com/other', [])).toBeUndefined();
  });
});
