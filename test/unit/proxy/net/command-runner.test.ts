import { chmod, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand, STDERR_LIMITS, type CommandOptions, type CommandRun } from '../../../../src/proxy/net/command-runner.js';

// Real processes: `node -e SCRIPT`. Every run is killed and awaited in afterEach, and its PID checked gone.
const started: CommandRun[] = [];

function start(argv: readonly string[], opts: Partial<CommandOptions> = {}): CommandRun {
  const run = runCommand(argv, { timeoutMs: 10_000, ...opts });
  started.push(run);
  return run;
}

function node(script: string, ...args: string[]): string[] {
  return [process.execPath, '-e', script, ...args];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Collects a stream without losing data: `first` resolves on the first chunk, `done` on end or close. */
function collect(stream: Readable) {
  const chunks: Buffer[] = [];
  let onFirst!: (b: Buffer) => void;
  const first = new Promise<Buffer>((r) => (onFirst = r));
  stream.on('data', (c: Buffer) => {
    if (chunks.length === 0) onFirst(c);
    chunks.push(c);
  });
  const done = new Promise<{ text: string; ended: boolean }>((resolve) => {
    stream.once('end', () => resolve({ text: Buffer.concat(chunks).toString(), ended: true }));
    stream.once('close', () => resolve({ text: Buffer.concat(chunks).toString(), ended: stream.readableEnded }));
  });
  return { first, done };
}

afterEach(async () => {
  const runs = started.splice(0);
  for (const run of runs) run.kill('shutdown');
  await Promise.all(runs.map((r) => r.result));
  for (const run of runs) if (run.pid !== undefined) expect(isAlive(run.pid)).toBe(false);
});

describe('runCommand', () => {
  it('streams stdout as it is produced: the first chunk arrives while the program still runs', { timeout: 10_000 }, async () => {
    // The program writes, then waits for its stdin to close before writing again and exiting.
    const run = start(node(`process.stdout.write('first\\n'); process.stdin.resume(); process.stdin.on('end', () => process.stdout.write('second\\n'));`));
    let settled = false;
    void run.result.then(() => (settled = true));
    const out = collect(run.stdout);
    expect((await out.first).toString()).toBe('first\n');
    expect(run.pid).toBeTypeOf('number');
    expect(isAlive(run.pid!)).toBe(true);
    expect(settled).toBe(false);
    run.stdin.end();
    expect(await out.done).toEqual({ text: 'first\nsecond\n', ended: true });
    expect(await run.result).toMatchObject({ exitCode: 0, signal: null, spawnError: null, killedFor: null });
  });

  it('feeds stdin to the program', { timeout: 10_000 }, async () => {
    const run = start(node(`let s = ''; process.stdin.setEncoding('utf8'); process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => process.stdout.write(s.toUpperCase()));`));
    const out = collect(run.stdout);
    await pipeline(Readable.from([Buffer.from('hello '), Buffer.from('world')]), run.stdin);
    expect((await out.done).text).toBe('HELLO WORLD');
    expect((await run.result).exitCode).toBe(0);
  });

  it('resolves result only once stdout has been read to its end, so the caller can end its response then', { timeout: 10_000 }, async () => {
    const size = 2 * 1024 * 1024;
    const run = start(node(`process.stdout.write(Buffer.alloc(${size}, 0x62))`));
    let settled = false;
    void run.result.then(() => (settled = true));
    // Nobody reads yet: the program blocks on its full pipe and the result waits.
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    // The exchange's pattern: pipe without ending, end the response when `result` resolves.
    let received = 0;
    let writeAfterEnd = false;
    const response = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _e, cb) {
        received += chunk.length;
        setTimeout(cb, 1);
      },
    });
    response.on('error', () => (writeAfterEnd = true));
    run.stdout.pipe(response, { end: false });
    expect((await run.result).exitCode).toBe(0);
    await new Promise<void>((r) => response.end(r));
    expect(received).toBe(size);
    expect(writeAfterEnd).toBe(false);
  });

  it('passes arguments literally, never through a shell', { timeout: 10_000 }, async () => {
    const tricky = '$(echo pwned); `id` && echo "x" > /dev/null | *';
    const run = start(node('process.stdout.write(process.argv[1])', tricky));
    expect((await collect(run.stdout).done).text).toBe(tricky);
    await run.result;
  });

  it('runs in the given cwd', { timeout: 10_000 }, async () => {
    const dir = await realpath(tmpdir());
    const run = start(node('process.stdout.write(process.cwd())'), { cwd: dir });
    expect((await collect(run.stdout).done).text).toBe(dir);
    await run.result;
  });

  it('reports stderr as lines (LF and CRLF, a last unterminated line) and collects them before a listener', { timeout: 10_000 }, async () => {
    const run = start(node(`process.stderr.write('one\\ntwo\\r\\nthr'); process.stderr.write('ee\\n\\nlast');`));
    collect(run.stdout);
    await run.result;
    const lines: string[] = [];
    run.onStderrLine((l) => lines.push(l));
    expect(lines).toEqual(['one', 'two', 'three', '', 'last']);
  });

  it('bounds stderr: a long line is cut and marked, lines past the limit become one summary', { timeout: 10_000 }, async () => {
    const run = start(node(`process.stderr.write('x'.repeat(20000) + '\\n'); for (let i = 0; i < 250; i++) process.stderr.write('line ' + i + '\\n');`));
    const lines: string[] = [];
    run.onStderrLine((l) => lines.push(l));
    collect(run.stdout);
    await run.result;
    expect(lines).toHaveLength(STDERR_LIMITS.maxLines + 1);
    expect(lines[0]).toBe(`${'x'.repeat(STDERR_LIMITS.maxLineBytes)} … [line cut: ${20000 - STDERR_LIMITS.maxLineBytes} more bytes]`);
    expect(lines[1]).toBe('line 0');
    expect(lines[STDERR_LIMITS.maxLines - 1]).toBe(`line ${STDERR_LIMITS.maxLines - 2}`);
    expect(lines.at(-1)).toBe(`… ${251 - STDERR_LIMITS.maxLines} more lines`);
  });

  it('records a non-zero exit code', { timeout: 10_000 }, async () => {
    const run = start(node('process.exit(3)'));
    collect(run.stdout);
    const result = await run.result;
    expect(result).toMatchObject({ exitCode: 3, signal: null, spawnError: null, killedFor: null });
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('kills on timeout; a program that ignores SIGTERM still dies by SIGKILL after the grace period', { timeout: 15_000 }, async () => {
    const run = start(
      node(`process.on('SIGTERM', () => process.stderr.write('ignoring SIGTERM\\n')); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`),
      { timeoutMs: 1000, killGraceMs: 300 },
    );
    const lines: string[] = [];
    run.onStderrLine((l) => lines.push(l));
    const out = collect(run.stdout);
    const t0 = performance.now();
    expect((await out.first).toString()).toBe('ready\n'); // the SIGTERM handler is installed
    const result = await run.result;
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL', spawnError: null, killedFor: 'timeout' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(lines).toContain('ignoring SIGTERM');
    expect(isAlive(run.pid!)).toBe(false);
    // The output was cut, not completed.
    expect(await out.done).toEqual({ text: 'ready\n', ended: false });
  });

  it("kill('client-gone') ends the program and cuts its output; the first reason is kept", { timeout: 10_000 }, async () => {
    const run = start(node(`process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`));
    const out = collect(run.stdout);
    await out.first;
    run.kill('client-gone');
    run.kill('timeout');
    const result = await run.result;
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGTERM', spawnError: null, killedFor: 'client-gone' });
    expect(isAlive(run.pid!)).toBe(false);
    expect(run.stdout.destroyed).toBe(true);
    expect((await out.done).ended).toBe(false);
  });

  it('reports a missing program as spawnError (without stdout being read); stdout ends empty and stdin swallows writes', { timeout: 10_000 }, async () => {
    const run = start(['proxyctl-no-such-program-xyz', '--flag']);
    await pipeline(Readable.from([Buffer.alloc(64 * 1024)]), run.stdin);
    expect(await run.result).toMatchObject({ exitCode: null, signal: null, spawnError: 'spawn proxyctl-no-such-program-xyz ENOENT', killedFor: null });
    expect(await collect(run.stdout).done).toEqual({ text: '', ended: true });
    expect(run.pid).toBeUndefined();
  });

  it('reports a program that is not executable as spawnError (EACCES)', { timeout: 10_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'proxyctl-cmd-'));
    try {
      const file = join(dir, 'not-executable.sh');
      await writeFile(file, '#!/bin/sh\necho hi\n');
      await chmod(file, 0o644);
      const run = start([file]);
      const out = collect(run.stdout);
      expect((await run.result).spawnError).toMatch(/EACCES/);
      expect((await out.done).text).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports an empty argv as spawnError', async () => {
    const run = start([]);
    const out = collect(run.stdout);
    expect((await run.result).spawnError).toMatch(/empty argv/);
    expect((await out.done).ended).toBe(true);
  });

  it.each([
    ['exits at once', 'process.stdout.write("done")'],
    ['lives a while without reading', 'setTimeout(() => process.stdout.write("done"), 300)'],
  ])('swallows EPIPE when a program that never reads stdin %s while 1 MB is written to it', { timeout: 10_000 }, async (_name, script) => {
    const run = start(node(script));
    const out = collect(run.stdout);
    const body = Buffer.alloc(1024 * 1024, 0x61);
    await pipeline(Readable.from([body.subarray(0, 512 * 1024), body.subarray(512 * 1024)]), run.stdin);
    expect((await out.done).text).toBe('done');
    expect(await run.result).toMatchObject({ exitCode: 0, spawnError: null, killedFor: null });
  });

  it('refuses a non-positive timeout', () => {
    expect(() => runCommand(['true'], { timeoutMs: 0 })).toThrow(RangeError);
  });
});
