import { mkdir, mkdtemp, realpath, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentTypeFor, localFileHeaders, resolveLocalFile, type LocalFile } from '../../../../src/proxy/net/local-files.js';

// A real tree in a temp directory:
//   base/root/{index.html, style.css, app.js, data.json, with space.txt, ünï.txt,
//              sub/{index.html, page.txt}, empty-dir/, dir-index/index.html/ (a directory),
//              link-in -> style.css, link-out -> ../outside/secret.txt, link-dir-out -> ../outside}
//   base/outside/secret.txt
//   base/single.bin
let base: string;
let root: string;
const MTIME = new Date('2024-05-06T07:08:09Z');

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'proxyctl-local-')));
  root = join(base, 'root');
  await mkdir(join(root, 'sub'), { recursive: true });
  await mkdir(join(root, 'empty-dir'));
  await mkdir(join(root, 'dir-index', 'index.html'), { recursive: true });
  await mkdir(join(base, 'outside'));
  const files: Record<string, string> = {
    'root/index.html': '<h1>root</h1>',
    'root/style.css': 'body{}',
    'root/app.js': 'export {}',
    'root/data.json': '{"a":1}',
    'root/with space.txt': 'spaced',
    'root/ünï.txt': 'unicode',
    'root/sub/index.html': '<h1>sub</h1>',
    'root/sub/page.txt': 'page',
    'outside/secret.txt': 'secret',
    'single.bin': 'single file',
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(base, name), text);
  await utimes(join(root, 'style.css'), MTIME, MTIME);
  await symlink('style.css', join(root, 'link-in'));
  await symlink(join(base, 'outside', 'secret.txt'), join(root, 'link-out'));
  await symlink(join(base, 'outside'), join(root, 'link-dir-out'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('resolveLocalFile in a directory root', () => {
  it.each([
    ['/', 'index.html', 'text/html; charset=utf-8'],
    ['', 'index.html', 'text/html; charset=utf-8'],
    ['/style.css', 'style.css', 'text/css; charset=utf-8'],
    ['/app.js?v=3#top', 'app.js', 'text/javascript; charset=utf-8'],
    ['/data.json', 'data.json', 'application/json; charset=utf-8'],
    ['/sub', 'sub/index.html', 'text/html; charset=utf-8'],
    ['/sub/', 'sub/index.html', 'text/html; charset=utf-8'],
    ['//sub/./page.txt', 'sub/page.txt', 'text/plain; charset=utf-8'],
    ['/with%20space.txt', 'with space.txt', 'text/plain; charset=utf-8'],
    ['/%C3%BCn%C3%AF.txt', 'ünï.txt', 'text/plain; charset=utf-8'],
    ['/link-in', 'style.css', 'text/css; charset=utf-8'],
  ])('%j → %s', async (urlPath, file, contentType) => {
    const result = await resolveLocalFile(root, urlPath);
    expect(result).toMatchObject({ kind: 'file', path: join(root, file), contentType });
  });

  it('reports size and mtime', async () => {
    const result = await resolveLocalFile(root, '/style.css');
    expect(result).toMatchObject({ kind: 'file', size: 6 });
    expect((result as LocalFile).mtime.getTime()).toBe(MTIME.getTime());
  });

  it.each([
    ['/missing.txt'],
    ['/sub/missing/deeper'],
    ['/style.css/x'],
    ['/empty-dir'],
    ['/dir-index'],
  ])('%j is not found', async (urlPath) => {
    expect(await resolveLocalFile(root, urlPath)).toMatchObject({ kind: 'not-found' });
  });

  it.each([
    ['/../outside/secret.txt', 'forbidden', /'\.\.'/],
    ['/sub/../../outside/secret.txt', 'forbidden', /'\.\.'/],
    ['/%2e%2e/outside/secret.txt', 'forbidden', /'\.\.'/],
    ['/%2E%2E/%2E%2E/etc/passwd', 'forbidden', /'\.\.'/],
    ['/.%2e/outside/secret.txt', 'forbidden', /'\.\.'/],
    ['/sub/..%2f..%2foutside%2fsecret.txt', 'forbidden', /separator/],
    ['/%2fetc%2fpasswd', 'forbidden', /separator/],
    ['/..%5coutside%5csecret.txt', 'forbidden', /separator/],
    ['/..\\outside\\secret.txt', 'forbidden', /backslash/],
    ['/sub\\..\\..\\outside', 'forbidden', /backslash/],
    ['/style.css%00.png', 'forbidden', /NUL/],
    ['/style.css\0', 'forbidden', /NUL/],
    ['/link-out', 'forbidden', /symlink/],
    ['/link-dir-out/secret.txt', 'forbidden', /symlink/],
    ['/link-dir-out', 'forbidden', /symlink/],
    ['/%', 'not-found', /percent-encoding/],
    ['/%zz', 'not-found', /percent-encoding/],
    ['/%C3', 'not-found', /percent-encoding/],
  ] as const)('refuses %j (%s)', async (urlPath, kind, reason) => {
    const result = await resolveLocalFile(root, urlPath);
    expect(result.kind).toBe(kind);
    expect((result as { reason: string }).reason).toMatch(reason);
  });

  it('refuses a relative or missing root without throwing', async () => {
    expect(await resolveLocalFile('relative/root', '/')).toMatchObject({ kind: 'not-found', reason: /absolute/ });
    expect(await resolveLocalFile(join(base, 'nope'), '/')).toMatchObject({ kind: 'not-found' });
  });
});

describe('resolveLocalFile with a file root', () => {
  it.each(['/', '/anything/at/all.html', '/../../etc/passwd', '/%zz'])('serves the file for %j', async (urlPath) => {
    expect(await resolveLocalFile(join(base, 'single.bin'), urlPath)).toMatchObject({
      kind: 'file',
      path: join(base, 'single.bin'),
      size: 11,
      contentType: 'application/octet-stream',
    });
  });

  it('resolves a symlinked file root to its target', async () => {
    expect(await resolveLocalFile(join(root, 'link-in'), '/x')).toMatchObject({ kind: 'file', path: join(root, 'style.css') });
  });
});

describe('contentTypeFor', () => {
  it.each([
    ['a.HTML', 'text/html; charset=utf-8'],
    ['a.mjs', 'text/javascript; charset=utf-8'],
    ['a.js.map', 'application/json; charset=utf-8'],
    ['a.svg', 'image/svg+xml; charset=utf-8'],
    ['a.xml', 'application/xml; charset=utf-8'],
    ['a.png', 'image/png'],
    ['a.JPG', 'image/jpeg'],
    ['a.jpeg', 'image/jpeg'],
    ['a.gif', 'image/gif'],
    ['a.webp', 'image/webp'],
    ['a.ico', 'image/x-icon'],
    ['a.wasm', 'application/wasm'],
    ['a.pdf', 'application/pdf'],
    ['a.mp3', 'audio/mpeg'],
    ['a.mp4', 'video/mp4'],
    ['a.woff', 'font/woff'],
    ['a.woff2', 'font/woff2'],
    ['Makefile', 'application/octet-stream'],
    ['a.unknown', 'application/octet-stream'],
  ])('%s → %s', (name, type) => {
    expect(contentTypeFor(name)).toBe(type);
  });
});

describe('localFileHeaders', () => {
  it('gives Content-Type, Content-Length and Last-Modified in HTTP date form', () => {
    const file: LocalFile = { kind: 'file', path: '/x/a.css', size: 1234, mtime: MTIME, contentType: 'text/css; charset=utf-8' };
    expect(localFileHeaders(file)).toEqual([
      ['Content-Type', 'text/css; charset=utf-8'],
      ['Content-Length', '1234'],
      ['Last-Modified', 'Mon, 06 May 2024 07:08:09 GMT'],
    ]);
  });
});
