import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { FlowError, HeaderPairs } from '../core/flow.js';
import { BodyCapturer } from '../core/capture.js';
import { hasHeader } from '../core/headers.js';
import { ProxyError } from '../core/errors.js';
import type { HookDecision } from '../core/pipeline.js';
import type { Exchange } from './exchange.js';
import { localFileHeaders, resolveLocalFile } from './local-files.js';
import { runCommand, type CommandResult } from './command-runner.js';

/** Stderr lines kept for the error page of a command that failed before it wrote anything. */
const STDERR_TAIL_LINES = 20;

/** map-local: answer from a file, or 404/403 with a page that says why. */
export async function answerFromLocalFile(ex: Exchange, root: string, urlPath: string): Promise<void> {
  const found = await resolveLocalFile(root, urlPath);
  if (ex.flow.phase === 'done' || ex.flow.phase === 'error') return;
  if (found.kind !== 'file') {
    const status = found.kind === 'not-found' ? 404 : 403;
    ex.respondLocally({ status, headers: [['Content-Type', 'text/plain; charset=utf-8'], ['Cache-Control', 'no-store']], body: `proxyctl map-local: ${found.reason}: ${urlPath} in ${root}\n` });
    return;
  }
  const stream = createReadStream(found.path);
  ex.streamLocal(200, localFileHeaders(found), stream);
}

type RunCommandDecision = Extract<HookDecision, { action: 'run-command' }>;

/**
 * Command responder: run the rule's program, feed it the request body, and stream its stdout to
 * the client as it comes (chunked on HTTP/1.1). The response head waits for the first output
 * byte, so a program that cannot start or fails at once gets an honest error page instead of an
 * empty 200. After output has started, a timeout cuts the response (the client sees it
 * incomplete); a non-zero exit ends it normally and is recorded on the flow.
 */
export function answerWithCommand(ex: Exchange, d: RunCommandDecision, held: Buffer | null): void {
  const { env, flow } = ex;
  const program = d.argv[0] ?? '';
  const run = runCommand(d.argv, { timeoutMs: d.timeoutMs });
  ex.setUpstream({ destroy: () => run.kill('client-gone') });
  const stderrTail: string[] = [];
  run.onStderrLine((line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    env.deps.bus.log('warn', `${program}: ${line}`, flow.id);
  });
  run.stdin.on('error', () => {
    /* EPIPE when the program does not read its input; the runner reports how it ended */
  });
  if (held) run.stdin.end(held);
  else {
    ex.continueIfExpected();
    // The request body goes to stdin as it arrives, captured on the flow like a forwarded one.
    const capture = new BodyCapturer(flow.request.body, env.opts.maxBodyBytes);
    ex.req.on('data', (chunk: Buffer) => capture.push(chunk));
    ex.req.once('end', () => {
      capture.finish('complete');
      flow.timings.requestEnd = ex.now();
    });
    ex.req.once('close', () => capture.finish('aborted')); // no-op once 'end' sealed it
    ex.req.pipe(run.stdin);
  }
  flow.phase = 'waiting';
  flow.timings.upstreamSent = ex.now();
  env.emitter.update(flow);

  const headers: HeaderPairs = hasHeader(d.headers, 'content-type') ? [...d.headers] : [...d.headers, ['Content-Type', 'application/octet-stream']];
  const body = new PassThrough();
  // A HEAD answer (or a client gone) destroys the body: keep draining the program's output so it
  // can finish instead of blocking on a full pipe until the timeout.
  body.once('close', () => {
    if (run.stdout.destroyed) return;
    run.stdout.unpipe(body); // unpiping pauses the source; resume it after
    run.stdout.resume();
  });
  let started = false;
  const start = (first: Buffer | null) => {
    started = true;
    if (first) body.write(first);
    run.stdout.pipe(body, { end: false });
    ex.streamLocal(d.status, headers, body, { ended: run.result.then((r) => errorOf(program, r)) });
  };
  run.stdout.once('data', (chunk: Buffer) => {
    run.stdout.pause();
    start(chunk);
    run.stdout.resume();
  });
  void run.result.then((result) => {
    const error = errorOf(program, result);
    if (!started) {
      if (result.killedFor === 'client-gone' || result.killedFor === 'shutdown') return;
      if (error) {
        const tail = stderrTail.length ? `\n\nstderr:\n${stderrTail.join('\n')}` : '';
        ex.fail(new ProxyError(error.code, `${error.message}${tail}`));
        return;
      }
      start(null);
      body.end();
      return;
    }
    if (result.killedFor === 'timeout') {
      // Output had started: cut the response so the client cannot take it for complete.
      ex.fail(new ProxyError('COMMAND_TIMEOUT', `${program} ran longer than ${d.timeoutMs} ms and was killed`));
      return;
    }
    body.end();
  });
}

/** How a finished command reads on the flow (null when it succeeded). */
function errorOf(program: string, r: CommandResult): FlowError | null {
  if (r.spawnError) return { code: 'COMMAND_FAILED', message: `cannot run ${program}: ${r.spawnError}` };
  if (r.killedFor === 'timeout') return { code: 'COMMAND_TIMEOUT', message: `${program} ran out of time and was killed` };
  if (r.killedFor === 'client-gone') return { code: 'CLIENT_ABORTED', message: `the client went away; ${program} was killed` };
  if (r.killedFor === 'shutdown') return { code: 'KILLED', message: `${program} was stopped at shutdown` };
  if (r.exitCode !== 0) return { code: 'COMMAND_FAILED', message: r.signal ? `${program} was killed by ${r.signal}` : `${program} exited with code ${r.exitCode}` };
  return null;
}
