/**
 * One request on a brand-new connection, timed from the first connect to the end of the response:
 * what a client pays for its first request to a host (TCP, CONNECT, TLS handshake, request).
 */
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { H1Connection } from './h1-pool.js';

const LIMIT_MS = 15_000;

export async function timeFirstRequest(dial: () => Promise<net.Socket>, request: Buffer): Promise<number> {
  const t0 = performance.now();
  const socket = await dial();
  try {
    const conn = new H1Connection(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response within ${LIMIT_MS} ms`)), LIMIT_MS);
      conn.onResponse = (status) => {
        clearTimeout(timer);
        if (status === 200) resolve();
        else reject(new Error(`status ${status}`));
      };
      conn.onClose = () => {
        clearTimeout(timer);
        reject(new Error('connection closed before the response'));
      };
      conn.send(request, performance.now());
    });
    return performance.now() - t0;
  } finally {
    socket.destroy();
  }
}
