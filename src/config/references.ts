/**
 * What a config file points at outside itself: files and programs. The schema proves the shape; this
 * proves the references resolve, so `proxyctl config check` and a hot reload refuse a config whose
 * htpasswd file is missing instead of starting and failing every authenticated request.
 *
 * Relative paths resolve against the config file's directory (`baseDir`), so a config works the same
 * whatever the working directory of the process that loads it.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, resolve } from 'node:path';
import type { ConfigFile } from './schema.js';

export interface ReferenceReport {
  /** Broken references the config cannot work without (`proxyAuth.htpasswd: no such file or directory ./users`). */
  errors: string[];
  /**
   * References that are broken now but only hurt the matching flows, and that may well be fixed
   * before traffic arrives (a map-local directory built later, a program installed later).
   */
  warnings: string[];
}

export interface ReferenceCheckOptions {
  /** Read for PATH (and PATHEXT on Windows) when looking up `command` programs. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default process.platform */
  platform?: NodeJS.Platform;
}

type Severity = 'error' | 'warning';
interface Finding {
  severity: Severity;
  line: string;
}

/**
 * Check every file and program `config` refers to. Never throws for a missing or unreadable
 * reference: each becomes one `path: problem value` line, in the order the config lists them.
 */
export async function checkConfigReferences(config: ConfigFile, baseDir: string, opts: ReferenceCheckOptions = {}): Promise<ReferenceReport> {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const checks: Promise<Finding | null>[] = [];

  const htpasswd = config.proxyAuth?.htpasswd;
  if (htpasswd) checks.push(checkFile('proxyAuth.htpasswd', htpasswd, baseDir, 'error', 'file'));

  const logFile = config.accessLog?.file;
  // The log file itself is created on start; its directory must already be there, or the write
  // stream fails after the proxy is up.
  if (logFile) checks.push(checkParentDir('accessLog.file', logFile, baseDir));

  (config.rules ?? []).forEach((rule, i) => {
    if (rule.type === 'map-local') checks.push(checkFile(`rules[${i}].path`, rule.path, baseDir, 'warning', 'any'));
    else if (rule.type === 'command' && rule.argv[0] !== undefined) checks.push(checkProgram(`rules[${i}].argv[0]`, rule.argv[0], baseDir, env, platform));
  });

  const tls = config.reverse?.tls;
  // Certificates only matter when reverse TLS is on; with it off they are reported, not refused.
  const certSeverity: Severity = tls?.enabled ? 'error' : 'warning';
  (tls?.certs ?? []).forEach((c, i) => {
    checks.push(checkFile(`reverse.tls.certs[${i}].cert`, c.cert, baseDir, certSeverity, 'file'));
    checks.push(checkFile(`reverse.tls.certs[${i}].key`, c.key, baseDir, certSeverity, 'file'));
  });

  const findings = (await Promise.all(checks)).filter((f): f is Finding => f !== null);
  return {
    errors: findings.filter((f) => f.severity === 'error').map((f) => f.line),
    warnings: findings.filter((f) => f.severity === 'warning').map((f) => f.line),
  };
}

/** `kind: 'file'` wants a regular file; `'any'` accepts a file or a directory (map-local serves both). */
async function checkFile(field: string, value: string, baseDir: string, severity: Severity, kind: 'file' | 'any'): Promise<Finding | null> {
  const full = resolve(baseDir, value);
  const problem = await fileProblem(full, kind);
  return problem ? { severity, line: `${field}: ${problem} ${value}` } : null;
}

async function fileProblem(full: string, kind: 'file' | 'any'): Promise<string | null> {
  try {
    const st = await stat(full);
    if (kind === 'file' && st.isDirectory()) return 'is a directory, expected a file:';
    await access(full, constants.R_OK);
    return null;
  } catch (err) {
    return describeFsError(err);
  }
}

async function checkParentDir(field: string, value: string, baseDir: string): Promise<Finding | null> {
  const full = resolve(baseDir, value);
  try {
    const st = await stat(dirname(full));
    if (!st.isDirectory()) return { severity: 'error', line: `${field}: not a directory: ${dirname(value)} (for ${value})` };
    await access(dirname(full), constants.W_OK);
    return null;
  } catch (err) {
    return { severity: 'error', line: `${field}: ${describeFsError(err)} ${dirname(value)} (for ${value})` };
  }
}

/**
 * A program named with a path separator is a file (relative to the config's directory); a bare
 * name is looked up on PATH, the way `child_process.spawn` will look it up.
 */
async function checkProgram(field: string, program: string, baseDir: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Promise<Finding | null> {
  const windows = platform === 'win32';
  const hasSeparator = program.includes('/') || (windows && program.includes('\\'));
  if (hasSeparator || isAbsolute(program)) {
    const full = resolve(baseDir, program);
    const problem = await programProblem(full, windows);
    return problem ? { severity: 'warning', line: `${field}: ${problem} ${program}` } : null;
  }
  const pathVar = (windows ? (env['Path'] ?? env['PATH']) : env['PATH']) ?? '';
  // Windows finds `ffmpeg` as `ffmpeg.exe`; elsewhere the name is exact.
  const exts = windows ? ['', ...(env['PATHEXT'] ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)] : [''];
  // An empty PATH entry means the working directory to some shells; spawn does not promise that, so skip it.
  const dirs = pathVar.split(windows ? ';' : delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    for (const ext of exts) {
      if ((await programProblem(resolve(dir, program + ext), windows)) === null) return null;
    }
  }
  return { severity: 'warning', line: `${field}: not found on PATH: ${program}` };
}

async function programProblem(full: string, windows: boolean): Promise<string | null> {
  try {
    const st = await stat(full);
    if (!st.isFile()) return 'not a file:';
    // Windows has no execute bit; existence is what spawn needs there.
    if (!windows) await access(full, constants.X_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') return 'not executable:';
    return describeFsError(err);
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'ENOTDIR':
      return 'a parent is not a directory:';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code}):`;
    case 'ELOOP':
      return 'too many symbolic links:';
    default:
      return `cannot access (${code ?? (err as Error).message}):`;
  }
}
