import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { instancePath, parseInstance, readInstance } from '../../../src/browser/instance.js';
import { chooseProxy, checkProxyUrl, DEFAULT_PROXY_URL, defaultPageUrl } from '../../../src/browser/proxy-choice.js';

const good = { url: 'http://127.0.0.1:40123', pid: 4242, startedAt: '2025-01-02T03:04:05.678Z' };
const alive = () => true;
const dead = () => false;

describe('parseInstance', () => {
  it.each([
    ['a running proxy', JSON.stringify(good), alive, { state: 'running', instance: good }],
    ['a proxy that died without cleaning up', JSON.stringify(good), dead, { state: 'stale', instance: good }],
    ['an offset timestamp', JSON.stringify({ ...good, startedAt: '2025-01-02T04:04:05+01:00' }), alive, { state: 'running' }],
  ] as const)('%s', (_name, text, isAlive, expected) => {
    expect(parseInstance(text, isAlive)).toMatchObject(expected);
  });

  it.each([
    ['not JSON', '{', /^not JSON/],
    ['no url', JSON.stringify({ pid: 1, startedAt: good.startedAt }), /^url: /],
    ['a non-http url', JSON.stringify({ ...good, url: 'ftp://127.0.0.1:21' }), /^url: /],
    ['a negative pid', JSON.stringify({ ...good, pid: -3 }), /^pid: /],
    ['a bad date', JSON.stringify({ ...good, startedAt: 'yesterday' }), /^startedAt: /],
  ])('refuses %s', (_name, text, problem) => {
    const r = parseInstance(text, alive);
    expect(r.state).toBe('invalid');
    if (r.state === 'invalid') expect(r.problem).toMatch(problem);
  });
});

describe('readInstance', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'proxyctl-instance-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('is "none" without a file', async () => {
    expect(await readInstance(home)).toEqual({ state: 'none' });
  });

  it('checks the pid for real by default', async () => {
    await writeFile(instancePath(home), JSON.stringify({ ...good, pid: process.pid }));
    expect(await readInstance(home)).toMatchObject({ state: 'running' });
  });
});

describe('chooseProxy', () => {
  const file = '/h/instance.json';
  it.each([
    ['the flag first', 'http://127.0.0.1:9', { state: 'running', instance: good }, { ok: true, url: 'http://127.0.0.1:9', source: 'flag', warning: null }],
    ['then the running proxy', undefined, { state: 'running', instance: good }, { ok: true, url: good.url, source: 'instance', warning: null }],
    ['then the default', undefined, { state: 'none' }, { ok: true, url: DEFAULT_PROXY_URL, source: 'default', warning: null }],
    ['a stale file: default, with a warning', undefined, { state: 'stale', instance: good }, { ok: true, url: DEFAULT_PROXY_URL, source: 'default', warning: `ignoring ${file}: process 4242 (${good.url}) is not running` }],
    ['a broken file: default, with a warning', undefined, { state: 'invalid', problem: 'pid: bad' }, { ok: true, url: DEFAULT_PROXY_URL, source: 'default', warning: `ignoring ${file}: pid: bad` }],
    ['a bad flag: refused', 'localhost:8080', { state: 'none' }, { ok: false }],
  ] as const)('%s', (_name, flag, lookup, expected) => {
    expect(chooseProxy(flag, lookup, file)).toMatchObject(expected);
  });
});

describe('checkProxyUrl', () => {
  it.each([
    ['http://127.0.0.1:8080', null],
    ['https://proxy.test:443', null],
    ['socks5://[::1]:1080', null],
    ['127.0.0.1:8080', /--proxy must/],
    ['not a url', /--proxy must be a URL/],
    ['ftp://127.0.0.1:21', /http, https, socks4 or socks5/],
    ['http://alice:secret@127.0.0.1:8080', /user name or password/],
  ])('%s', (value, expected) => {
    const problem = checkProxyUrl(value);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});

describe('defaultPageUrl', () => {
  it.each([
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['https://proxy.test:8443', 'https://proxy.test:8443'],
    ['socks5://127.0.0.1:1080', 'about:blank'],
  ])('%s → %s', (proxy, page) => {
    expect(defaultPageUrl(proxy)).toBe(page);
  });
});
