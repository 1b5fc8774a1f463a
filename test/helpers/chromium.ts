/**
 * Real headless Chromium for end-to-end tests, driven by playwright-core (which downloads no
 * browser): the system's Chromium, launched with exactly the arguments `proxyctl browser` uses.
 */
import { chromium, type Browser } from 'playwright-core';
import { chromiumArgs } from '../../src/browser/chromium-args.js';
import { findChromium } from '../../src/browser/find-chromium.js';
import { isExecutableFile } from '../../src/browser/is-executable.js';

/** The Chromium to drive: PROXYCTL_CHROMIUM, else the first known name on PATH (CI: Debian's /usr/bin/chromium). */
export function chromiumPath(): string {
  const found = findChromium({ env: process.env, isExecutable: isExecutableFile });
  if (!found.found) {
    throw new Error(
      found.envPath !== null
        ? `PROXYCTL_CHROMIUM=${found.envPath} is not an executable`
        : 'no Chromium for the end-to-end test: apt-get install chromium (CI installs it), or set PROXYCTL_CHROMIUM',
    );
  }
  return found.path;
}

export interface LaunchOptions {
  /** The proxy, `http://127.0.0.1:PORT`. */
  proxyUrl: string;
  /** The proxy root's SPKI hash (trusted for this browser's temporary profile only). */
  spkiSha256: string;
  /** Bound for the browser to start. @default 20000 */
  timeoutMs?: number;
}

/**
 * Launch headless Chromium through the proxy. Playwright supplies the throw-away profile
 * (`--user-data-dir`, which it does not let callers pass) and removes it on `close()`.
 */
export function launchChromium(opts: LaunchOptions): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    timeout: opts.timeoutMs ?? 20_000,
    args: chromiumArgs({
      proxyUrl: opts.proxyUrl,
      spkiSha256: opts.spkiSha256,
      runningAsRoot: process.getuid?.() === 0,
    }),
    // Chromium's proxy comes from its command line; keep ambient proxy variables from mattering.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(https?|all|no)_proxy$/i.test(k))),
  });
}

/**
 * `browser.close()`, bounded. Should it hang, the test fails loudly here; Playwright still kills
 * the browsers it launched when the test process exits.
 */
export async function closeChromium(browser: Browser | null, timeoutMs = 10_000): Promise<void> {
  if (!browser) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
  const result = await Promise.race([browser.close().then(() => 'closed' as const), timeout]);
  clearTimeout(timer);
  if (result === 'timeout') throw new Error(`Chromium did not close within ${timeoutMs} ms`);
}
