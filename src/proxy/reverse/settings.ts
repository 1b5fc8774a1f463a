/**
 * Reverse mode's resolved settings: what src/config/reverse-settings.ts makes of `--mode
 * reverse:URL…` and the config's `reverse` section, defaults applied and cross-references checked.
 * The reverse core reads only this shape, never the config file.
 */

/** How a group spreads requests over its healthy backends. */
export type BalanceKind = 'round-robin' | 'weighted' | 'least-connections' | 'ip-hash';

export const BALANCE_KINDS: readonly BalanceKind[] = ['round-robin', 'weighted', 'least-connections', 'ip-hash'];

/** Active health checks: a GET of `path` on every backend of the group, every `intervalMs`. */
export interface HealthSettings {
  /** Asked of the backend's origin (its URL's path prefix is not added). @default / */
  path: string;
  /** @default 2000 */
  intervalMs: number;
  /** A check without a response head within this fails. @default 1000 */
  timeoutMs: number;
  /** Consecutive failed checks that mark a healthy backend down. @default 2 */
  unhealthyAfter: number;
  /** Consecutive good checks (2xx/3xx) that bring a down backend back. @default 2 */
  healthyAfter: number;
}

/** Passive health: what real traffic says (connection failures and 5xx responses). */
export interface PassiveSettings {
  /** Consecutive failures that mark a backend down; 0 only counts them. @default 3 */
  failures: number;
  /** Without active checks, a backend marked down by traffic comes back after this. @default 10000 */
  cooldownMs: number;
}

export interface BackendSettings {
  /** `http(s)://host:port[/path-prefix]`. */
  url: string;
  /** Share for weighted round-robin (and the ip-hash / least-connections tie-breaks). @default 1 */
  weight: number;
}

export interface GroupSettings {
  /** Shown in the backends pane, the metrics and the 503 page. */
  name: string;
  balance: BalanceKind;
  backends: BackendSettings[];
  /** Null: no active checks (traffic alone decides, with the passive cool-down). */
  health: HealthSettings | null;
  passive: PassiveSettings;
}

export interface RouteSettings {
  /** `api.local`, `*.example.com` (any subdomain), or null for any host (the default vhost). */
  host: string | null;
  /** Path prefix, matched at a segment boundary (`/api` matches `/api`, `/api/x`, not `/apix`). @default / */
  pathPrefix: string;
  /** The group this route sends to. */
  group: string;
  /** Remove the matched prefix before forwarding (`/api/x` → `/x`). @default false */
  stripPrefix: boolean;
}

export interface ForwardedSettings {
  /** Add X-Forwarded-For/-Proto/-Host and X-Real-IP. @default true */
  enabled: boolean;
  /**
   * Mask client addresses in X-Forwarded-For and X-Real-IP: IPv4 keeps its /24 (`192.0.2.0`), IPv6
   * its /48 (`2001:db8:1::`), anything else becomes `unknown`. @default false
   */
  anonymize: boolean;
}

export interface ReverseSettings {
  groups: GroupSettings[];
  /** Checked in specificity order (see routing.ts), not file order. */
  routes: RouteSettings[];
  /** Where a request no route matches goes; null answers 404. */
  defaultGroup: string | null;
  forwarded: ForwardedSettings;
  /** `keep` the client's Host, or `rewrite` it to the backend's host:port. @default keep */
  hostHeader: 'keep' | 'rewrite';
}

export const DEFAULT_HEALTH: HealthSettings = { path: '/', intervalMs: 2000, timeoutMs: 1000, unhealthyAfter: 2, healthyAfter: 2 };
export const DEFAULT_PASSIVE: PassiveSettings = { failures: 3, cooldownMs: 10_000 };
/** The group of `--mode reverse:URL…` and of the config's top-level `reverse.backends`. */
export const DEFAULT_GROUP = 'default';
