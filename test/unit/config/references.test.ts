/**
 * checkConfigReferences over a real temp directory: relative paths resolve against the config's
 * directory (never the working directory), a missing htpasswd is an error, a missing map-local
 * directory or command program is a warning.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfigReferences } from '../../../src/config/references.js';
import { configSchema, type ConfigFile } from '../../../src/config/schema.js';

/** Through the schema, so the tests use the shape a loaded file has (defaults filled in). */
const cfg = (input: unknown): ConfigFile => configSchema.parse(input);

describe('checkConfigReferences', () => {
  let base: string;
  let bin: string;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'proxyctl-refs-'));
    bin = join(base, 'bin');
    await mkdir(join(base, 'public'));
    await mkdir(bin);
    await writeFile(join(base, 'users.htpasswd'), 'alice:{SHA}x\n');
    await writeFile(join(base, 'index.html'), '<p>hi</p>');
    await writeFile(join(bin, 'transcode'), '#!/bin/sh\ncat\n', { mode: 0o755 });
    await writeFile(join(bin, 'plain.txt'), 'not a program', { mode: 0o644 });
    await mkdir(join(base, 'logs'));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const env = () => ({ PATH: bin });

  it('accepts a config whose references all resolve (relative to baseDir, not the cwd)', async () => {
    const config = cfg({
      proxyAuth: { htpasswd: './users.htpasswd' },
      accessLog: { file: 'logs/access.log' },
      rules: [
        { type: 'map-local', filter: '~u /static', path: './public' },
        { type: 'map-local', filter: '~u /', path: 'index.html' },
        { type: 'command', filter: '~u /t', argv: ['transcode', '-x'] },
        { type: 'command', filter: '~u /t', argv: ['./bin/transcode'] },
        { type: 'command', filter: '~u /t', argv: [join(bin, 'transcode')] },
      ],
    });
    expect(process.cwd()).not.toBe(base);
    expect(await checkConfigReferences(config, base, { env: env() })).toEqual({ errors: [], warnings: [] });
  });

  it('checks nothing for a config that references nothing', async () => {
    expect(await checkConfigReferences(cfg({ listen: { port: 1 }, proxyAuth: { htpasswd: null } }), base)).toEqual({ errors: [], warnings: [] });
  });

  it.each([
    ['missing', './nope.htpasswd', 'proxyAuth.htpasswd: no such file or directory ./nope.htpasswd'],
    ['a directory', './public', 'proxyAuth.htpasswd: is a directory, expected a file: ./public'],
  ])('an htpasswd file that is %s is an error', async (_what, path, line) => {
    const r = await checkConfigReferences(cfg({ proxyAuth: { htpasswd: path } }), base);
    expect(r).toEqual({ errors: [line], warnings: [] });
  });

  it('an htpasswd path that cannot be read is an error naming the reason', async () => {
    // Works as root too (permission bits do not stop root): a file used as a directory is ENOTDIR.
    await writeFile(join(base, 'plain-file'), 'x');
    const r = await checkConfigReferences(cfg({ proxyAuth: { htpasswd: 'plain-file/users.htpasswd' } }), base);
    expect(r.warnings).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^proxyAuth\.htpasswd: .*plain-file\/users\.htpasswd$/);
  });

  it('a missing map-local path is a warning naming the rule', async () => {
    const config = cfg({
      rules: [
        { type: 'block', filter: '~d a' },
        { type: 'mock', filter: '~u /x' },
        { type: 'mock', filter: '~u /y' },
        { type: 'map-local', filter: '~u ^/static/', path: './static' },
      ],
    });
    expect(await checkConfigReferences(config, base)).toEqual({ errors: [], warnings: ['rules[3].path: no such file or directory ./static'] });
  });

  it.each([
    [['ffmpeg-not-installed'], 'rules[0].argv[0]: not found on PATH: ffmpeg-not-installed'],
    [['plain.txt'], 'rules[0].argv[0]: not found on PATH: plain.txt'],
    [['./bin/missing'], 'rules[0].argv[0]: no such file or directory ./bin/missing'],
    [['./bin'], 'rules[0].argv[0]: not a file: ./bin'],
    // Even root needs an execute bit to run a file, so this holds for every user.
    [['./bin/plain.txt'], 'rules[0].argv[0]: not executable: ./bin/plain.txt'],
  ])('a command program %j that cannot run is a warning', async (argv, line) => {
    const r = await checkConfigReferences(cfg({ rules: [{ type: 'command', filter: '~u /t', argv }] }), base, { env: env() });
    expect(r).toEqual({ errors: [], warnings: [line] });
  });

  it('finds a program through PATHEXT on Windows', async () => {
    await writeFile(join(bin, 'tool.EXE'), 'MZ');
    const config = cfg({ rules: [{ type: 'command', filter: '~u /t', argv: ['tool'] }] });
    expect(await checkConfigReferences(config, base, { env: { Path: bin, PATHEXT: '.EXE' }, platform: 'win32' })).toEqual({ errors: [], warnings: [] });
    expect((await checkConfigReferences(config, base, { env: { PATH: bin } })).warnings).toEqual(['rules[0].argv[0]: not found on PATH: tool']);
  });

  it('an access log in a missing directory is an error', async () => {
    const r = await checkConfigReferences(cfg({ accessLog: { file: 'no-dir/access.log' } }), base);
    expect(r.errors).toEqual(['accessLog.file: no such file or directory no-dir (for no-dir/access.log)']);
  });

  it('reverse TLS certificates are errors when reverse TLS is on, warnings when off', async () => {
    await writeFile(join(base, 'api.pem'), 'cert');
    const certs = [{ serverName: 'api.local', cert: './api.pem', key: './api.key' }];
    const on = await checkConfigReferences(cfg({ reverse: { tls: { enabled: true, certs } } }), base);
    expect(on).toEqual({ errors: ['reverse.tls.certs[0].key: no such file or directory ./api.key'], warnings: [] });
    const off = await checkConfigReferences(cfg({ reverse: { tls: { enabled: false, certs } } }), base);
    expect(off).toEqual({ errors: [], warnings: ['reverse.tls.certs[0].key: no such file or directory ./api.key'] });
  });

  it('reports every broken reference, in config order', async () => {
    const config = cfg({
      proxyAuth: { htpasswd: 'gone' },
      rules: [
        { type: 'map-local', filter: '~u /a', path: 'a' },
        { type: 'command', filter: '~u /b', argv: ['nope-prog'] },
        { type: 'map-local', filter: '~u /c', path: 'c' },
      ],
    });
    expect(await checkConfigReferences(config, base, { env: env() })).toEqual({
      errors: ['proxyAuth.htpasswd: no such file or directory gone'],
      warnings: ['rules[0].path: no such file or directory a', 'rules[1].argv[0]: not found on PATH: nope-prog', 'rules[2].path: no such file or directory c'],
    });
  });
});
