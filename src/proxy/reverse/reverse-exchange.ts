import type { Readable } from 'node:stream';
import type { ProxyError } from '../core/errors.js';
import { emptyBody, type ClientInfo } from '../core/flow.js';
import type { ClientRequest, ClientResponse } from '../net/client-side.js';
import { Exchange, type ExchangeEnv } from '../net/exchange.js';
import type { ForwardedFacts } from './forwarded.js';
import type { BackendLease } from './lease.js';
import { isIdempotent } from '../core/http-syntax.js';
import { RetryBody } from './retry-body.js';
import type { UpstreamH1Request } from '../net/h1-client/request.js';

/**
 * An exchange in reverse mode: the ordinary exchange (rules, breakpoints, capture, recording)
 * towards the backend its lease chose, plus what reverse mode adds: forwarding headers and the
 * Host policy, passive health (the outcome of every attempt counts for its backend), one retry on
 * another backend for an idempotent request whose connection failed before anything was sent, and
 * the lease released exactly when the client side closes, however the exchange ended.
 */
export class ReverseExchange extends Exchange {
  /** Null once a rule (map-remote) or an edit sent the request away from the backend. */
  private lease: BackendLease | null;
  /** The current attempt's connection is up: bytes may have reached the backend. */
  private connected = false;
  /** The current attempt handed the body to an upstream request or stream. */
  private bodySent = false;
  /** A streamed body kept while connecting, for a retry. */
  private retryBody: RetryBody | null = null;

  constructor(env: ExchangeEnv, req: ClientRequest, res: ClientResponse, lease: BackendLease, client: ClientInfo, facts: ForwardedFacts) {
    super(env, req, res, lease.target(), client);
    this.lease = lease;
    const r = this.flow.request;
    r.headers = lease.requestHeaders(r.headers, facts);
    if (lease.hostMode === 'rewrite') this.authority = lease.backend.authority;
    res.once('close', () => lease.release());
  }

  protected override startingAttempt(): void {
    this.connected = false;
    this.bodySent = false;
    this.retryBody = null;
    const lease = this.lease;
    if (!lease) return;
    const r = this.flow.request;
    const b = lease.backend;
    if (r.scheme !== b.scheme || r.host !== b.host || r.port !== b.port) {
      lease.release();
      this.lease = null;
    }
  }

  protected override sending(protocol: 'h1' | 'h2'): void {
    this.bodySent = true;
    // An HTTP/2 stream goes out on a session that is up already.
    if (protocol === 'h2') this.connected = true;
    else if (this.lease && !this.lease.retried && isIdempotent(this.flow.request.method) && !Buffer.isBuffer(this.body) && !this.noBody()) {
      // Keep what is read of a streamed body while connecting, so a failed connection can be retried.
      this.retryBody = new RetryBody(this.body ?? this.req);
    }
  }

  protected override sentH1(upReq: UpstreamH1Request): void {
    if (!this.lease) return;
    upReq.whenConnected(() => {
      this.connected = true;
      this.retryBody?.connected();
    });
  }

  protected override upstreamAnswered(status: number): void {
    this.lease?.responded(status);
  }

  protected override upstreamFailed(err: ProxyError): void {
    if (this.lease && !this.connected && !this.isFinished() && this.failover(err)) return;
    this.fail(err);
  }

  /** An upstream failure also counts against the backend (passive health), once per attempt. */
  override fail(error: ProxyError): void {
    if (this.lease && !this.isFinished() && (error.code.startsWith('UPSTREAM_') || error.code === 'STREAM_RESET')) this.lease.failed(error.message);
    super.fail(error);
  }

  /**
   * Send the request to another healthy backend after its connection failed. The flow stays one
   * record: tagged `retry:FAILED-URL`, its server the backend that finally answered. False when it
   * cannot be retried (not idempotent, retried already, a body that cannot be replayed, no other
   * healthy backend).
   */
  private failover(err: ProxyError): boolean {
    const lease = this.lease!;
    const { flow, env } = this;
    const r = flow.request;
    if (lease.retried || !isIdempotent(r.method)) return false;
    // A streamed body already handed to the failed request: replayable only from what was kept
    // (and not through a throttle, whose own buffer is left with the failed request).
    const streamed = this.bodySent && !Buffer.isBuffer(this.body) && !this.noBody();
    if (streamed && (!this.retryBody?.canReplay || this.ctx?.throttleSpec?.bytesPerSecond)) return false;
    const failed = lease.backend;
    lease.failed(err.message);
    const next = lease.failover();
    if (!next) return false;
    let body: Buffer | Readable | null = this.body;
    if (streamed) {
      body = this.retryBody!.replay();
      r.body = emptyBody();
      this.captures.length = 0; // the failed attempt's capture; the retry captures the body afresh
    } else if (this.bodySent && !Buffer.isBuffer(body)) body = Buffer.alloc(0);
    this.clearTimer();
    this.upstream = null;
    const t = lease.target();
    r.scheme = t.scheme;
    r.host = t.host;
    r.port = t.port;
    r.path = t.path;
    r.headers = lease.hostHeaders(r.headers);
    if (lease.hostMode === 'rewrite') this.authority = next.authority;
    flow.server = { host: t.host, port: t.port, address: null, tlsVersion: null, alpn: null, certificate: null };
    flow.timings.upstreamConnect = null;
    flow.timings.upstreamTls = null;
    flow.tags.push(`retry:${failed.url}`);
    env.deps.bus.log('warn', `${r.method} ${r.path}: backend ${failed.url} failed (${err.message}); retried on ${next.url}`, flow.id);
    this.forward(body);
    return true;
  }
}
