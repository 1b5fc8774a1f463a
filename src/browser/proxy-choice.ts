/** Which proxy `proxyctl browser` points Chromium at: the flag, else the running instance, else the default. */
import { assertNever } from '../proxy/core/assert-never.js';
import type { InstanceLookup } from './instance.js';

/** Where `proxyctl start` listens unless told otherwise (DESIGN.md §7). */
export const DEFAULT_PROXY_URL = 'http://127.0.0.1:8080';

/** Proxy schemes Chromium's `--proxy-server` understands. */
const CHROMIUM_PROXY_PROTOCOLS = new Set(['http:', 'https:', 'socks4:', 'socks5:']);

export type ProxyChoice =
  | {
      ok: true;
      url: string;
      source: 'flag' | 'instance' | 'default';
      /** Something the user should know (a stale or unreadable instance.json). */
      warning: string | null;
    }
  | { ok: false; problem: string };

export function chooseProxy(flag: string | undefined, lookup: InstanceLookup, instanceFile: string): ProxyChoice {
  if (flag !== undefined) {
    const problem = checkProxyUrl(flag);
    return problem ? { ok: false, problem } : { ok: true, url: flag, source: 'flag', warning: null };
  }
  switch (lookup.state) {
    case 'running':
      return { ok: true, url: lookup.instance.url, source: 'instance', warning: null };
    case 'none':
      return { ok: true, url: DEFAULT_PROXY_URL, source: 'default', warning: null };
    case 'stale':
      return {
        ok: true,
        url: DEFAULT_PROXY_URL,
        source: 'default',
        warning: `ignoring ${instanceFile}: process ${lookup.instance.pid} (${lookup.instance.url}) is not running`,
      };
    case 'invalid':
      return { ok: true, url: DEFAULT_PROXY_URL, source: 'default', warning: `ignoring ${instanceFile}: ${lookup.problem}` };
    default:
      return assertNever(lookup, 'instance lookup');
  }
}

/** null when Chromium can use `value` as `--proxy-server`, else what is wrong with it. */
export function checkProxyUrl(value: string): string | null {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `--proxy must be a URL such as ${DEFAULT_PROXY_URL} (got "${value}")`;
  }
  if (!CHROMIUM_PROXY_PROTOCOLS.has(u.protocol)) return `--proxy must use http, https, socks4 or socks5 (got "${u.protocol}")`;
  if (!u.hostname) return `--proxy needs a host (got "${value}")`;
  if (u.username || u.password) {
    // Chromium takes no credentials on its command line; it would prompt, and the flag would leak them.
    return '--proxy cannot carry a user name or password for Chromium; it asks for them when the proxy requires them';
  }
  return null;
}

/**
 * The page to open when the user names none: the proxy's own page (a note and the CA download)
 * when the proxy speaks HTTP, else a blank page.
 */
export function defaultPageUrl(proxyUrl: string): string {
  const protocol = new URL(proxyUrl).protocol;
  return protocol === 'http:' || protocol === 'https:' ? proxyUrl : 'about:blank';
}
