import { isIP } from 'node:net';
import type { HeaderPairs } from '../core/flow.js';
import { hasHeader, setHeader } from '../core/headers.js';
import type { ForwardedSettings } from './settings.js';

/** What the backend is told about the client (the de-facto `X-Forwarded-*` headers). */
export interface ForwardedFacts {
  /** The TCP client's address as the listener saw it. */
  clientAddress: string;
  /** Whether the client spoke TLS to the listener. */
  tls: boolean;
  /** The client's Host / :authority, or null when it sent none. */
  clientHost: string | null;
}

/**
 * Add the forwarding headers: `X-Forwarded-For` gets the client address appended to what earlier
 * proxies wrote (one field, in the place of the first), `X-Forwarded-Proto`, `X-Forwarded-Host` and
 * `X-Real-IP` are set (replacing what the client sent: they describe this hop). With `anonymize`
 * every address in the X-Forwarded-For chain and X-Real-IP is masked (see anonymizeAddress). Pure.
 */
export function addForwardedHeaders(headers: HeaderPairs, facts: ForwardedFacts, settings: ForwardedSettings): HeaderPairs {
  if (!settings.enabled) return headers;
  const mask = settings.anonymize ? anonymizeAddress : (a: string) => a || 'unknown';
  const earlier = headers
    .filter(([k]) => k.toLowerCase() === 'x-forwarded-for')
    .flatMap(([, v]) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const chain = [...(settings.anonymize ? earlier.map(anonymizeAddress) : earlier), mask(facts.clientAddress)].join(', ');
  let out = setHeader(headers, 'X-Forwarded-For', chain);
  out = setHeader(out, 'X-Forwarded-Proto', facts.tls ? 'https' : 'http');
  if (facts.clientHost) out = setHeader(out, 'X-Forwarded-Host', facts.clientHost);
  out = setHeader(out, 'X-Real-IP', mask(facts.clientAddress));
  return out;
}

/**
 * An address with its host part zeroed, the way analytics tools anonymize: IPv4 keeps its /24
 * (`203.0.113.77` → `203.0.113.0`), IPv6 its /48 (`2001:db8:7:1::5` → `2001:db8:7::`). What is not
 * an IP address (an obfuscated node name, `unknown`) becomes `unknown`.
 */
export function anonymizeAddress(address: string): string {
  const a = address.trim();
  const family = isIP(a);
  if (family === 4) return a.replace(/\.\d+$/, '.0');
  if (family === 6) {
    const groups = expandIpv6(a);
    if (!groups) return 'unknown';
    const kept = groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, ''));
    return kept.every((g) => g === '0') ? '::' : `${kept.join(':')}::`;
  }
  return 'unknown';
}

/** The eight 16-bit groups of an IPv6 address (with an embedded IPv4 tail), or null. */
function expandIpv6(address: string): string[] | null {
  let text = address.split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, null];
  const left = head === '' ? [] : head.split(':');
  const right = tail === null || tail === '' ? [] : tail.split(':');
  const fill = tail === null ? 0 : 8 - left.length - right.length;
  if (fill < 0) return null;
  const groups = [...left, ...new Array<string>(fill).fill('0'), ...right];
  return groups.length === 8 ? groups : null;
}

/**
 * The Host the backend gets: the client's (`keep`), or the backend's own authority (`rewrite`). Only
 * a Host field that is there is rewritten: an HTTP/2 request carries its authority apart (the
 * exchange rewrites that), and adding a field would send both.
 */
export function backendHostHeader(headers: HeaderPairs, mode: 'keep' | 'rewrite', backendAuthority: string): HeaderPairs {
  if (mode === 'keep' || !hasHeader(headers, 'host')) return headers;
  return setHeader(headers, 'Host', backendAuthority);
}
