import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { isIpLiteral } from '../core/authority.js';
import { classifyUpstreamError } from '../core/errors.js';
import { makeLookup } from '../net/upstream.js';
import { originTrust } from '../net/origin-trust.js';

/** One active check's verdict: ok for a 2xx/3xx answer within the timeout. */
export interface ProbeResult {
  ok: boolean;
  /** `HTTP 200`, `HTTP 503`, `connection refused …`, `no response within 1000 ms`. */
  detail: string;
}

/** Ask `url` once; never rejects. Aborting stops it (shutdown). */
export type HealthProbe = (url: string, timeoutMs: number, signal: AbortSignal) => Promise<ProbeResult>;

export interface ProbeOptions {
  /** Skip certificate verification of https backends (`--insecure`). */
  insecure: boolean;
  /** Extra trust anchors for https backends, as upstream connections use. */
  ca: string[] | null;
  /** Host overrides (`--resolve`). */
  resolve: ReadonlyMap<string, string>;
}

/**
 * The real probe: a GET on a fresh connection (no keep-alive, so a backend whose port went away is
 * noticed at once), judged on the response head; the body is read and discarded.
 */
export function httpProbe(opts: ProbeOptions): HealthProbe {
  const lookup = makeLookup(opts.resolve) as unknown as net.LookupFunction;
  const secureContext = originTrust(opts.ca);
  return (url, timeoutMs, signal) =>
    new Promise<ProbeResult>((resolve) => {
      const u = new URL(url);
      const secure = u.protocol === 'https:';
      const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
      let done = false;
      const finish = (r: ProbeResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const req = (secure ? https : http).request({
        host,
        port: u.port || (secure ? 443 : 80),
        path: `${u.pathname}${u.search}`,
        method: 'GET',
        headers: { Host: u.host, 'User-Agent': 'proxyctl-health-check', Connection: 'close' },
        agent: false,
        lookup,
        ...(secure ? { rejectUnauthorized: !opts.insecure, secureContext, ...(isIpLiteral(host) ? {} : { servername: host }) } : {}),
      });
      const timer = setTimeout(() => {
        finish({ ok: false, detail: `no response within ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      const onAbort = () => {
        finish({ ok: false, detail: 'stopped' });
        req.destroy();
      };
      signal.addEventListener('abort', onAbort);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.on('error', () => {
          /* the verdict came from the head; a broken body changes nothing */
        });
        finish({ ok: status >= 200 && status < 400, detail: `HTTP ${status}` });
      });
      req.on('error', (err) => finish({ ok: false, detail: classifyUpstreamError(err).message }));
      req.end();
    });
}
