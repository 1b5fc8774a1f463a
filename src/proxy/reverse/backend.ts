import { hostHeader } from '../core/authority.js';
import type { RequestTarget } from '../net/exchange-base.js';
import { INITIAL_HEALTH, type HealthState } from './health-state.js';
import { joinBackendPath } from './routing.js';
import type { BackendStatus } from './status.js';

/**
 * One backend of a group at run time: where it is, its health, and its counters. Mutated only by
 * its group (health, via the pure reducer) and by leases (in-flight and request counts).
 */
export class Backend {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** The URL's path, prepended to every request path (`/` for none). */
  readonly pathPrefix: string;
  /** `host[:port]` as a Host header names it. */
  readonly authority: string;
  health: HealthState = INITIAL_HEALTH;
  inFlight = 0;
  requests = 0;
  failures = 0;
  /** Epoch ms of the next active check, null when none is scheduled. */
  nextCheckAt: number | null = null;

  constructor(
    readonly group: string,
    /** Position in the group (the balancers' index). */
    readonly index: number,
    /** The URL as configured. */
    readonly url: string,
    readonly weight: number,
  ) {
    const u = new URL(url);
    this.scheme = u.protocol === 'https:' ? 'https' : 'http';
    // URL keeps brackets round IPv6 literals; the rest of proxyctl uses bare addresses.
    this.host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    this.port = u.port ? Number(u.port) : this.scheme === 'https' ? 443 : 80;
    this.pathPrefix = u.pathname || '/';
    this.authority = hostHeader(this.scheme, this.host, this.port);
  }

  get healthy(): boolean {
    return this.health.healthy;
  }

  /** The request target for a path the client asked for (after a route's prefix strip). */
  target(path: string): RequestTarget {
    return { scheme: this.scheme, host: this.host, port: this.port, path: joinBackendPath(this.pathPrefix, path) };
  }

  /** The backend's origin plus a path of its own (health checks ignore the path prefix). */
  originUrl(path: string): string {
    return `${this.scheme}://${this.authority}${path.startsWith('/') ? path : `/${path}`}`;
  }

  status(): BackendStatus {
    return {
      group: this.group,
      url: this.url,
      weight: this.weight,
      healthy: this.health.healthy,
      inFlight: this.inFlight,
      requests: this.requests,
      failures: this.failures,
      since: this.health.since,
      reason: this.health.reason,
    };
  }
}
