/**
 * The real `curl` binary as a test client (end-to-end tests, DESIGN.md §2 `test/e2e`). Every call is
 * bounded twice: curl's own `--max-time` and a kill timer a little later. Ambient proxy variables and
 * `~/.curlrc` are ignored so that only what the test passes counts.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CurlOptions {
  /** Bound for the whole transfer (`--max-time`); the process is killed 2 s later. @default 10000 */
  timeoutMs?: number;
  /** Extra environment (merged over the cleaned process environment). */
  env?: NodeJS.ProcessEnv;
  /** Bytes for curl's stdin (e.g. with `--data-binary @-`). */
  input?: Buffer;
}

export interface CurlRun {
  /** curl's exit code (28 = timed out, 7 = could not connect, 60 = certificate problem …); -1 if killed. */
  code: number;
  stdout: Buffer;
  stderr: string;
}

const PROXY_VARS = /^(https?_proxy|all_proxy|no_proxy|ftp_proxy)$/i;

/** The process environment without proxy variables, plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!PROXY_VARS.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Run `curl -q --silent --show-error --max-time S ...args`. Never rejects for a curl failure. */
export function curl(args: string[], opts: CurlOptions = {}): Promise<CurlRun> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // `-q` must come first: it makes curl skip ~/.curlrc.
  const argv = ['-q', '--silent', '--show-error', '--max-time', String(timeoutMs / 1000), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn('curl', argv, { env: cleanEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs + 2000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {
      // curl may exit before reading all of stdin (e.g. connection refused); its exit code tells why.
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`could not run curl: ${e.message}`, { cause: e }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8') + (killed ? `\n[curl killed after ${timeoutMs + 2000} ms]` : '');
      resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}

export interface CurlRequestOptions {
  /** `--proxy`, e.g. `http://127.0.0.1:8080`. */
  proxy?: string;
  /** `--cacert` path (trust anchor for the origin, or for proxyctl's CA when intercepting). */
  cacert?: string;
  /** Method; `HEAD` uses `--head` so curl does not wait for a body. */
  method?: string;
  /** Request body, sent with `--data-binary @-` from stdin. */
  data?: string | Buffer;
  /** Request headers, in order (`-H 'Name: value'`; an empty value is sent as `Name;`). */
  headers?: Array<[string, string]> | Record<string, string>;
  /** `1.1` → `--http1.1`, `2` → `--http2` (ALPN), `2-prior-knowledge` → h2c without upgrade. */
  http?: '1.0' | '1.1' | '2' | '2-prior-knowledge';
  /** `--insecure`. */
  insecure?: boolean;
  /** More curl arguments, placed before the URL. */
  extra?: string[];
  /** @default 10000 */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface HeaderBlock {
  /** Status line as received, e.g. `HTTP/1.1 200 OK`. */
  statusLine: string;
  status: number;
  /** Headers in wire order and case. */
  headers: Array<[string, string]>;
}

export interface CurlResponse {
  /** Final status (0 when no response came). */
  status: number;
  /** `1.0`, `1.1`, `2` or `3`, as curl reports it (`0` when no response). */
  httpVersion: string;
  /** Headers of the final response, in wire order and case. */
  headers: Array<[string, string]>;
  /** Trailers of the final response (chunked H1 or H2), in order. */
  trailers: Array<[string, string]>;
  /** Earlier header blocks: 1xx interim responses and a proxy's CONNECT answer. */
  interim: HeaderBlock[];
  body: Buffer;
  exitCode: number;
  stderr: string;
  /** curl's `--write-out '%{json}'` variables (time_*, num_connects, ssl_verify_result …). */
  info: Record<string, unknown>;
}

/** First value of a header in a pair list, case-insensitive. */
export function header(headers: Array<[string, string]>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([k]) => k.toLowerCase() === lower)?.[1];
}

/** One request with curl, returning status, version, raw headers and body. */
export async function curlRequest(url: string, opts: CurlRequestOptions = {}): Promise<CurlResponse> {
  const dir = await mkdtemp(join(tmpdir(), 'proxyctl-curl-'));
  const headerFile = join(dir, 'headers');
  const bodyFile = join(dir, 'body');
  try {
    const args = ['-D', headerFile, '-o', bodyFile, '--write-out', '%{json}'];
    if (opts.proxy) args.push('--proxy', opts.proxy);
    if (opts.cacert) args.push('--cacert', opts.cacert);
    if (opts.insecure) args.push('--insecure');
    switch (opts.http) {
      case undefined:
        break;
      case '1.0':
        args.push('--http1.0');
        break;
      case '1.1':
        args.push('--http1.1');
        break;
      case '2':
        args.push('--http2');
        break;
      case '2-prior-knowledge':
        args.push('--http2-prior-knowledge');
        break;
    }
    const method = opts.method?.toUpperCase();
    if (method === 'HEAD') args.push('--head');
    else if (method) args.push('-X', method);
    const headerList = Array.isArray(opts.headers) ? opts.headers : Object.entries(opts.headers ?? {});
    for (const [k, v] of headerList) args.push('-H', v === '' ? `${k};` : `${k}: ${v}`);
    let input: Buffer | undefined;
    if (opts.data !== undefined) {
      input = typeof opts.data === 'string' ? Buffer.from(opts.data) : opts.data;
      args.push('--data-binary', '@-');
    }
    args.push(...(opts.extra ?? []), '--', url);
    const run = await curl(args, { timeoutMs: opts.timeoutMs ?? 10_000, env: opts.env ?? {}, ...(input ? { input } : {}) });

    let info: Record<string, unknown> = {};
    try {
      info = JSON.parse(run.stdout.toString('utf8')) as Record<string, unknown>;
    } catch {
      // Killed before --write-out ran: no variables; exitCode and stderr say what happened.
    }
    const dump = await readFile(headerFile).catch(() => Buffer.alloc(0));
    const { blocks, trailers } = parseHeaderDump(dump.toString('latin1'));
    const final = blocks.at(-1);
    return {
      status: final?.status ?? 0,
      httpVersion: typeof info['http_version'] === 'string' ? info['http_version'] : '0',
      headers: final?.headers ?? [],
      trailers,
      interim: blocks.slice(0, -1),
      // With --head curl writes the headers to the output file too; a HEAD response has no body.
      body: method === 'HEAD' ? Buffer.alloc(0) : await readFile(bodyFile).catch(() => Buffer.alloc(0)),
      exitCode: run.code,
      stderr: run.stderr,
      info,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Parse curl's `-D` dump: header blocks, each starting with a status line and ending with an empty
 * line; lines after the last block's empty line are trailers (curl dumps those too).
 */
export function parseHeaderDump(text: string): { blocks: HeaderBlock[]; trailers: Array<[string, string]> } {
  const blocks: HeaderBlock[] = [];
  const trailers: Array<[string, string]> = [];
  let current: HeaderBlock | null = null;
  let inTrailers = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^HTTP\/\S+ \d{3}/.test(line)) {
      const status = Number(/^HTTP\/\S+ (\d{3})/.exec(line)![1]);
      current = { statusLine: line, status, headers: [] };
      blocks.push(current);
      inTrailers = false;
      trailers.length = 0;
      continue;
    }
    if (line === '') {
      if (current) inTrailers = true;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const pair: [string, string] = [line.slice(0, colon), line.slice(colon + 1).trim()];
    if (inTrailers) trailers.push(pair);
    else current?.headers.push(pair);
  }
  return { blocks, trailers };
}
