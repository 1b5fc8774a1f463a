/** Parsing of request targets and authorities (RFC 9112 §3.2), without IO. */

import { intern } from './intern.js';

export interface Authority {
  host: string;
  port: number;
}

/** Parse `host:port`, `[v6]:port` or `host` (with a default port). Returns null when malformed. */
export function parseAuthority(value: string, defaultPort: number | null): Authority | null {
  let host: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return null;
    host = value.slice(1, end);
    if (!host.includes(':')) return null; // brackets hold IPv6 literals only (RFC 3986 §3.2.2)
    const rest = value.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return null;
    portText = rest ? rest.slice(1) : undefined;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon >= 0 && value.indexOf(':') !== colon) return null; // bare IPv6 needs brackets
    host = colon >= 0 ? value.slice(0, colon) : value;
    portText = colon >= 0 ? value.slice(colon + 1) : undefined;
  }
  if (!host || /[\s/?#@]/.test(host)) return null;
  let port: number;
  if (portText === undefined || portText === '') {
    if (defaultPort === null) return null;
    port = defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 65535) return null;
  }
  return { host: host.toLowerCase(), port };
}

export interface AbsoluteTarget extends Authority {
  scheme: 'http' | 'https';
  path: string;
}

/** Parse an absolute-form request target (`http://host:port/path?q`). Null when not absolute. */
export function parseAbsoluteTarget(target: string): AbsoluteTarget | null {
  const m = /^(https?):\/\/([^/?#]*)([^#]*)/i.exec(target);
  if (!m) return null;
  // The literals, not the matched text: every flow would keep its own copy of it.
  const scheme = m[1]!.length === 5 ? 'https' : 'http';
  let authority = m[2]!;
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1); // userinfo is deprecated; never forwarded
  const auth = parseAuthority(authority, scheme === 'https' ? 443 : 80);
  if (!auth) return null;
  let path = m[3] || '/';
  if (path.startsWith('?')) path = `/${path}`;
  return { scheme, host: intern(auth.host), port: auth.port, path: path.length < 64 ? intern(path) : path };
}

/** Host header value for an authority, omitting the default port. */
export function hostHeader(scheme: 'http' | 'https', host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === (scheme === 'https' ? 443 : 80) ? h : `${h}:${port}`;
}

/** True for an IPv4 or IPv6 literal (TLS SNI must not carry one, RFC 6066 §3). */
export function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
