import { UsageError } from './usage-error.js';

/**
 * What kind of proxy the listener is (DESIGN.md §7 `--mode`), parsed once from its text form.
 * - `regular`: a forward proxy (absolute-form requests and CONNECT), intercepting TLS;
 * - `upstream`: the same, but every origin connection goes through another HTTP proxy;
 * - `socks5`: the listener also accepts SOCKS5 clients and intercepts what they tunnel;
 * - `reverse`: every request goes to a backend group (URLs from the flag, or the config's
 *   `reverse` section when the text is bare `reverse`).
 */
export type ProxyMode =
  | { kind: 'regular' }
  | { kind: 'upstream'; /** `http://[user:pass@]host:port` of the parent proxy. */ proxy: URL }
  | { kind: 'socks5' }
  | { kind: 'reverse'; /** Backend URLs named on the command line; empty when the config's `reverse` section defines them. */ urls: string[] };

export const REGULAR_MODE: ProxyMode = { kind: 'regular' };

/** Parse `--mode` / the config's `mode`. Throws UsageError naming what is wrong. */
export function parseMode(text: string): ProxyMode {
  if (text === 'regular') return REGULAR_MODE;
  if (text === 'socks5') return { kind: 'socks5' };
  if (text === 'reverse') return { kind: 'reverse', urls: [] };
  if (text.startsWith('reverse:')) {
    const urls = text.slice('reverse:'.length).split(',').map((u) => u.trim()).filter((u) => u !== '');
    for (const u of urls) {
      if (!isHttpUrl(u)) throw new UsageError(`--mode reverse: ${JSON.stringify(u)} is not an http:// or https:// URL`);
    }
    if (urls.length === 0) throw new UsageError('--mode reverse: needs at least one backend URL');
    return { kind: 'reverse', urls };
  }
  if (text.startsWith('upstream:')) {
    const rest = text.slice('upstream:'.length);
    if (!isHttpUrl(rest)) throw new UsageError(`--mode upstream: ${JSON.stringify(rest)} is not an http:// URL of a proxy`);
    const url = new URL(rest);
    if (url.protocol !== 'http:') throw new UsageError(`--mode upstream: only http:// parent proxies are supported (got ${url.protocol}//)`);
    return { kind: 'upstream', proxy: url };
  }
  throw new UsageError(`--mode: expected regular, reverse:URL[,URL…], upstream:URL or socks5 (got ${JSON.stringify(text)})`);
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
