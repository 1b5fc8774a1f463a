import type { SecureContext } from 'node:tls';
import type { ProxyMode } from '../../config/mode.js';
import type { EventBus } from '../bus.js';
import type { Addon } from '../core/pipeline.js';
import type { Breakpoint } from '../core/breakpoints.js';
import type { PauseRegistry } from '../core/pauses.js';
import type { ReversePool } from '../reverse/pool.js';
import { defaultCompression, type CompressionSettings } from './compression.js';

/** Resolved settings of the network core (parsed and defaulted by src/config before reaching here). */
export interface ProxyOptions {
  host: string;
  /** What kind of proxy this is (regular, upstream, socks5, reverse). @default regular */
  mode: ProxyMode;
  /** 0 picks a free port. */
  port: number;
  /** Skip upstream certificate verification. @default false */
  insecure: boolean;
  /** Hosts (matched against the CONNECT host) tunnelled untouched. */
  ignoreHosts: RegExp[];
  /** Host overrides: name → address, like curl's --resolve. */
  resolve: ReadonlyMap<string, string>;
  /** Bytes of each body kept on the flow. @default 4194304 */
  maxBodyBytes: number;
  /** Wait for upstream response headers. @default 60000 */
  upstreamTimeoutMs: number;
  /** Wait for an upstream TCP + TLS connection. @default 10000 */
  connectTimeoutMs: number;
  /** Idle client connections are closed after this. @default 60000 */
  clientIdleTimeoutMs: number;
  /** Request headers must arrive within this. @default 30000 */
  headersTimeoutMs: number;
  /** Client TLS handshakes must finish within this. @default 10000 */
  handshakeTimeoutMs: number;
  /** Largest request head accepted (431 beyond). @default 16384 */
  maxHeaderBytes: number;
  /** Bytes of a body held whole at a breakpoint; a bigger one passes through with a notice. @default 33554432 */
  maxPausedBodyBytes: number;
  /** Idle upstream keep-alive connections kept per origin. @default 64 */
  maxIdleUpstreamPerOrigin: number;
  /**
   * Extra CAs trusted for upstream TLS in addition to Node's default store. Without it Node's own
   * store applies, which NODE_EXTRA_CA_CERTS extends.
   */
  upstreamCa: string[] | null;
  /** Response compression towards clients that accept it (config `compression`, `--compress`). */
  compression: CompressionSettings;
}

export const defaultProxyOptions: ProxyOptions = {
  host: '127.0.0.1',
  mode: { kind: 'regular' },
  port: 8080,
  insecure: false,
  ignoreHosts: [],
  resolve: new Map(),
  maxBodyBytes: 4 * 1024 * 1024,
  upstreamTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  clientIdleTimeoutMs: 60_000,
  headersTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  maxHeaderBytes: 16 * 1024,
  maxPausedBodyBytes: 32 * 1024 * 1024,
  maxIdleUpstreamPerOrigin: 64,
  upstreamCa: null,
  compression: defaultCompression,
};

/** What the network core needs from the rest of the program. */
export interface ProxyDeps {
  bus: EventBus;
  /** Leaf certificates for intercepted hosts (src/ca). */
  certificates: { secureContextFor(host: string): SecureContext; readonly certPem: string };
  /** The rules pipeline, in order. Read on every request, so it can be swapped live. */
  addons: () => readonly Addon[];
  /** Breakpoints (rules and the intercept filter), read on every request. */
  breakpoints: () => readonly Breakpoint[];
  /** Flows waiting at breakpoints; the command API settles them. */
  pauses: PauseRegistry;
  /**
   * Client access control, asked once per TCP connection: null admits the client, a string refuses
   * it and says why. Read on every connection, so it can be swapped live. Absent: everyone.
   */
  admit?: (address: string) => string | null;
  /**
   * Certificates configured per server name (reverse mode's `reverse.tls.certs`), asked first for
   * TLS that ends at the listener itself (no CONNECT before it); null sends the name to
   * `certificates`. Absent: the CA's certificate for every name.
   */
  listenerCerts?: { contextFor(serverName: string): SecureContext | null } | null;
  /** Reverse mode's backend groups, routes and health (src/proxy/reverse); set when `mode` is reverse. */
  reverse?: ReversePool | null;
}
