/**
 * HTTP/2 load: one session per connection (direct TLS to the origin, or TLS inside a CONNECT tunnel),
 * each running a fixed number of concurrent streams in a closed loop. Sessions are set up before a
 * window starts.
 */
import http2 from 'node:http2';
import type tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { ClosedLoop, type ClosedLoopOptions, type LoadRun } from './closed-loop.js';

export interface H2Target {
  /** Opens one TLS connection that negotiated h2. */
  dial: () => Promise<tls.TLSSocket>;
  /** `https://host:port` used for :authority and :scheme. */
  origin: string;
  path: string;
}

/** Large windows: bulk transfers under the 64 KiB defaults measure flow control, not the proxy. */
const WINDOW = 16 * 1024 * 1024;

export class H2Pool {
  private constructor(
    private readonly target: H2Target,
    readonly sessions: http2.ClientHttp2Session[],
    private readonly streamsPerSession: number,
  ) {}

  static async open(target: H2Target, sessions: number, streamsPerSession: number): Promise<H2Pool> {
    const list: http2.ClientHttp2Session[] = [];
    const pool = new H2Pool(target, list, streamsPerSession);
    try {
      for (let i = 0; i < sessions; i += 50) {
        const sockets = await Promise.all(Array.from({ length: Math.min(50, sessions - i) }, () => target.dial()));
        for (const socket of sockets) {
          if (socket.alpnProtocol !== 'h2') {
            socket.destroy();
            throw new Error(`${target.origin}: ALPN chose ${String(socket.alpnProtocol)}, not h2`);
          }
          const session = http2.connect(target.origin, { createConnection: () => socket, settings: { initialWindowSize: WINDOW } });
          session.on('error', () => {
            // Counted on the streams that fail.
          });
          session.on('connect', () => session.setLocalWindowSize(WINDOW));
          list.push(session);
        }
      }
      const warm = await pool.run({ maxRequests: sessions, hardLimitMs: 30_000 });
      if (warm.errors > 0) throw new Error(`${target.origin}${target.path}: ${warm.errors} of ${sessions} warm-up requests failed over h2`);
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  run(opts: ClosedLoopOptions): Promise<LoadRun> {
    const headers = { ':method': 'GET', ':path': this.target.path };
    const loop = new ClosedLoop(opts);
    const next = (session: http2.ClientHttp2Session) => {
      const now = performance.now();
      if (session.closed || session.destroyed || !loop.maySend(now)) {
        loop.leave();
        return;
      }
      let status = 0;
      let bytes = 0;
      let ended = false;
      const stream = session.request(headers);
      stream.on('response', (h) => {
        status = Number(h[':status']);
      });
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      const end = (ok: boolean) => {
        if (ended) return;
        ended = true;
        const t = performance.now();
        loop.record(t, t - now, bytes, ok && status === 200);
        next(session);
      };
      stream.on('end', () => end(true));
      stream.on('error', () => end(false));
      stream.on('close', () => end(false));
      stream.end();
    };
    for (const session of this.sessions) {
      for (let s = 0; s < this.streamsPerSession; s++) {
        loop.join();
        next(session);
      }
    }
    loop.settleIfEmpty();
    return loop.done;
  }

  close(): void {
    for (const s of this.sessions) s.destroy();
  }
}
