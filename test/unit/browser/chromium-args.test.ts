import { describe, expect, it } from 'vitest';
import { chromiumArgs, proxyServerValue, QUIET_FLAGS } from '../../../src/browser/chromium-args.js';

const SPKI = 'q1wD2d0rHcPL0bSDh/2zMuc3H3O8PSu4XKBZ2lV1ng0=';

describe('chromiumArgs', () => {
  it('sends everything, loopback included, through the proxy and trusts the root by SPKI', () => {
    const args = chromiumArgs({ proxyUrl: 'http://127.0.0.1:8080', spkiSha256: SPKI, userDataDir: '/tmp/p', runningAsRoot: false, url: 'https://example.test/' });
    expect(args).toEqual([
      '--proxy-server=http://127.0.0.1:8080',
      '--proxy-bypass-list=<-loopback>',
      `--ignore-certificate-errors-spki-list=${SPKI}`,
      ...QUIET_FLAGS,
      '--user-data-dir=/tmp/p',
      '--',
      'https://example.test/',
    ]);
  });

  it.each([
    [true, true],
    [false, false],
  ])('runningAsRoot=%s adds --no-sandbox: %s', (root, expected) => {
    const args = chromiumArgs({ proxyUrl: 'http://127.0.0.1:1', spkiSha256: SPKI, runningAsRoot: root });
    expect(args.includes('--no-sandbox')).toBe(expected);
  });

  it('leaves out the profile and the URL when the launcher supplies them (Playwright)', () => {
    const args = chromiumArgs({ proxyUrl: 'http://127.0.0.1:1', spkiSha256: SPKI, runningAsRoot: false });
    expect(args.some((a) => a.startsWith('--user-data-dir'))).toBe(false);
    expect(args).not.toContain('--');
    expect(args.every((a) => a.startsWith('--'))).toBe(true);
  });

  it('keeps Chromium quiet on a closed network', () => {
    const args = chromiumArgs({ proxyUrl: 'http://127.0.0.1:1', spkiSha256: SPKI, runningAsRoot: false });
    for (const flag of ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-default-browser-check']) {
      expect(args).toContain(flag);
    }
  });

  it('puts a URL that looks like a switch after the terminator', () => {
    const args = chromiumArgs({ proxyUrl: 'http://127.0.0.1:1', spkiSha256: SPKI, runningAsRoot: false, url: '--evil' });
    expect(args.slice(-2)).toEqual(['--', '--evil']);
  });
});

describe('proxyServerValue', () => {
  it.each([
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['http://[::1]:9000/some/path', 'http://[::1]:9000'],
    ['socks5://localhost:1080', 'socks5://localhost:1080'],
    ['https://proxy.test', 'https://proxy.test'],
  ])('%s → %s', (input, expected) => {
    expect(proxyServerValue(input)).toBe(expected);
  });
});
