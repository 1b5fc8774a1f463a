import { describe, expect, it } from 'vitest';
import { findChromium, findOnPath, noChromiumMessage } from '../../../src/browser/find-chromium.js';

const only = (...paths: string[]) => (p: string) => paths.includes(p);

describe('findChromium', () => {
  it.each([
    ['PROXYCTL_CHROMIUM wins over PATH', { PROXYCTL_CHROMIUM: '/opt/c/chrome', PATH: '/usr/bin' }, ['/opt/c/chrome', '/usr/bin/chromium'], { found: true, path: '/opt/c/chrome', source: 'env' }],
    ['a bare PROXYCTL_CHROMIUM name is looked up on PATH', { PROXYCTL_CHROMIUM: 'chrome-dev', PATH: '/a:/b' }, ['/b/chrome-dev'], { found: true, path: '/b/chrome-dev', source: 'env' }],
    ['a broken PROXYCTL_CHROMIUM is reported, not replaced', { PROXYCTL_CHROMIUM: '/nope', PATH: '/usr/bin' }, ['/usr/bin/chromium'], { found: false, envPath: '/nope' }],
    ['chromium first', { PATH: '/usr/local/bin:/usr/bin' }, ['/usr/bin/chromium', '/usr/local/bin/google-chrome'], { found: true, path: '/usr/bin/chromium', source: 'path' }],
    ['then chromium-browser', { PATH: '/usr/bin' }, ['/usr/bin/chromium-browser', '/usr/bin/google-chrome'], { found: true, path: '/usr/bin/chromium-browser', source: 'path' }],
    ['then google-chrome-stable', { PATH: '/usr/bin' }, ['/usr/bin/google-chrome-stable'], { found: true, path: '/usr/bin/google-chrome-stable', source: 'path' }],
    ['earlier PATH entries first', { PATH: '/first:/second' }, ['/second/chromium', '/first/chromium'], { found: true, path: '/first/chromium', source: 'path' }],
    ['nothing', { PATH: '/usr/bin' }, [], { found: false, envPath: null }],
    ['no PATH at all', {}, ['/usr/bin/chromium'], { found: false, envPath: null }],
  ] as const)('%s', (_name, env, executables, expected) => {
    expect(findChromium({ env: { ...env }, platform: 'linux', isExecutable: only(...executables) })).toEqual(expected);
  });

  it('looks in the application bundles on macOS', () => {
    const chrome = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';
    expect(findChromium({ env: { PATH: '/usr/bin' }, platform: 'darwin', isExecutable: only(chrome) })).toEqual({ found: true, path: chrome, source: 'bundle' });
    expect(findChromium({ env: { PATH: '/usr/bin' }, platform: 'linux', isExecutable: only(chrome) })).toEqual({ found: false, envPath: null });
  });

  it('uses Windows PATH rules on Windows', () => {
    const path = findOnPath('chromium', { Path: 'C:\\Tools;C:\\Apps', PATHEXT: '.EXE;.CMD' }, 'win32', only('C:\\Apps\\chromium.EXE'));
    expect(path).toBe('C:\\Apps\\chromium.EXE');
  });
});

describe('noChromiumMessage', () => {
  it('says what to install on each platform and how to point at a browser', () => {
    const text = noChromiumMessage({ envPath: null });
    expect(text).toMatch(/apt-get install chromium/);
    expect(text).toMatch(/dnf install chromium/);
    expect(text).toMatch(/brew install --cask chromium/);
    expect(text).toMatch(/PROXYCTL_CHROMIUM=/);
  });

  it('names a PROXYCTL_CHROMIUM that is not usable', () => {
    expect(noChromiumMessage({ envPath: '/nope' })).toMatch(/PROXYCTL_CHROMIUM is set to "\/nope"/);
  });
});
