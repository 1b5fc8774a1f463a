import { emptyBody, type ClientInfo, type Flow, type HeaderPairs } from './flow.js';
import type { LogLevel } from './events.js';

/** A response made up by proxyctl itself (block page, mock, cache hit …). */
export interface LocalResponse {
  status: number;
  statusText?: string;
  headers: HeaderPairs;
  body: Buffer | string;
}

/** Slow one exchange down (simulate a slow network). */
export interface ThrottleSpec {
  /** Added before the response head is relayed. @default 0 */
  latencyMs: number;
  /** Cap on body bytes per second, each direction; null for no cap. @default null */
  bytesPerSecond: number | null;
}

export type HookDecision =
  | { action: 'continue' }
  /** Answer the client with this response; nothing goes upstream (or the upstream one is replaced). */
  | { action: 'respond'; response: LocalResponse; tag?: string }
  /** Close the client connection without an answer. */
  | { action: 'drop'; tag?: string }
  /**
   * Answer from the local file system (map-local): `root` is a file (served for every match) or a
   * directory, in which `urlPath` (the request path, query removed, still percent-encoded) is looked
   * up. The network layer does the IO and keeps the lookup inside `root`.
   */
  | { action: 'serve-local'; root: string; urlPath: string; tag?: string }
  /**
   * Answer with the output of a local program (command responder): `argv` is run without a shell,
   * the request body is its stdin, its stdout is streamed back as the response body.
   */
  | { action: 'run-command'; argv: readonly string[]; timeoutMs: number; status: number; headers: HeaderPairs; tag?: string };

export const CONTINUE: HookDecision = Object.freeze({ action: 'continue' });

/** Changes a body as a whole (rewrite rules); gets and returns the body without content-coding. */
export type BodyTransform = (body: Buffer, flow: Flow) => Buffer;

/** What hooks may ask of the exchange besides a decision. */
export interface HookContext {
  log(level: LogLevel, message: string): void;
  /** Throttle this exchange; called by several rules, the slowest setting wins. (requestHeaders, request) */
  throttle(spec: ThrottleSpec): void;
  /** Pass the whole request body through `fn` before it goes upstream. (request) */
  transformRequestBody(fn: BodyTransform): void;
  /** Pass the whole response body through `fn` before the client gets it. (responseHeaders) */
  transformResponseBody(fn: BodyTransform): void;
  /**
   * Get the response body as the client got it, once it has been sent: `null` when it was over
   * `maxBytes` or was cut short. (responseHeaders)
   */
  observeResponseBody(maxBytes: number, fn: (body: Buffer | null, flow: Flow) => void): void;
}

/** A CONNECT request, before any tunnel exists. */
export interface ConnectRequest {
  host: string;
  port: number;
  headers: HeaderPairs;
  client: ClientInfo;
  /**
   * The tunnel will not be intercepted (an ignored host): request-level rules never see its
   * traffic, so a rule that must stop it (a block) has to act on the CONNECT.
   */
  passthrough: boolean;
}

/** A CONNECT as a flow, for matching rule filters against it (`~d host` works as on requests). */
export function connectFlow(req: ConnectRequest): Flow {
  return {
    id: '',
    kind: 'tunnel',
    phase: 'requesting',
    client: req.client,
    server: { host: req.host, port: req.port, address: null, tlsVersion: null, alpn: null, certificate: null },
    request: { method: 'CONNECT', scheme: 'https', host: req.host, port: req.port, path: '', httpVersion: '1.1', headers: req.headers, trailers: null, body: emptyBody() },
    response: null,
    timings: { start: Date.now(), requestHeaders: 0, requestEnd: null, upstreamConnect: null, upstreamTls: null, upstreamSent: null, firstByte: null, responseEnd: null },
    error: null,
    tags: [],
    marked: false,
    websocket: null,
  };
}

/** What a `connect` hook decides; an accepted tunnel may carry the authenticated proxy user. */
export type ConnectDecision =
  | { action: 'continue'; user?: string }
  | { action: 'respond'; response: LocalResponse; tag?: string }
  | { action: 'drop'; tag?: string };

type HookResult = HookDecision | void | Promise<HookDecision | void>;

/**
 * A rule of the pipeline (DESIGN.md §5). Hooks may change the flow they are given (headers, target)
 * and return a decision. They never see sockets and never branch on the HTTP version.
 *
 * Order of the stages: `connect` (CONNECT only) → `requestHeaders` (auth, rate limit, block,
 * map-remote, no-cache) → request breakpoints → `request` (cache lookup, mock, map-local,
 * command, request rewrite) → upstream → response breakpoints → `responseHeaders` (rewrite, cache
 * store) → body streamed. `error` runs when the exchange fails before the client got a response
 * head; a `respond` decision there replaces the error page (a cache serving a stale copy).
 */
export interface Addon {
  readonly name: string;
  /** One line for the rules pane, e.g. `block ~d ads.example with 403`. */
  explain(): string;
  connect?(request: ConnectRequest, ctx: HookContext): ConnectDecision | void | Promise<ConnectDecision | void>;
  requestHeaders?(flow: Flow, ctx: HookContext): HookResult;
  request?(flow: Flow, ctx: HookContext): HookResult;
  responseHeaders?(flow: Flow, ctx: HookContext): HookResult;
  error?(flow: Flow, ctx: HookContext): HookResult;
}

export type HookName = 'requestHeaders' | 'request' | 'responseHeaders' | 'error';

/**
 * Run one hook across the addons in order, each safe-called: an exception is logged and the
 * pipeline goes on. The first decision other than `continue` wins.
 */
export async function runHooks(addons: readonly Addon[], hook: HookName, flow: Flow, ctx: HookContext): Promise<HookDecision> {
  for (const addon of addons) {
    const fn = addon[hook];
    if (!fn) continue;
    try {
      const result = await fn.call(addon, flow, ctx);
      if (result && result.action !== 'continue') return result;
    } catch (err) {
      ctx.log('error', `rule ${addon.name} failed in ${hook}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return CONTINUE;
}

/** Run the `connect` hooks; the first non-continue decision wins, a user name is kept. */
export async function runConnectHooks(addons: readonly Addon[], request: ConnectRequest, ctx: HookContext): Promise<ConnectDecision> {
  let user: string | undefined;
  for (const addon of addons) {
    if (!addon.connect) continue;
    try {
      const result = await addon.connect(request, ctx);
      if (!result) continue;
      if (result.action !== 'continue') return result;
      if (result.user !== undefined) user = result.user;
    } catch (err) {
      ctx.log('error', `rule ${addon.name} failed in connect: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return user === undefined ? { action: 'continue' } : { action: 'continue', user };
}

/** True when any addon has the hook (lets the hot path skip the async machinery). */
export function hasHook(addons: readonly Addon[], hook: HookName | 'connect'): boolean {
  for (const a of addons) if (a[hook]) return true;
  return false;
}
