import type { HeaderPairs } from '../core/flow.js';
import type { RequestTarget } from '../net/exchange-base.js';
import type { Backend } from './backend.js';
import { addForwardedHeaders, backendHostHeader, type ForwardedFacts } from './forwarded.js';
import type { BackendGroup } from './group.js';
import type { ForwardedSettings } from './settings.js';

/**
 * One request's hold on a backend: counts it in flight from the choice until `release()` (which
 * the exchange calls exactly when it ends, however it ends), reports its outcome to the group's
 * passive health once per attempt, and moves to another backend once for a retry.
 */
export class BackendLease {
  private held = true;
  /** This attempt's outcome went to passive health already. */
  private settled = false;
  /** The one retry was used. */
  retried = false;

  constructor(
    readonly group: BackendGroup,
    private current: Backend,
    /** The client's path after the route (prefix stripped or not), before the backend's prefix. */
    readonly path: string,
    /** The client's address (ip-hash chooses by it, for the retry too). */
    private readonly client: string,
    private readonly forwarded: ForwardedSettings,
    /** `rewrite`: the backend gets its own authority as Host. */
    readonly hostMode: 'keep' | 'rewrite',
  ) {
    acquire(current);
  }

  get backend(): Backend {
    return this.current;
  }

  target(): RequestTarget {
    return this.current.target(this.path);
  }

  /** Forwarding headers and the Host policy applied to the client's request headers. */
  requestHeaders(headers: HeaderPairs, facts: ForwardedFacts): HeaderPairs {
    return this.hostHeaders(addForwardedHeaders(headers, facts, this.forwarded));
  }

  /** The Host policy alone (after a retry moved the request to another backend). */
  hostHeaders(headers: HeaderPairs): HeaderPairs {
    return backendHostHeader(headers, this.hostMode, this.current.authority);
  }

  /** The attempt failed (connection failure, reset, timeout): passive health counts it. */
  failed(detail: string): void {
    if (this.settled) return;
    this.settled = true;
    this.group.record(this.current, { type: 'request', ok: false, detail, at: this.group.now() });
  }

  /** The backend answered: a 5xx counts as a failure, anything else clears the failure streak. */
  responded(status: number): void {
    if (this.settled) return;
    this.settled = true;
    this.group.record(this.current, { type: 'request', ok: status < 500, detail: `HTTP ${status}`, at: this.group.now() });
  }

  /** Move to another healthy backend for the one retry; null when it was used or none is left. */
  failover(): Backend | null {
    if (this.retried || !this.held) return null;
    const next = this.group.choose(this.client, this.current);
    if (!next) return null;
    this.retried = true;
    release(this.current);
    this.current = next;
    this.settled = false;
    acquire(next);
    return next;
  }

  /** The exchange ended. Idempotent. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    release(this.current);
  }
}

function acquire(b: Backend): void {
  b.inFlight++;
  b.requests++;
}

function release(b: Backend): void {
  b.inFlight = Math.max(0, b.inFlight - 1);
}
