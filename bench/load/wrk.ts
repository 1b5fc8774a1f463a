/**
 * wrk (Debian package `wrk`) as the plain-HTTP load generator: a C client that is not the bottleneck.
 * It reaches a forward proxy by connecting to it and sending absolute-form targets (wrk-report.lua).
 * Its own CPU time comes from bash's `times` after it exits (children's user and system time).
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RawWindow } from '../windows.js';

const script = fileURLToPath(new URL('./wrk-report.lua', import.meta.url));

export const WRK_INSTALL_HINT = 'apt-get install -y wrk';

let available: boolean | undefined;

export function wrkAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync('wrk', ['--version'], { stdio: 'ignore' });
      available = true;
    } catch (err) {
      // `wrk --version` prints its usage and exits 1; only a missing binary is ENOENT.
      available = (err as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }
  return available;
}

export interface WrkOptions {
  /** Where wrk connects: the origin or the proxy. */
  connectPort: number;
  /** Request target: a path, or an absolute URL through a proxy. */
  path: string;
  /** Host header. */
  host: string;
  connections: number;
  durationS: number;
}

/** A window's figures, with wrk's own CPU time (user + system, microseconds) from bash `times`. */
export type WrkRun = Omit<RawWindow, 'loadgenCpuMicros'> & { cpuMicros: number };

/** Parse bash `times` output: the second line holds the children's user and system time. */
function parseTimes(text: string): number {
  const lines = text.trim().split('\n');
  const child = lines[lines.length - 1] ?? '';
  let total = 0;
  for (const m of child.matchAll(/(\d+)m([\d.]+)s/g)) total += Number(m[1]) * 60 + Number(m[2]);
  return total * 1e6;
}

export function runWrk(opts: WrkOptions): Promise<WrkRun> {
  const args = ['-t1', `-c${opts.connections}`, `-d${opts.durationS}s`, '--timeout', '5s', '-s', script, `http://127.0.0.1:${opts.connectPort}/`];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', 'wrk "$@"; rc=$?; echo BENCH_TIMES; times; exit $rc', 'bash', ...args], {
      env: { ...process.env, BENCH_PATH: opts.path, BENCH_HOST: opts.host },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), (opts.durationS + 30) * 1000);
    child.on('error', (e) => {
      clearTimeout(guard);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(guard);
      const json = /BENCH_JSON (\{.*\})/.exec(out);
      if (code !== 0 || !json) {
        reject(new Error(`wrk failed (exit ${code}): ${err.trim() || out.trim()}`));
        return;
      }
      const r = JSON.parse(json[1]!) as { requests: number; durationUs: number; bytes: number; socketErrors: number; statusErrors: number; p50Us: number; p99Us: number };
      resolve({
        requests: r.requests,
        errors: r.socketErrors + r.statusErrors,
        elapsedMs: r.durationUs / 1000,
        bytes: r.bytes,
        p50Ms: r.p50Us / 1000,
        p99Ms: r.p99Us / 1000,
        cpuMicros: parseTimes(out.slice(out.indexOf('BENCH_TIMES'))),
      });
    });
  });
}
