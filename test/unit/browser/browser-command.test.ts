/**
 * `proxyctl browser` with a stand-in Chromium (a shell script named by PROXYCTL_CHROMIUM) that
 * records its arguments and whether its profile directory exists, so the real spawn, wait and
 * clean-up path runs without a browser.
 */
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { instancePath } from '../../../src/browser/instance.js';
import { browserCommand } from '../../../src/commands/browser.js';
import { loadFixtureCa, makeTempHome, type TempHome } from '../../helpers/test-ca.js';

const FAKE_CHROMIUM = `#!/bin/sh
out="$FAKE_CHROMIUM_OUT"
: > "$out"
for a in "$@"; do printf 'arg %s\\n' "$a" >> "$out"; done
for a in "$@"; do
  case "$a" in
    --user-data-dir=*) d="\${a#--user-data-dir=}"; if [ -d "$d" ]; then echo "profile-exists" >> "$out"; touch "$d/Local State"; fi ;;
  esac
done
echo "chromium chatter" >&2
echo "the reason it failed" >&2
exit "\${FAKE_CHROMIUM_EXIT:-0}"
`;

function captureCommander(cmd: Command, sink: string[]): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: (s) => sink.push(s), writeErr: (s) => sink.push(s) });
}

describe('proxyctl browser', () => {
  let temp: TempHome;
  let scratch: string;
  let fake: string;
  let outFile: string;
  let listener: Server | null = null;

  beforeEach(async () => {
    temp = await makeTempHome();
    scratch = await mkdtemp(join(tmpdir(), 'proxyctl-browser-cmd-'));
    fake = join(scratch, 'fake-chromium');
    outFile = join(scratch, 'out.txt');
    await writeFile(fake, FAKE_CHROMIUM);
    await chmod(fake, 0o755);
  });

  afterEach(async () => {
    await new Promise<void>((r) => (listener ? listener.close(() => r()) : r()));
    listener = null;
    await temp.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  /** A TCP listener standing in for the proxy, so the "nothing answers" hint stays quiet. */
  async function fakeProxy(): Promise<string> {
    const server = createServer((s) => s.destroy());
    listener = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    return `http://127.0.0.1:${addr.port}`;
  }

  async function run(args: string[], env: NodeJS.ProcessEnv = {}, runningAsRoot = false) {
    const stderr: string[] = [];
    const cmd = browserCommand({
      env: { PATH: process.env['PATH'], PROXYCTL_HOME: temp.home, PROXYCTL_CHROMIUM: fake, FAKE_CHROMIUM_OUT: outFile, ...env },
      stderr: { write: (s) => stderr.push(s) },
      runningAsRoot,
    });
    captureCommander(cmd, stderr);
    let error: CommanderError | null = null;
    try {
      await cmd.parseAsync(args, { from: 'user' });
    } catch (err) {
      if (!(err instanceof CommanderError)) throw err;
      error = err;
    }
    return { error, stderr: stderr.join('') };
  }

  async function recorded(): Promise<{ args: string[]; profileExisted: boolean }> {
    const lines = (await readFile(outFile, 'utf8')).split('\n').filter(Boolean);
    return {
      args: lines.filter((l) => l.startsWith('arg ')).map((l) => l.slice(4)),
      profileExisted: lines.includes('profile-exists'),
    };
  }

  it('launches Chromium through the given proxy, trusting the CA by SPKI, with a profile removed afterwards', async () => {
    const proxy = await fakeProxy();
    const { error, stderr } = await run(['--proxy', proxy, '--url', 'https://app.test/']);
    expect(error).toBeNull();
    const { args, profileExisted } = await recorded();
    const ca = await loadFixtureCa();
    expect(args).toContain(`--proxy-server=${proxy}`);
    expect(args).toContain('--proxy-bypass-list=<-loopback>');
    expect(args).toContain(`--ignore-certificate-errors-spki-list=${ca.spkiSha256}`);
    expect(args).not.toContain('--no-sandbox');
    expect(args.slice(-2)).toEqual(['--', 'https://app.test/']);
    expect(profileExisted).toBe(true);
    const profile = args.find((a) => a.startsWith('--user-data-dir='))!.slice('--user-data-dir='.length);
    await expect(stat(profile)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(stderr).toContain(`through ${proxy}`);
    expect(stderr).not.toMatch(/nothing answers/);
  });

  it('uses the running proxy from instance.json and opens its page by default', async () => {
    const proxy = await fakeProxy();
    await writeFile(instancePath(temp.home), JSON.stringify({ url: proxy, pid: process.pid, startedAt: new Date().toISOString() }));
    const { error } = await run([], {}, true);
    expect(error).toBeNull();
    const { args } = await recorded();
    expect(args).toContain(`--proxy-server=${proxy}`);
    expect(args).toContain('--no-sandbox');
    expect(args.slice(-2)).toEqual(['--', proxy]);
  });

  it('falls back to the default proxy over a stale instance.json, and says so', async () => {
    await writeFile(instancePath(temp.home), JSON.stringify({ url: 'http://127.0.0.1:1', pid: 2 ** 30, startedAt: new Date().toISOString() }));
    const { error, stderr } = await run([]);
    expect(error).toBeNull();
    expect((await recorded()).args).toContain('--proxy-server=http://127.0.0.1:8080');
    expect(stderr).toMatch(/ignoring .*instance\.json: process 1073741824/);
  });

  it('exits 1 with install advice when no Chromium is found', async () => {
    const { error, stderr } = await run([], { PROXYCTL_CHROMIUM: undefined, PATH: scratch });
    expect(error?.exitCode).toBe(1);
    expect(stderr).toMatch(/no Chromium found/);
    expect(stderr).toMatch(/apt-get install chromium/);
    expect(stderr).toMatch(/PROXYCTL_CHROMIUM/);
  });

  it('exits 1 naming a PROXYCTL_CHROMIUM that is not executable', async () => {
    const { error, stderr } = await run([], { PROXYCTL_CHROMIUM: join(scratch, 'missing') });
    expect(error?.exitCode).toBe(1);
    expect(stderr).toMatch(/PROXYCTL_CHROMIUM is set to/);
  });

  it('exits 1 with the tail of Chromium\'s stderr when it fails, still removing the profile', async () => {
    const proxy = await fakeProxy();
    const { error, stderr } = await run(['--proxy', proxy], { FAKE_CHROMIUM_EXIT: '3' });
    expect(error?.exitCode).toBe(1);
    expect(stderr).toMatch(/exited with code 3/);
    expect(stderr).toMatch(/the reason it failed/);
    const profile = (await recorded()).args.find((a) => a.startsWith('--user-data-dir='))!.slice('--user-data-dir='.length);
    await expect(stat(profile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each([
    [['--proxy', '127.0.0.1:8080'], /--proxy must/],
    [['--proxy', 'http://u:p@127.0.0.1:8080'], /user name or password/],
    [['--url', '--incognito'], /--url must be a page address/],
  ])('refuses %j with exit 2', async (args, message) => {
    const { error, stderr } = await run(args);
    expect(error?.exitCode).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('warns when nothing listens at the proxy address, and launches anyway', async () => {
    const { error, stderr } = await run(['--proxy', 'http://127.0.0.1:1']);
    expect(error).toBeNull();
    expect(stderr).toMatch(/nothing answers at http:\/\/127\.0\.0\.1:1/);
  });
});
