/**
 * The command responder through the real proxy (issue 6, point 8): a rule maps requests to a local
 * program given as an argument array. The request body goes to its stdin, its stdout streams back as
 * it is produced (chunked on HTTP/1.1), its stderr lines go to the event log; a timeout, a client
 * disconnect and shutdown kill it (its whole process group), and a failure is recorded on the flow.
 *
 * Programs are `node -e SCRIPT` (process.execPath, never a shell string); one test runs `sh -c`
 * on purpose to start a grandchild. Programs that must wait do so on something the test controls
 * (a line on stdin, a file appearing), never on a sleep the test has to guess.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type http2 from 'node:http2';
import { constants as http2Constants } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, type ConfigFile } from '../../src/config/schema.js';
import type { LogLevel } from '../../src/proxy/core/events.js';
import { curlRequest, header } from '../helpers/curl.js';
import { Disposer } from '../helpers/disposer.js';
import { openH2Tunnel } from '../helpers/h2-tunnel.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw } from '../helpers/raw-client.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const node = process.execPath;
const proxyCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');

/** A config with one command rule for `~d ^cmd\.example$` (zod fills the defaults). */
function commandConfig(argv: string[], extra: { timeoutMs?: number; status?: number; headers?: Record<string, string>; filter?: string } = {}): ConfigFile {
  return configSchema.parse({ rules: [{ type: 'command', filter: extra.filter ?? '~d ^cmd\\.example$', argv, ...extra }] });
}

/** `node -e SCRIPT` as an argument array. */
function nodeScript(script: string, ...args: string[]): string[] {
  return [node, '-e', script, ...args];
}

/**
 * True once `pid` no longer runs. A process that was killed but not yet reaped is a zombie: it
 * runs no more, and an orphaned grandchild may stay one for a while in a container whose init does
 * not reap, so a `Z` state counts as gone (Linux /proc; elsewhere only ESRCH does).
 */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw err;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    // No /proc entry any more: it was reaped between the two checks.
    return true;
  }
}

interface LogLine {
  level: LogLevel;
  message: string;
  flowId?: string;
}

/** A response read incrementally, so a test can act between chunks. */
interface Reader {
  /** Everything received so far, as UTF-8. */
  text(): string;
  /** True once the body ended normally. */
  readonly complete: boolean;
  /** Resolves with the text so far once `pred` holds for it (bounded). */
  until(pred: (text: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** Resolves when the body ended or the response broke; `complete` says which. */
  finished: Promise<void>;
}

function readIncrementally(source: NodeJS.ReadableStream & { on(event: 'data', fn: (c: Buffer) => void): unknown }): Reader {
  const chunks: Buffer[] = [];
  let complete = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  source.on('data', (c: Buffer) => {
    chunks.push(c);
    wake();
  });
  const finished = new Promise<void>((resolve) => {
    source.on('end', () => {
      complete = true;
      wake();
      resolve();
    });
    source.on('error', () => resolve());
    source.on('close', () => {
      wake();
      resolve();
    });
    (source as unknown as http.IncomingMessage).on('aborted', () => resolve());
  });
  const text = () => Buffer.concat(chunks).toString('utf8');
  return {
    text,
    get complete() {
      return complete;
    },
    finished,
    until(pred, what, timeoutMs = 5000) {
      return withTimeout(
        new Promise<string>((resolve) => {
          const check = () => {
            if (pred(text())) {
              waiters.delete(check);
              resolve(text());
            }
          };
          waiters.add(check);
          check();
        }),
        timeoutMs,
        `${what} (have ${JSON.stringify(text())})`,
      );
    },
  };
}

describe('rules: command responder', () => {
  const open = new Disposer();
  const origins: Origin[] = [];
  const dirs: string[] = [];
  /** Every PID a program told us about: none may outlive its test. */
  const pids = new Set<number>();

  afterEach(async () => {
    await open.run();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
    // Safety net only: the assertions are in the tests. A failed test must not leave a program behind.
    for (const pid of pids) {
      if (!isGone(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone in the meantime.
        }
      }
    }
    pids.clear();
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  function collectLogs(proxy: TestProxy): LogLine[] {
    const lines: LogLine[] = [];
    proxy.runtime.bus.on('log', (e) => lines.push({ level: e.level, message: e.message, ...(e.flowId !== undefined ? { flowId: e.flowId } : {}) }));
    return lines;
  }

  /**
   * A request through the proxy with Node's http client (absolute-form target, no agent), the head
   * sent at once; the caller writes the body (or not) and ends it.
   */
  function proxyRequest(proxy: TestProxy, url: string, opts: { method?: string; headers?: Record<string, string> } = {}): { req: http.ClientRequest; response: Promise<http.IncomingMessage> } {
    const target = new URL(url);
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: opts.method ?? 'GET', path: url, headers: { host: target.host, ...opts.headers }, agent: false });
    open.destroy(req);
    const response = withTimeout(
      new Promise<http.IncomingMessage>((resolve, reject) => {
        req.once('response', resolve);
        req.once('error', reject);
      }),
      5000,
      `the response head for ${url}`,
    );
    req.on('error', () => {
      // Destroying the request is how some tests disconnect; the response promise reports real failures.
    });
    // A test that disconnects before the head never awaits it: its rejection is expected then.
    response.catch(() => {});
    req.flushHeaders();
    return { req, response };
  }

  async function tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'proxyctl-rules-command-'));
    dirs.push(d);
    return d;
  }

  // --- streaming ------------------------------------------------------------------------------

  it('streams the first output to the client while the program still runs, chunked on HTTP/1.1', async () => {
    // Prints a line, then waits for "continue" on stdin (the request body), which the test sends
    // only after the first line reached it.
    const script = `
      process.stdout.write('first ' + process.pid + '\\n');
      let input = '';
      process.stdin.on('data', (d) => {
        input += d;
        if (input.includes('continue')) process.stdout.write('second\\n', () => process.exit(0));
      });`;
    const proxy = await startProxy({ config: commandConfig(nodeScript(script), { headers: { 'Content-Type': 'text/plain; charset=utf-8' } }) });
    const { req, response } = proxyRequest(proxy, 'http://cmd.example/stream', { method: 'POST', headers: { 'transfer-encoding': 'chunked' } });
    const res = await response;
    expect(res.statusCode).toBe(200);
    expect(res.httpVersion).toBe('1.1');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    const body = readIncrementally(res);

    const first = await body.until((t) => /^first \d+\n/.test(t), 'the first line of output');
    const pid = Number(/^first (\d+)/.exec(first)![1]);
    pids.add(pid);
    // The program cannot have finished: it waits for input nobody sent yet.
    expect(isGone(pid)).toBe(false);
    expect(body.complete).toBe(false);
    expect(proxy.flows()[0]?.phase).toBe('responding');

    req.end('continue\n');
    await withTimeout(body.finished, 5000, 'the end of the streamed response');
    expect(body.complete).toBe(true);
    expect(body.text()).toBe(`first ${pid}\nsecond\n`);

    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.phase).toBe('done');
    expect(flow.error).toBeNull();
    expect(flow.tags).toContain('command');
    expect(flow.request.body.bytes?.toString()).toBe('continue\n');
    expect(flow.response?.status).toBe(200);
    expect(flow.response?.body.bytes?.toString()).toBe(`first ${pid}\nsecond\n`);
    await waitFor(() => isGone(pid), { timeoutMs: 5000, message: `program ${pid} to exit` });
  });

  it('streams over HTTP/2 too: the first DATA arrives before the program ends', async () => {
    const dir = await tempDir();
    const gate = join(dir, 'go');
    // Prints, then polls for a file the test creates only after the first bytes arrived.
    const script = `
      const fs = require('node:fs');
      process.stdout.write('part-one;');
      const t = setInterval(() => {
        if (fs.existsSync(process.argv[1])) { clearInterval(t); process.stdout.write('part-two'); }
      }, 20);`;
    const o = await startOrigin({ http2: true });
    origins.push(o);
    const proxy = await startProxy({ config: commandConfig(nodeScript(script, gate), { filter: '~u /run$', headers: { 'X-Runner': 'node' } }) });
    const session = await openH2Tunnel(proxy.port, o.port, proxyCaPem, (raw) => open.destroy(raw));
    open.destroy(session);
    const stream = session.request({ ':method': 'GET', ':path': '/run' }, { endStream: true });
    const head = await withTimeout(new Promise<http2.IncomingHttpHeaders>((resolve, reject) => stream.once('response', resolve).once('error', reject)), 5000, 'the HTTP/2 response head');
    expect(head[':status']).toBe(200);
    expect(head['x-runner']).toBe('node');
    expect(head['content-type']).toBe('application/octet-stream');
    const body = readIncrementally(stream);
    await body.until((t) => t === 'part-one;', 'the first part');
    expect(body.complete).toBe(false);
    await writeFile(gate, '');
    await withTimeout(body.finished, 5000, 'the end of the HTTP/2 stream');
    expect(body.complete).toBe(true);
    expect(body.text()).toBe('part-one;part-two');
    expect(o.requests).toHaveLength(0);
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.request.httpVersion).toBe('2');
    expect(flow.error).toBeNull();
  });

  // --- input, output, status, headers, stderr ------------------------------------------------

  it('feeds the request body to stdin and answers with the rule status and headers', async () => {
    const proxy = await startProxy({
      config: commandConfig(nodeScript('process.stdin.pipe(process.stdout)'), { status: 201, headers: { 'Content-Type': 'application/x-echo', 'X-Cmd': 'echo' } }),
    });
    const payload = randomBytes(300 * 1024);
    const res = await curlRequest('http://cmd.example/echo', { proxy: proxy.url, data: payload, http: '1.1' });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(201);
    expect(header(res.headers, 'content-type')).toBe('application/x-echo');
    expect(header(res.headers, 'x-cmd')).toBe('echo');
    expect(header(res.headers, 'transfer-encoding')).toBe('chunked');
    expect(res.body.length).toBe(payload.length);
    expect(createHash('sha256').update(res.body).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.error).toBeNull();
    expect(flow.request.body.size).toBe(payload.length);
    expect(flow.response?.body.size).toBe(payload.length);
  });

  it('answers Expect: 100-continue itself, since it reads the body (RFC 9110 §10.1.1)', async () => {
    // The program reads the body, so the proxy is the one that must invite it: a client waiting
    // for 100 (curl does, for 1 s, on uploads over 1 MiB) must not stall.
    const proxy = await startProxy({ config: commandConfig(nodeScript('process.stdin.pipe(process.stdout)')) });
    const raw = await openRaw(proxy.port);
    open.close(raw);
    await raw.write('POST http://cmd.example/upload HTTP/1.1\r\nHost: cmd.example\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n');
    const interim = await raw.readUntil('\r\n\r\n', 3000).then(
      (b) => b.toString('latin1'),
      () => '(no answer within 3 s: a client waiting for 100 Continue stalls here)',
    );
    expect(interim).toMatch(/^HTTP\/1\.1 100 /);
    await raw.write('hello stdin');
    expect(await raw.readHead()).toMatch(/^HTTP\/1\.1 200 /);
    const body = (await raw.readUntil('0\r\n\r\n')).toString('latin1');
    expect(body).toContain('hello stdin');
  });

  it('finishes the flow of a HEAD request when the program ends', async () => {
    // The client gets the head at once; the flow must not wait for the rule's timeout, nor call a
    // program that exited at once one that "ran longer than" it.
    const proxy = await startProxy({ config: commandConfig(nodeScript(`process.stdout.write('x'.repeat(100))`), { timeoutMs: 10_000 }) });
    const res = await curlRequest('http://cmd.example/head', { proxy: proxy.url, method: 'HEAD' });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    const flow = await proxy.waitForFlow((f) => f.kind === 'http', 3000).catch(() => proxy.flows()[0]!);
    expect(flow.request.method).toBe('HEAD');
    expect({ phase: flow.phase, error: flow.error }).toEqual({ phase: 'done', error: null });
  });

  it('answers 200 with an empty body when the program succeeds silently', async () => {
    const proxy = await startProxy({ config: commandConfig(nodeScript('')) });
    const res = await curlRequest('http://cmd.example/quiet', { proxy: proxy.url });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.phase).toBe('done');
    expect(flow.error).toBeNull();
  });

  it('never puts anything from the request into the command line', async () => {
    const proxy = await startProxy({ config: commandConfig(nodeScript('process.stdout.write(JSON.stringify(process.argv.slice(1)))', 'fixed-arg', '$HOME')) });
    const res = await curlRequest("http://cmd.example/x?q=$(id)&r=`id`;id", {
      proxy: proxy.url,
      headers: { 'X-Evil': '"; id; echo "', Cookie: '$(id)' },
      data: '$(id) `id`',
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual(['fixed-arg', '$HOME']);
  });

  it('sends stderr lines to the event log with the flow id', async () => {
    const script = `process.stderr.write('warning one\\nwarning two\\r\\n'); process.stdout.write('ok');`;
    const proxy = await startProxy({ config: commandConfig(nodeScript(script)) });
    const logs = collectLogs(proxy);
    const res = await curlRequest('http://cmd.example/log', { proxy: proxy.url });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok');
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    const mine = logs.filter((l) => l.flowId === flow.id && l.message.startsWith(`${node}: `));
    expect(mine).toEqual([
      { level: 'warn', message: `${node}: warning one`, flowId: flow.id },
      { level: 'warn', message: `${node}: warning two`, flowId: flow.id },
    ]);
    // stderr never reaches the client.
    expect(res.body.toString()).not.toContain('warning');
  });

  // --- failures -------------------------------------------------------------------------------

  it('a non-zero exit before any output is a 502 page naming the program, with its stderr', async () => {
    const script = `process.stderr.write('cannot convert the input\\n'); process.exit(3);`;
    const proxy = await startProxy({ config: commandConfig(nodeScript(script)) });
    const res = await curlRequest('http://cmd.example/fail', { proxy: proxy.url });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(502);
    expect(header(res.headers, 'x-proxyctl-error')).toBe('COMMAND_FAILED');
    const page = res.body.toString();
    expect(page).toContain(node);
    expect(page).toContain('exited with code 3');
    expect(page).toContain('cannot convert the input');
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.phase).toBe('error');
    expect(flow.error?.code).toBe('COMMAND_FAILED');
    expect(flow.error?.message).toContain('exited with code 3');
    expect(flow.response?.status).toBe(502);
  });

  it('a non-zero exit after output keeps the output for the client and records COMMAND_FAILED', async () => {
    const script = `process.stdout.write('partial result\\n', () => process.exit(4));`;
    const proxy = await startProxy({ config: commandConfig(nodeScript(script)) });
    const res = await curlRequest('http://cmd.example/half', { proxy: proxy.url });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('partial result\n');
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.error?.code).toBe('COMMAND_FAILED');
    expect(flow.error?.message).toContain(`${node} exited with code 4`);
    expect(flow.response?.body.bytes?.toString()).toBe('partial result\n');
  });

  it('a program that does not exist is a 502 with COMMAND_FAILED', async () => {
    const missing = '/nonexistent/proxyctl-test/no-such-program';
    const proxy = await startProxy({
      config: configSchema.parse({
        rules: [
          { type: 'command', filter: '~u /abs$', argv: [missing, '--flag'] },
          { type: 'command', filter: '~u /bare$', argv: ['proxyctl-no-such-program-on-path'] },
        ],
      }),
    });
    for (const [path, name] of [
      ['/abs', missing],
      ['/bare', 'proxyctl-no-such-program-on-path'],
    ] as const) {
      const res = await curlRequest(`http://cmd.example${path}`, { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status, path).toBe(502);
      expect(header(res.headers, 'x-proxyctl-error'), path).toBe('COMMAND_FAILED');
      expect(res.body.toString(), path).toContain(name);
      expect(res.body.toString(), path).toContain('ENOENT');
    }
    const flows = await proxy.waitForFlows(2);
    expect(flows.map((f) => f.error?.code)).toEqual(['COMMAND_FAILED', 'COMMAND_FAILED']);
  });

  it('a timeout before any output kills the program and answers 504', async () => {
    const script = `process.stderr.write('pid ' + process.pid + '\\n'); setInterval(() => {}, 1000);`;
    const proxy = await startProxy({ config: commandConfig(nodeScript(script), { timeoutMs: 600 }) });
    const logs = collectLogs(proxy);
    const t0 = performance.now();
    const res = await curlRequest('http://cmd.example/slow', { proxy: proxy.url });
    const elapsed = performance.now() - t0;
    expect(res.status).toBe(504);
    expect(header(res.headers, 'x-proxyctl-error')).toBe('COMMAND_TIMEOUT');
    expect(res.body.toString()).toContain('COMMAND_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(550);
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.error?.code).toBe('COMMAND_TIMEOUT');
    const line = logs.find((l) => l.flowId === flow.id && /: pid \d+$/.test(l.message));
    expect(line, JSON.stringify(logs)).toBeDefined();
    const pid = Number(/pid (\d+)$/.exec(line!.message)![1]);
    pids.add(pid);
    await waitFor(() => isGone(pid), { timeoutMs: 5000, message: `timed-out program ${pid} to be killed` });
  });

  it('a timeout after output started cuts the response and records COMMAND_TIMEOUT', async () => {
    const script = `process.stdout.write('partial ' + process.pid + '\\n'); setInterval(() => {}, 1000);`;
    const proxy = await startProxy({ config: commandConfig(nodeScript(script), { timeoutMs: 800 }) });
    const res = await curlRequest('http://cmd.example/cut', { proxy: proxy.url });
    expect(res.status).toBe(200);
    const text = res.body.toString();
    expect(text).toMatch(/^partial \d+\n$/);
    const pid = Number(/^partial (\d+)/.exec(text)![1]);
    pids.add(pid);
    // curl must not take the cut body for a whole one (18: partial file, 56: receive failure).
    expect(res.exitCode, res.stderr).not.toBe(0);
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.error?.code).toBe('COMMAND_TIMEOUT');
    await waitFor(() => isGone(pid), { timeoutMs: 5000, message: `timed-out program ${pid} to be killed` });
  });

  // --- client disconnect ------------------------------------------------------------------------

  it('kills the program when the client disconnects mid-stream', async () => {
    const script = `process.stdout.write(process.pid + '\\n'); setInterval(() => process.stdout.write('.'), 50);`;
    const proxy = await startProxy({ config: commandConfig(nodeScript(script)) });
    const { req, response } = proxyRequest(proxy, 'http://cmd.example/forever');
    req.end();
    const res = await response;
    expect(res.statusCode).toBe(200);
    const body = readIncrementally(res);
    const first = await body.until((t) => /^\d+\n/.test(t), 'the PID line');
    const pid = Number(first.split('\n')[0]);
    pids.add(pid);
    expect(isGone(pid)).toBe(false);
    req.destroy();
    await waitFor(() => isGone(pid), { timeoutMs: 5000, message: `program ${pid} to be killed after the client left` });
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.error?.code).toBe('CLIENT_ABORTED');
    expect(flow.response?.body.state).toBe('aborted');
  });

  it('kills the program when an HTTP/2 client cancels the stream', async () => {
    const script = `process.stdout.write(process.pid + '\\n'); setInterval(() => process.stdout.write('.'), 50);`;
    const o = await startOrigin({ http2: true });
    origins.push(o);
    const proxy = await startProxy({ config: commandConfig(nodeScript(script), { filter: '~u /h2-forever$' }) });
    const session = await openH2Tunnel(proxy.port, o.port, proxyCaPem, (raw) => open.destroy(raw));
    open.destroy(session);
    const stream = session.request({ ':method': 'GET', ':path': '/h2-forever' }, { endStream: true });
    stream.on('error', () => {
      // The cancel below is ours.
    });
    const body = readIncrementally(stream);
    const first = await body.until((t) => /^\d+\n/.test(t), 'the PID line');
    const pid = Number(first.split('\n')[0]);
    pids.add(pid);
    expect(isGone(pid)).toBe(false);
    stream.close(http2Constants.NGHTTP2_CANCEL);
    await waitFor(() => isGone(pid), { timeoutMs: 5000, message: `program ${pid} to be killed after the stream was cancelled` });
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.error?.code).toBe('CLIENT_ABORTED');
    // Only the stream was cancelled: the session lives on and carries the next request.
    const next = session.request({ ':method': 'GET', ':path': '/hello' }, { endStream: true });
    const hello = readIncrementally(next);
    await withTimeout(hello.finished, 5000, 'a second request on the same session');
    expect(hello.text()).toBe('hello');
  });

  it('kills the program when the client disconnects before any output', async () => {
    const script = `process.stderr.write('pid ' + process.pid + '\\n'); setInterval(() => {}, 1000);`;
    const proxy = await startProxy({ config: commandConfig(nodeScript(script)) });
    const logs = collectLogs(proxy);
    const { req } = proxyRequest(proxy, 'http://cmd.example/silent');
    req.end();
    const line = await waitFor(() => logs.find((l) => /: pid \d+$/.test(l.message)), { timeoutMs: 5000, message: 'the PID on stderr' });
    const pid = Number(/pid (\d+)$/.exec(line.message)![1]);
    pids.add(pid);
    expect(isGone(pid)).toBe(false);
    req.destroy();
    await waitFor(() => isGone(pid), { timeoutMs: 5000, message: `program ${pid} to be killed after the client left` });
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.error?.code).toBe('CLIENT_ABORTED');
  });

  it('kills what the program started too (its process group) when the client disconnects', async () => {
    // `sh` starts `sleep` in the background and prints both PIDs; both must die.
    const proxy = await startProxy({ config: commandConfig(['sh', '-c', 'sleep 30 & echo "$$ $!"; wait']) });
    const { req, response } = proxyRequest(proxy, 'http://cmd.example/group');
    req.end();
    const res = await response;
    const body = readIncrementally(res);
    const line = await body.until((t) => /^\d+ \d+\n/.test(t), 'the two PIDs');
    const [shPid, sleepPid] = line.trim().split(' ').map(Number) as [number, number];
    pids.add(shPid);
    pids.add(sleepPid);
    expect(isGone(shPid)).toBe(false);
    expect(isGone(sleepPid)).toBe(false);
    req.destroy();
    await waitFor(() => isGone(shPid) && isGone(sleepPid), { timeoutMs: 5000, message: `sh ${shPid} and its child sleep ${sleepPid} to be killed` });
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.error?.code).toBe('CLIENT_ABORTED');
  });

  it('kills a running program when the proxy stops', async () => {
    const script = `process.stdout.write(process.pid + '\\n'); setInterval(() => {}, 1000);`;
    const proxy = await startProxy({ config: commandConfig(nodeScript(script)) });
    const { req, response } = proxyRequest(proxy, 'http://cmd.example/shutdown');
    req.end();
    const body = readIncrementally(await response);
    const first = await body.until((t) => /^\d+\n/.test(t), 'the PID line');
    const pid = Number(first.trim());
    pids.add(pid);
    await proxy.stop();
    await waitFor(() => isGone(pid), { timeoutMs: 5000, message: `program ${pid} to be stopped with the proxy` });
  });
});
