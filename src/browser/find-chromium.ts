/**
 * Where the Chromium to launch lives: `$PROXYCTL_CHROMIUM`, else the first known name on `PATH`,
 * else (macOS) the usual application bundles. Pure: the file-system check is passed in.
 */
import { posix, win32 } from 'node:path';

/** Names tried on `PATH`, in order (Debian, Ubuntu/Fedora/Arch, Google's packages). */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'] as const;

/** macOS installs into bundles that are not on `PATH` (Homebrew casks and Google's installer). */
export const MACOS_BUNDLES = [
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
] as const;

export interface FindChromiumOptions {
  /** Read for `PROXYCTL_CHROMIUM`, `PATH` and (Windows) `PATHEXT`. */
  env: NodeJS.ProcessEnv;
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** True when `path` is an executable file (callers pass a real check; tests a fake one). */
  isExecutable: (path: string) => boolean;
}

export type ChromiumLookup =
  /** Found: the absolute path, and where it came from. */
  | { found: true; path: string; source: 'env' | 'path' | 'bundle' }
  /**
   * Not found. `envPath` is set when `PROXYCTL_CHROMIUM` names something that is not an executable:
   * that is a mistake to report as such, not a reason to quietly launch another browser.
   */
  | { found: false; envPath: string | null };

export function findChromium(opts: FindChromiumOptions): ChromiumLookup {
  const platform = opts.platform ?? process.platform;
  const fromEnv = opts.env['PROXYCTL_CHROMIUM'];
  if (fromEnv) {
    // A bare name ("chromium-dev") is looked up on PATH like the built-in names.
    const path = pathApi(platform).isAbsolute(fromEnv) ? (opts.isExecutable(fromEnv) ? fromEnv : null) : findOnPath(fromEnv, opts.env, platform, opts.isExecutable);
    return path ? { found: true, path, source: 'env' } : { found: false, envPath: fromEnv };
  }
  for (const name of CHROMIUM_NAMES) {
    const path = findOnPath(name, opts.env, platform, opts.isExecutable);
    if (path) return { found: true, path, source: 'path' };
  }
  if (platform === 'darwin') {
    for (const path of MACOS_BUNDLES) if (opts.isExecutable(path)) return { found: true, path, source: 'bundle' };
  }
  return { found: false, envPath: null };
}

/** The first `dir/name` on `PATH` that is executable (with `PATHEXT` suffixes on Windows). */
export function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  isExecutable: (path: string) => boolean,
): string | null {
  const win = platform === 'win32';
  const sep = win ? ';' : ':';
  const dirs = (env['PATH'] ?? env['Path'] ?? '').split(sep).filter((d) => d !== '');
  const suffixes = win ? ['', ...(env['PATHEXT'] ?? '.EXE;.CMD;.BAT').split(';').filter(Boolean)] : [''];
  for (const dir of dirs) {
    for (const suffix of suffixes) {
      const candidate = pathApi(platform).join(dir, name + suffix);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

/** The target platform's path rules, so the lookup can be tested for every platform on any host. */
function pathApi(platform: NodeJS.Platform): typeof posix {
  return platform === 'win32' ? win32 : posix;
}

/** What to tell a user who has no Chromium: one install line per platform, and the override. */
export function noChromiumMessage(lookup: { envPath: string | null }): string {
  if (lookup.envPath !== null) {
    return `PROXYCTL_CHROMIUM is set to "${lookup.envPath}", which is not an executable file; point it at a Chromium or Chrome binary, or unset it to search PATH`;
  }
  return [
    `no Chromium found (looked for PROXYCTL_CHROMIUM, then ${CHROMIUM_NAMES.join(', ')} on PATH). Install one:`,
    '  Debian/Ubuntu:  sudo apt-get install chromium        (Ubuntu: the snap chromium-browser also works)',
    '  Fedora:         sudo dnf install chromium',
    '  Arch:           sudo pacman -S chromium',
    '  macOS:          brew install --cask chromium         (or Google Chrome from google.com/chrome)',
    'or set PROXYCTL_CHROMIUM=/path/to/chrome',
  ].join('\n');
}
