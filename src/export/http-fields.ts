import type { HeaderPairs } from '../proxy/core/flow.js';

/**
 * Small parsers the exporters share: query strings, Cookie and Set-Cookie fields, and the choice
 * between text and base64 for a body.
 */

// Type aliases, not interfaces: the HAR types are loose objects (index signatures), which only
// type aliases are assignable to.
export type NameValue = {
  name: string;
  value: string;
};

/** Query parameters of an origin-form path, decoded (`+` is a space, as forms send it). */
export function queryParams(path: string): NameValue[] {
  const q = path.indexOf('?');
  if (q === -1) return [];
  const query = path.slice(q + 1).split('#')[0]!;
  if (query === '') return [];
  return query.split('&').map((part) => {
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    return { name: decode(name), value: decode(value) };
  });
}

/** `a=1; b=2` (RFC 6265 §4.2) into pairs; crumbs without `=` are skipped. */
export function cookiePairs(headers: HeaderPairs): NameValue[] {
  const out: NameValue[] = [];
  for (const [k, v] of headers) {
    if (k.toLowerCase() !== 'cookie') continue;
    for (const crumb of v.split(';')) {
      const eq = crumb.indexOf('=');
      if (eq <= 0) continue;
      out.push({ name: crumb.slice(0, eq).trim(), value: crumb.slice(eq + 1).trim() });
    }
  }
  return out;
}

export type SetCookie = NameValue & {
  path?: string;
  domain?: string;
  expires?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: string;
};

/** Every `Set-Cookie` field (RFC 6265 §4.1) as a cookie with its attributes. */
export function setCookies(headers: HeaderPairs): SetCookie[] {
  const out: SetCookie[] = [];
  for (const [k, v] of headers) {
    if (k.toLowerCase() !== 'set-cookie') continue;
    const [first, ...attrs] = v.split(';');
    const eq = first!.indexOf('=');
    if (eq <= 0) continue;
    const cookie: SetCookie = { name: first!.slice(0, eq).trim(), value: first!.slice(eq + 1).trim() };
    for (const attr of attrs) {
      const [rawName, ...rest] = attr.split('=');
      const name = rawName!.trim().toLowerCase();
      const value = rest.join('=').trim();
      if (name === 'path') cookie.path = value;
      else if (name === 'domain') cookie.domain = value;
      else if (name === 'expires') {
        const t = Date.parse(value);
        if (!Number.isNaN(t)) cookie.expires = new Date(t).toISOString();
      } else if (name === 'httponly') cookie.httpOnly = true;
      else if (name === 'secure') cookie.secure = true;
      else if (name === 'samesite') cookie.sameSite = value;
    }
    out.push(cookie);
  }
  return out;
}

/** First value of a header, case-insensitive. */
export function header(headers: HeaderPairs, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The media type without parameters, lowercased (`application/json`), or ''. */
export function mediaType(headers: HeaderPairs): string {
  return (header(headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as UTF-8 text when they are valid UTF-8 (so text round-trips exactly), else null. */
export function utf8Text(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null; // not UTF-8: callers fall back to base64
  }
}

/** A body as JSON-safe text: UTF-8 when it is, else base64. */
export function bodyText(bytes: Buffer): { text: string; base64: boolean } {
  const text = utf8Text(bytes);
  return text === null ? { text: bytes.toString('base64'), base64: true } : { text, base64: false };
}

/** JSON media types: `application/json`, `application/problem+json`, `text/json` … */
export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s; // malformed percent-escapes: keep the text as it was sent
  }
}
