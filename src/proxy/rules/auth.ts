import { createHash } from 'node:crypto';
import { headerValue, type ClientInfo, type Flow, type HeaderPairs } from '../core/flow.js';
import { removeHeader } from '../core/headers.js';
import type { Addon, ConnectDecision, ConnectRequest, HookContext, HookDecision, LocalResponse } from '../core/pipeline.js';
import { constantTimeEqual, verifyPassword, type HtpasswdEntry } from './htpasswd.js';
import { textResponse } from './pages.js';

/** A user from the config file (`proxyAuth.users`). */
export interface ProxyUser {
  user: string;
  password: string;
}

export interface ProxyAuthOptions {
  users: readonly ProxyUser[];
  /** Entries of the `proxyAuth.htpasswd` file, already parsed. */
  htpasswd: readonly HtpasswdEntry[];
  /** Shown by clients when they ask for credentials. @default "proxyctl" */
  realm?: string;
  /** How many verified `Proxy-Authorization` values to remember. @default 256 */
  cacheSize?: number;
}

/** The name of the proxy authentication rule (other transports ask whether one is active). */
export const PROXY_AUTH_RULE_NAME = 'auth';

type Credential = { kind: 'plain'; password: string } | { kind: 'htpasswd'; entry: HtpasswdEntry };

/** Checked when the user is unknown, so an unknown user costs about as much as a wrong password. */
const NO_SUCH_USER = 'proxyctl:no-such-user';
const NO_SUCH_ENTRY: HtpasswdEntry = { user: '', scheme: 'apr1', hash: '$apr1$proxyctl$AAAAAAAAAAAAAAAAAAAAAA', line: 0 };

/**
 * Proxy authentication with HTTP Basic (RFC 9110 §11.7.1, RFC 7617). A CONNECT is checked once in
 * the `connect` hook and the tunnel carries the user (`flow.client.user`); requests in plain HTTP
 * carry `Proxy-Authorization` each time and are checked in `requestHeaders`. The header is
 * consumed here: removed from the flow whether it was good or not, so it is never forwarded nor
 * recorded in a session.
 */
export function proxyAuthRule(opts: ProxyAuthOptions): Addon {
  const realm = opts.realm ?? 'proxyctl';
  const cacheSize = Math.max(0, opts.cacheSize ?? 256);
  const byUser = new Map<string, Credential[]>();
  const add = (user: string, c: Credential) => {
    const list = byUser.get(user);
    if (list) list.push(c);
    else byUser.set(user, [c]);
  };
  for (const u of opts.users) add(u.user, { kind: 'plain', password: u.password });
  for (const e of opts.htpasswd) add(e.user, { kind: 'htpasswd', entry: e });

  /**
   * SHA-256 of verified header values → user. Verifying an apr1 hash costs 1000 MD5 rounds per
   * request; a browser sends the same header on every request, so it is checked once. Only
   * successes are kept, so wrong guesses can neither evict them nor be answered from memory.
   */
  const verified = new Map<string, string>();

  const check = (header: string | undefined): { user: string } | { user: null; tried: string | null } => {
    if (header === undefined) return { user: null, tried: null };
    const key = createHash('sha256').update(header, 'utf8').digest('base64');
    const hit = verified.get(key);
    if (hit !== undefined) {
      verified.delete(key); // keep the map in least-recently-used order
      verified.set(key, hit);
      return { user: hit };
    }
    const creds = parseBasicCredentials(header);
    if (!creds) return { user: null, tried: '' };
    const candidates = byUser.get(creds.user);
    let ok = false;
    if (!candidates) {
      if (opts.htpasswd.length > 0) verifyPassword(NO_SUCH_ENTRY, creds.password);
      else constantTimeEqual(creds.password, NO_SUCH_USER);
    }
    else for (const c of candidates) if (c.kind === 'plain' ? constantTimeEqual(creds.password, c.password) : verifyPassword(c.entry, creds.password)) ok = true;
    if (!ok) return { user: null, tried: creds.user };
    if (cacheSize > 0) {
      verified.set(key, creds.user);
      if (verified.size > cacheSize) verified.delete(verified.keys().next().value!);
    }
    return { user: creds.user };
  };

  const challenge = (): LocalResponse => textResponse(407, 'proxyctl: proxy authentication required', [['Proxy-Authenticate', `Basic realm="${quote(realm)}"`]]);

  const logFailure = (ctx: HookContext, tried: string | null, client: string) => {
    if (tried === null) return; // no credentials yet: the normal first step of a client
    ctx.log('warn', tried === '' ? `malformed Proxy-Authorization from ${client}` : `proxy authentication failed for user ${JSON.stringify(tried)} from ${client}`);
  };

  const userCount = opts.users.length;
  const fileCount = opts.htpasswd.length;
  return {
    name: PROXY_AUTH_RULE_NAME,
    explain: () => {
      const from = [userCount ? `${plural(userCount, 'user')} from the config` : '', fileCount ? `${plural(fileCount, 'user')} from htpasswd` : ''].filter(Boolean);
      return `proxy auth (Basic, realm "${realm}"): ${from.join(', ') || 'no users (every request is refused)'}`;
    },

    connect(request: ConnectRequest, ctx: HookContext): ConnectDecision {
      const result = check(headerValue(request.headers, 'proxy-authorization'));
      request.headers = stripCredentials(request.headers);
      if (result.user !== null) return { action: 'continue', user: result.user };
      logFailure(ctx, result.tried, request.client.address);
      return { action: 'respond', response: challenge(), tag: 'auth-required' };
    },

    requestHeaders(flow: Flow, ctx: HookContext): HookDecision | void {
      const header = headerValue(flow.request.headers, 'proxy-authorization');
      flow.request.headers = stripCredentials(flow.request.headers);
      // Inside a tunnel whose CONNECT authenticated: requests there carry no credentials of their own.
      if (flow.client.user !== undefined) return;
      const result = check(header);
      if (result.user !== null) return;
      logFailure(ctx, result.tried, flow.client.address);
      return { action: 'respond', response: challenge(), tag: 'auth-required' };
    },
  };
}

/** True when the pipeline requires proxy credentials. */
export function requiresProxyAuth(addons: readonly Addon[]): boolean {
  return addons.some((a) => a.name === PROXY_AUTH_RULE_NAME);
}

/** `Proxy-Authorization` value for a user name and password (RFC 7617 §2, UTF-8). */
export function basicCredentials(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * Check a user name and password that arrived some other way than `Proxy-Authorization` (SOCKS5
 * username/password, RFC 1929) with the very rule that checks the header: same users, same
 * htpasswd, same cache and failure log. Resolves with the user, or null when refused. A name
 * with a colon cannot be put in Basic credentials (RFC 7617 §2), so it never matches.
 */
export async function verifyProxyCredentials(addons: readonly Addon[], user: string, password: string, client: ClientInfo, ctx: HookContext): Promise<string | null> {
  if (user.includes(':')) return null;
  let verified: string | null = null;
  for (const addon of addons) {
    if (addon.name !== PROXY_AUTH_RULE_NAME || !addon.connect) continue;
    const request: ConnectRequest = { host: '', port: 0, headers: [['Proxy-Authorization', basicCredentials(user, password)]], client, passthrough: false };
    const decision = await addon.connect(request, ctx);
    if (!decision || decision.action !== 'continue' || decision.user === undefined) return null;
    verified = decision.user;
  }
  return verified;
}

/** `Basic dXNlcjpwYXNz` → `{ user, password }`; null when it is not well-formed Basic. */
export function parseBasicCredentials(header: string): { user: string; password: string } | null {
  const m = /^\s*basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8'); // RFC 7617 §2.1: UTF-8
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function stripCredentials(headers: HeaderPairs): HeaderPairs {
  return headers.some(([k]) => k.length === 19 && k.toLowerCase() === 'proxy-authorization') ? removeHeader(headers, 'proxy-authorization') : headers;
}

/** Escape for a quoted-string (RFC 9110 §5.6.4). */
function quote(text: string): string {
  return text.replace(/[\\"]/g, '\\$&');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
