/**
 * The thin IO part of `proxyctl replay`: send one planned request straight to its origin (no
 * proxy) over HTTP/1.1 and read the whole response, bounded in time and in bytes held.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIpLiteral } from '../proxy/core/authority.js';
import { classifyUpstreamError, ProxyError } from '../proxy/core/errors.js';
import { pairsFromRaw, rawFromPairs } from '../proxy/core/headers.js';
import type { ReplayedResponse } from './compare.js';
import type { PlannedRequest } from './request-plan.js';

export interface SendOptions {
  /** Bound for the whole exchange, connect to last body byte. @default 30000 */
  timeoutMs: number;
  /** Skip verification of the origin's certificate. @default false */
  insecure: boolean;
  /**
   * Response body bytes kept for comparison; a bigger body is only counted and hashed.
   * @default 67108864
   */
  maxBodyBytes: number;
}

export const defaultSendOptions: SendOptions = { timeoutMs: 30_000, insecure: false, maxBodyBytes: 64 * 1024 * 1024 };

/** Sends requests of one replay run; `close()` ends its keep-alive connections. */
export interface Sender {
  send(req: PlannedRequest): Promise<ReplayedResponse>;
  close(): void;
}

/**
 * A sender with one keep-alive connection per origin (a replay is sequential: one is enough).
 * Failures reject with a `ProxyError` carrying a stable code (UPSTREAM_REFUSED, UPSTREAM_TIMEOUT,
 * UPSTREAM_CERT_* …), the same codes the proxy puts on flows.
 */
export function createSender(opts: SendOptions = defaultSendOptions): Sender {
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: !opts.insecure }),
  };
  return {
    send: (req) => sendOne(req, opts, req.scheme === 'https' ? agents.https : agents.http),
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

function sendOne(req: PlannedRequest, opts: SendOptions, agent: http.Agent): Promise<ReplayedResponse> {
  return new Promise<ReplayedResponse>((resolve, reject) => {
    const common = {
      host: req.host,
      port: req.port,
      method: req.method,
      path: req.path,
      // A raw array keeps the recorded order and case on the wire.
      headers: rawFromPairs(req.headers) as unknown as http.OutgoingHttpHeaders,
      setHost: false,
      agent,
    };
    const out =
      req.scheme === 'https'
        ? https.request({ ...common, ...(isIpLiteral(req.host) ? {} : { servername: req.host }), rejectUnauthorized: !opts.insecure })
        : http.request(common);
    let settled = false;
    const timer = setTimeout(() => out.destroy(new ProxyError('UPSTREAM_TIMEOUT', `no complete response within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(classifyUpstreamError(err));
    };
    out.on('error', fail);
    out.on('response', (res) => {
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      let size = 0;
      let kept = true;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        hash.update(chunk);
        if (!kept) return;
        if (size > opts.maxBodyBytes) {
          // Past the limit only the count and digest are kept (bounded memory, DESIGN.md §1.4).
          kept = false;
          chunks.length = 0;
        } else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('aborted', () => fail(new ProxyError('UPSTREAM_RESET', 'the server closed the connection in the middle of the response body')));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: pairsFromRaw(res.rawHeaders),
          body: kept ? Buffer.concat(chunks, size) : null,
          size,
          sha256: hash.digest('hex'),
        });
      });
    });
    out.end(req.body.length ? req.body : undefined);
  });
}
