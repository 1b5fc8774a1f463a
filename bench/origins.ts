/**
 * Starts the origin servers (origin-server.ts) in a child process and talks to it over IPC.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Scope } from './cleanup.js';
import { cleanEnv, originCaPath, repoRoot } from './env.js';
import type { OriginMessage, OriginRequest } from './origin-protocol.js';
import { cpuMicros } from './proc.js';

const serverPath = fileURLToPath(new URL('./origin-server.ts', import.meta.url));

export interface Origins {
  pid: number;
  /** Plain HTTP/1.1 on 127.0.0.1. */
  httpPort: number;
  /** HTTPS (h2 and http/1.1) on 127.0.0.1, certificate for origin.test and *.origin.test. */
  httpsPort: number;
  /** The origin CA (PEM), for direct TLS clients. */
  ca: string;
  cpuMicros(): number;
  /** Bytes of `/huge` bodies the origin has handed to its sockets so far. */
  hugeBytesWritten(): Promise<number>;
  stop(): Promise<void>;
}

export async function startOrigins(scope: Scope): Promise<Origins> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', serverPath], {
    cwd: repoRoot,
    env: cleanEnv(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  scope.defer(stop);
  const ready = await new Promise<Extract<OriginMessage, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('origin servers did not start within 20 s')), 20_000);
    child.on('message', (m: OriginMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`origin servers exited (code ${code}) before they were ready`));
    });
  });
  const pid = child.pid!;
  return {
    pid,
    httpPort: ready.httpPort,
    httpsPort: ready.httpsPort,
    ca: readFileSync(originCaPath, 'utf8'),
    cpuMicros: () => cpuMicros(pid),
    hugeBytesWritten: () =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('origin did not answer a stats request within 5 s')), 5000);
        const onMessage = (m: OriginMessage) => {
          if (m.type !== 'stats') return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(m.hugeBytesWritten);
        };
        child.on('message', onMessage);
        const req: OriginRequest = { type: 'stats' };
        child.send(req);
      }),
    stop,
  };
}
