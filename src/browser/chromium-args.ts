/**
 * Chromium's command line for an intercepting session: everything through the proxy (loopback
 * too), our root trusted for this profile only, and quiet. Pure; `proxyctl browser` and the
 * end-to-end test build their arguments here, so the test exercises what users run.
 */

/**
 * Flags that keep Chromium from talking to the outside world on its own: component updates, sync,
 * safe-browsing lists, first-run pages. Behind a debugging proxy every one of those would be a
 * flow the user did not cause (and on a closed network, a stream of refused connections). QUIC is
 * off because it bypasses an HTTP proxy's CONNECT tunnel entirely.
 */
export const QUIET_FLAGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export interface ChromiumArgsOptions {
  /** The proxy, e.g. `http://127.0.0.1:8080`. */
  proxyUrl: string;
  /** base64 SHA-256 of the root CA's SubjectPublicKeyInfo (`CertificateAuthority.spkiSha256`). */
  spkiSha256: string;
  /**
   * The throw-away profile. Omit it only when the launcher supplies its own (Playwright refuses a
   * `--user-data-dir` argument and always passes one): Chromium ignores
   * `--ignore-certificate-errors-spki-list` unless a user data directory is given on the command
   * line, so that the default profile can never be told to trust a key this way.
   */
  userDataDir?: string;
  /** Chromium's sandbox cannot start as root; `--no-sandbox` is added then and only then. */
  runningAsRoot: boolean;
  /** The page to open; omitted when the launcher navigates itself. */
  url?: string;
}

export function chromiumArgs(opts: ChromiumArgsOptions): string[] {
  const args = [
    `--proxy-server=${proxyServerValue(opts.proxyUrl)}`,
    // Chromium sends localhost and 127.0.0.0/8 direct even with a proxy set; `<-loopback>` removes
    // that implicit rule so local development servers are intercepted too.
    '--proxy-bypass-list=<-loopback>',
    `--ignore-certificate-errors-spki-list=${opts.spkiSha256}`,
    ...QUIET_FLAGS,
  ];
  if (opts.runningAsRoot) args.push('--no-sandbox');
  if (opts.userDataDir !== undefined) args.push(`--user-data-dir=${opts.userDataDir}`);
  if (opts.url !== undefined) {
    // `--` ends the switches, so a URL can never be read as one.
    args.push('--', opts.url);
  }
  return args;
}

/**
 * `--proxy-server` takes `scheme://host:port` without a path; a URL's trailing slash or path
 * would make Chromium reject the whole setting and connect directly.
 */
export function proxyServerValue(proxyUrl: string): string {
  const u = new URL(proxyUrl);
  return `${u.protocol}//${u.host}`;
}
