/**
 * `proxyctl ca install`: trust the root in the user's NSS database (`~/.pki/nssdb`), the store
 * Chromium and Chrome read on Linux, using NSS's own `certutil`; and, where that is not possible,
 * the manual steps for each platform. Nothing here needs root or touches system stores.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { access, chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** NSS trust flags for a root that may identify TLS servers: `C` = trusted CA for SSL; nothing for S/MIME or code signing. */
export const NSS_TRUST = 'C,,';

/** At most this many same-named entries are deleted before adding ours (a database is never that crowded by us). */
const MAX_REPLACED = 20;

/** `<home>/.pki/nssdb`, the shared per-user NSS database on Linux. */
export function nssDbDir(home: string): string {
  return join(home, '.pki', 'nssdb');
}

/** The entry's name in the database: the root's CN, `proxyctl CA <suffix>`, unique per install. */
export function nssNickname(certPem: string): string {
  const cert = new X509Certificate(certPem);
  const cn = /^CN=(.+)$/m.exec(cert.subject)?.[1]?.trim();
  // A root made by someone else may lack a CN; its fingerprint still names it uniquely.
  return cn || `proxyctl CA ${cert.fingerprint256.replaceAll(':', '').slice(0, 6).toLowerCase()}`;
}

export interface NssInstallOptions {
  /** The root certificate. */
  certPem: string;
  /** Its file (`certutil -i` reads it). */
  certPath: string;
  /** The user's home directory; the database is `<home>/.pki/nssdb`. */
  home: string;
  /** Environment for `certutil` (its `HOME` is set to `home`). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The `certutil` program. @default 'certutil' */
  certutil?: string;
  /** Bound for each `certutil` run. @default 10000 */
  timeoutMs?: number;
}

export type NssInstallResult =
  /** Added (or re-added after removing an older entry of the same nickname). */
  | { status: 'installed'; dbDir: string; nickname: string; createdDb: boolean; replaced: number; otherProxyctlRoots: string[] }
  /** This very certificate was already there; its trust flags were set again. */
  | { status: 'already-installed'; dbDir: string; nickname: string; otherProxyctlRoots: string[] }
  /** No `certutil` on PATH (NSS tools not installed). */
  | { status: 'no-certutil' }
  /** `certutil` ran and failed; `step` is what it was asked to do. */
  | { status: 'failed'; dbDir: string; step: string; message: string };

interface CertutilRun {
  code: number;
  stdout: string;
  stderr: string;
}

class NoCertutil extends Error {}

class StepFailed extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

export async function installIntoNss(opts: NssInstallOptions): Promise<NssInstallResult> {
  const dbDir = nssDbDir(opts.home);
  const db = `sql:${dbDir}`;
  const nickname = nssNickname(opts.certPem);
  const run = (step: string, args: string[]) => runCertutil(step, args, opts);
  const must = async (step: string, args: string[]) => {
    const r = await run(step, args);
    if (r.code !== 0) throw new StepFailed(step, describeFailure(r));
    return r;
  };
  try {
    let createdDb = false;
    if (!(await exists(join(dbDir, 'cert9.db')))) {
      try {
        await mkdir(dbDir, { recursive: true, mode: 0o700 });
        // The database holds private keys for client certificates: like ~/.ssh, for its owner only.
        await chmod(dbDir, 0o700);
      } catch (err) {
        throw new StepFailed('create the database directory', (err as Error).message);
      }
      await must('create the database', ['-N', '--empty-password', '-d', db]);
      createdDb = true;
    }

    const existing = await run('look up the entry', ['-L', '-d', db, '-n', nickname, '-a']);
    const pems = existing.code === 0 ? splitPems(existing.stdout) : [];
    const ours = normalizePem(opts.certPem);
    if (pems.length === 1 && normalizePem(pems[0]!) === ours) {
      await must('set the trust flags', ['-M', '-d', db, '-n', nickname, '-t', NSS_TRUST]);
      return { status: 'already-installed', dbDir, nickname, otherProxyctlRoots: await others(run, db, nickname) };
    }

    // Same name, other certificate: a root re-issued under its old name, or a suffix collision.
    // It is removed first: NSS refuses a second certificate under one nickname when the subjects
    // differ (SEC_ERROR_ADDING_CERT, seen with NSS 3.87), and would pick either one when they match.
    let replaced = 0;
    while (replaced < MAX_REPLACED && (await run('remove the older entry', ['-D', '-d', db, '-n', nickname])).code === 0) replaced++;

    await must('add the certificate', ['-A', '-d', db, '-t', NSS_TRUST, '-n', nickname, '-i', opts.certPath]);
    return { status: 'installed', dbDir, nickname, createdDb, replaced, otherProxyctlRoots: await others(run, db, nickname) };
  } catch (err) {
    if (err instanceof NoCertutil) return { status: 'no-certutil' };
    if (err instanceof StepFailed) return { status: 'failed', dbDir, step: err.step, message: err.message };
    throw err;
  }
}

/** Roots of other proxyctl installs in the same database (the user may want to remove them). */
async function others(run: (step: string, args: string[]) => Promise<CertutilRun>, db: string, nickname: string): Promise<string[]> {
  const list = await run('list the database', ['-L', '-d', db]);
  if (list.code !== 0) return [];
  return parseNssList(list.stdout)
    .map((e) => e.nickname)
    .filter((n) => n.startsWith('proxyctl CA ') && n !== nickname);
}

export interface NssEntry {
  nickname: string;
  /** e.g. `C,,` or `CT,C,C` */
  trust: string;
}

/** The entries of `certutil -L` output (a two-line header, then `nickname<spaces>trust` rows). */
export function parseNssList(text: string): NssEntry[] {
  const entries: NssEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\S.*?)\s+([a-zA-Z]*,[a-zA-Z]*,[a-zA-Z]*)\s*$/.exec(line);
    if (m) entries.push({ nickname: m[1]!, trust: m[2]! });
  }
  return entries;
}

function runCertutil(step: string, args: string[], opts: NssInstallOptions): Promise<CertutilRun> {
  const timeout = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    execFile(
      opts.certutil ?? 'certutil',
      args,
      { env: { ...(opts.env ?? process.env), HOME: opts.home }, timeout, killSignal: 'SIGKILL', encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        if (e.code === 'ENOENT') return reject(new NoCertutil());
        if (e.killed) return reject(new StepFailed(step, `certutil did not finish within ${timeout} ms`));
        if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
        reject(new StepFailed(step, e.message));
      },
    );
  });
}

function describeFailure(r: CertutilRun): string {
  const text = (r.stderr || r.stdout).trim();
  return `certutil exited with code ${r.code}${text ? `: ${text}` : ''}`;
}

function splitPems(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/** The base64 body only, so line lengths and line endings do not matter. */
function normalizePem(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    // Any failure means "not usable as is": certutil -N then creates it or reports why it cannot.
    return false;
  }
}

/** POSIX shell single quoting for paths shown in copy-paste commands. */
function sh(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Windows cmd quoting: double quotes when needed (paths with spaces). */
function cmd(value: string): string {
  return /[\s&()^]/.test(value) ? `"${value}"` : value;
}

/** The manual steps for every platform, for a user without `certutil` or on macOS / Windows. */
export function manualTrustSteps(certPath: string, nickname: string): string {
  const p = sh(certPath);
  return [
    `Trust the proxyctl root CA (${certPath}) by hand, for the tools you use:`,
    '',
    'Chromium / Chrome on Linux, this user only (needs NSS tools: apt-get install libnss3-tools, dnf install nss-tools):',
    '  mkdir -p ~/.pki/nssdb && certutil -N --empty-password -d sql:$HOME/.pki/nssdb    # first time only',
    `  certutil -A -d sql:$HOME/.pki/nssdb -t ${NSS_TRUST} -n ${sh(nickname)} -i ${p}`,
    '  (then run `proxyctl ca install` again, or restart the browser)',
    '',
    'Debian / Ubuntu, system-wide (curl, wget, Python, apt …):',
    `  sudo cp ${p} /usr/local/share/ca-certificates/proxyctl-ca.crt && sudo update-ca-certificates`,
    '',
    'Fedora / RHEL, system-wide:',
    `  sudo cp ${p} /etc/pki/ca-trust/source/anchors/proxyctl-ca.pem && sudo update-ca-trust`,
    '',
    'macOS (Safari, Chrome; the login keychain, asks for your password):',
    `  security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db ${p}`,
    `  system-wide: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${p}`,
    '',
    'Windows (Edge, Chrome; in cmd or PowerShell):',
    `  certutil -user -addstore Root ${cmd(certPath)}        (all users, as administrator: certutil -addstore Root ${cmd(certPath)})`,
    '',
    'Firefox keeps its own store on every platform:',
    `  Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import… ${certPath}`,
    '  and tick "Trust this CA to identify websites".',
    '',
    'Terminals (Node, curl, git, Python) for the current shell, without changing any store:',
    '  eval "$(proxyctl ca env)"',
    '',
    'Or leave the system alone: `proxyctl browser` opens a Chromium that trusts the CA for its own temporary profile.',
  ].join('\n');
}
