/**
 * The sides a scenario compares: the same client, once straight to the origin and once through the
 * proxy. Plain HTTP uses wrk when installed (absolute-form targets through the proxy) or the Node
 * client; HTTPS uses the Node client (neither wrk nor h2load can CONNECT).
 */
import type { Origins } from '../origins.js';
import { ORIGIN_HOST } from '../origin-protocol.js';
import type { ProxyUnderTest } from '../proxy-process.js';
import type { Prepared, RawWindow, Side } from '../windows.js';
import { dialTcp, dialTls, dialTunnel } from './dial.js';
import { H1Pool, type H1Target, type LoadRun } from './h1-pool.js';
import { H2Pool, type H2Target } from './h2-pool.js';
import { runWrk } from './wrk.js';

export function h1Request(target: string, host: string): Buffer {
  return Buffer.from(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: proxyctl-bench\r\n\r\n`, 'latin1');
}

function fromLoadRun(r: LoadRun): RawWindow {
  const [p50, p99] = r.latencies.percentiles(50, 99);
  return { requests: r.requests, errors: r.errors, elapsedMs: r.elapsedMs, bytes: r.bytes, p50Ms: p50!, p99Ms: p99! };
}

function poolSide(pool: H1Pool | H2Pool): Prepared {
  return {
    run: async (durationMs) => fromLoadRun(await pool.run({ durationMs })),
    close: () => pool.close(),
  };
}

/** Plain HTTP/1.1 to the origin, or through the proxy with absolute-form targets. */
export function plainTarget(origins: Origins, proxy: ProxyUnderTest | null, path: string): H1Target {
  const host = `127.0.0.1:${origins.httpPort}`;
  return proxy
    ? { dial: () => dialTcp(proxy.port), request: h1Request(`http://${host}${path}`, host) }
    : { dial: () => dialTcp(origins.httpPort), request: h1Request(path, host) };
}

/** HTTPS HTTP/1.1 to origin.test: direct TLS, or CONNECT + TLS with the proxy's CA. */
export function httpsH1Target(origins: Origins, proxy: ProxyUnderTest | null, path: string): H1Target {
  const host = `${ORIGIN_HOST}:${origins.httpsPort}`;
  const alpn = ['http/1.1'];
  return {
    dial: proxy
      ? () => dialTunnel(proxy.port, ORIGIN_HOST, origins.httpsPort, { servername: ORIGIN_HOST, ca: proxy.ca, alpn })
      : () => dialTls(origins.httpsPort, { servername: ORIGIN_HOST, ca: origins.ca, alpn }),
    request: h1Request(path, host),
  };
}

export function httpsH2Target(origins: Origins, proxy: ProxyUnderTest | null, path: string): H2Target {
  const alpn = ['h2'];
  return {
    dial: proxy
      ? () => dialTunnel(proxy.port, ORIGIN_HOST, origins.httpsPort, { servername: ORIGIN_HOST, ca: proxy.ca, alpn })
      : () => dialTls(origins.httpsPort, { servername: ORIGIN_HOST, ca: origins.ca, alpn }),
    origin: `https://${ORIGIN_HOST}:${origins.httpsPort}`,
    path,
  };
}

export function plainSide(name: string, origins: Origins, proxy: ProxyUnderTest | null, path: string, connections: number, useWrk: boolean): Side {
  if (useWrk) {
    const host = `127.0.0.1:${origins.httpPort}`;
    return {
      name,
      loadgen: 'wrk',
      proxy,
      prepare: async () => ({
        run: async (durationMs) => {
          const r = await runWrk({
            connectPort: proxy ? proxy.port : origins.httpPort,
            path: proxy ? `http://${host}${path}` : path,
            host,
            connections,
            // wrk takes whole seconds.
            durationS: Math.max(1, Math.round(durationMs / 1000)),
          });
          return { ...r, loadgenCpuMicros: r.cpuMicros };
        },
        close: () => {},
      }),
    };
  }
  return { name, loadgen: 'node h1', proxy, prepare: async () => poolSide(await H1Pool.open(plainTarget(origins, proxy, path), connections)) };
}

export function httpsH1Side(name: string, origins: Origins, proxy: ProxyUnderTest | null, path: string, connections: number): Side {
  return { name, loadgen: 'node h1', proxy, prepare: async () => poolSide(await H1Pool.open(httpsH1Target(origins, proxy, path), connections)) };
}

export function httpsH2Side(name: string, origins: Origins, proxy: ProxyUnderTest | null, path: string, sessions: number, streamsPerSession: number): Side {
  return {
    name,
    loadgen: 'node h2',
    proxy,
    prepare: async () => poolSide(await H2Pool.open(httpsH2Target(origins, proxy, path), sessions, streamsPerSession)),
  };
}
