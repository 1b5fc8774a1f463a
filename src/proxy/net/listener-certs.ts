/**
 * Certificates configured per server name for TLS that ends at the listener itself (reverse mode,
 * `reverse.tls.certs`): the table the TLS terminator asks first, before the CA makes one.
 *
 * Files are read once at start (a broken pair refuses to start, naming the field) and watched
 * afterwards. Renewals (certbot, cert-manager, a hand-run `openssl`) write the certificate and the
 * key as two separate files, so for a moment the pair on disk does not belong together, or a file
 * is half written: such a version is refused with a warning and the previous context stays in
 * force; the next event (the second file landing) loads the good pair.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { lstatSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';

/** One `reverse.tls.certs[i]` entry, as written in the config. */
export interface ListenerCertSpec {
  /** An exact name (`api.local`) or a one-label wildcard (`*.example`). */
  serverName: string;
  /** PEM certificate (chain allowed); relative paths resolve against `baseDir`. */
  cert: string;
  /** PEM private key matching the certificate. */
  key: string;
}

export interface ListenerCertsOptions {
  /** Folder relative paths resolve against (the config file's). */
  baseDir: string;
  /** Where reload notes and warnings go (the event log). */
  log(level: 'info' | 'warn', message: string): void;
  /** Quiet time after the last file-system event before the files are read. @default 150 */
  debounceMs?: number;
}

/** A `reverse.tls.certs` entry that cannot be loaded at start; the message names the field. */
export class ListenerCertError extends Error {
  readonly code = 'LISTENER_CERT_INVALID';
}

interface Entry {
  readonly spec: ListenerCertSpec;
  /** Config field prefix, e.g. `reverse.tls.certs[1]`. */
  readonly field: string;
  /** Lower-case name without a trailing dot; wildcards keep their `*.`. */
  readonly name: string;
  readonly certPath: string;
  readonly keyPath: string;
  context: SecureContext;
  /** Hash of the cert+key text in force, so an unchanged save reloads nothing. */
  inForce: string;
  /** Hash of the last refused version, so one broken save warns once, not once per event. */
  refused: string | null;
  timer: NodeJS.Timeout | null;
  reading: boolean;
  again: boolean;
}

/** Lower-case, without the trailing dot of a fully qualified name. */
export function normalizeServerName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * The entry for `host` among `names`: an exact name first, then a wildcard `*.rest` that covers
 * exactly one more label (RFC 6125 §6.4.3: `*.example` matches `a.example`, not `example` nor
 * `a.b.example`). Returns the index, or -1.
 */
export function matchServerName(names: readonly string[], host: string): number {
  const wanted = normalizeServerName(host);
  const exact = names.indexOf(wanted);
  if (exact !== -1) return exact;
  const dot = wanted.indexOf('.');
  if (dot <= 0) return -1;
  return names.indexOf(`*${wanted.slice(dot)}`);
}

/** The table of listener certificates; `close()` stops watching. */
export class ListenerCerts {
  readonly #entries: Entry[];
  readonly #names: string[];
  readonly #opts: ListenerCertsOptions;
  readonly #watchers: FSWatcher[] = [];
  #closed = false;

  /**
   * Read every pair now (synchronously: this runs once, at start).
   * @throws ListenerCertError naming the first entry that cannot be used.
   */
  static load(specs: readonly ListenerCertSpec[], opts: ListenerCertsOptions): ListenerCerts {
    const entries = specs.map((spec, i): Entry => {
      const field = `reverse.tls.certs[${i}]`;
      const name = normalizeServerName(spec.serverName);
      if (!/^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(name)) {
        throw new ListenerCertError(`${field}.serverName: expected a host name or *.domain, got ${JSON.stringify(spec.serverName)}`);
      }
      const certPath = resolve(opts.baseDir, spec.cert);
      const keyPath = resolve(opts.baseDir, spec.key);
      let certText: string;
      let keyText: string;
      try {
        certText = readFileSync(certPath, 'utf8');
      } catch (err) {
        throw new ListenerCertError(`${field}.cert: cannot read ${spec.cert}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      try {
        keyText = readFileSync(keyPath, 'utf8');
      } catch (err) {
        throw new ListenerCertError(`${field}.key: cannot read ${spec.key}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const built = buildContext(certText, keyText);
      if (!built.ok) throw new ListenerCertError(`${field}: ${built.problem}`);
      if (!name.startsWith('*.') && built.cert.checkHost(name) === undefined) {
        opts.log('warn', `${field}: the certificate in ${spec.cert} does not name ${name}; clients that check names will refuse it`);
      }
      return { spec, field, name, certPath, keyPath, context: built.context, inForce: hashPair(certText, keyText), refused: null, timer: null, reading: false, again: false };
    });
    const dupe = entries.findIndex((e, i) => entries.findIndex((o) => o.name === e.name) !== i);
    if (dupe !== -1) throw new ListenerCertError(`reverse.tls.certs[${dupe}].serverName: ${entries[dupe]!.name} is listed twice`);
    return new ListenerCerts(entries, opts);
  }

  private constructor(entries: Entry[], opts: ListenerCertsOptions) {
    this.#entries = entries;
    this.#names = entries.map((e) => e.name);
    this.#opts = opts;
  }

  /** The configured context for the name a client asked for (SNI), or null: the CA makes one. */
  contextFor(serverName: string): SecureContext | null {
    const i = matchServerName(this.#names, serverName);
    return i === -1 ? null : this.#entries[i]!.context;
  }

  /** Server names in the table, as configured (normalized). */
  get serverNames(): readonly string[] {
    return this.#names;
  }

  /**
   * Watch the files' folders (not the files: editors and cert-manager replace a file by renaming
   * another over it, which leaves a watch on the old inode looking at a deleted file).
   */
  watch(): void {
    if (this.#closed || this.#watchers.length) return;
    const byDir = new Map<string, Entry[]>();
    for (const e of this.#entries) {
      for (const p of [e.certPath, e.keyPath]) {
        const list = byDir.get(dirname(p)) ?? [];
        if (!list.includes(e)) list.push(e);
        byDir.set(dirname(p), list);
      }
    }
    for (const [dir, entries] of byDir) {
      // A symlinked file (a Kubernetes Secret mount: `tls.crt -> ..data/tls.crt`) changes by a
      // sibling link being swapped, so events never name it: then every event in the folder counts.
      const anyName = entries.some((e) => isSymlink(e.certPath) || isSymlink(e.keyPath));
      let watcher: FSWatcher;
      try {
        watcher = watch(dir, (_event, filename) => {
          for (const e of entries) {
            if (anyName || filename === null || filename === basename(e.certPath) || filename === basename(e.keyPath)) this.#schedule(e);
          }
        });
      } catch (err) {
        this.#opts.log('warn', `cannot watch ${dir} for certificate changes (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); restart to pick up new certificates`);
        continue;
      }
      watcher.on('error', (err: NodeJS.ErrnoException) => {
        if (this.#closed) return;
        watcher.close();
        this.#opts.log('warn', `stopped watching ${dir} for certificate changes (${err.code ?? err.message}); the certificates in force stay`);
      });
      this.#watchers.push(watcher);
    }
  }

  /** Stop watching; no reload runs after this. */
  close(): void {
    this.#closed = true;
    for (const w of this.#watchers) w.close();
    this.#watchers.length = 0;
    for (const e of this.#entries) {
      if (e.timer) clearTimeout(e.timer);
      e.timer = null;
    }
  }

  #schedule(e: Entry): void {
    if (this.#closed) return;
    if (e.timer) clearTimeout(e.timer);
    e.timer = setTimeout(() => {
      e.timer = null;
      void this.#reload(e);
    }, this.#opts.debounceMs ?? 150);
  }

  /** Re-read one pair; one read at a time per entry, so versions land in the order they were saved. */
  async #reload(e: Entry): Promise<void> {
    if (e.reading) {
      e.again = true;
      return;
    }
    e.reading = true;
    try {
      do {
        e.again = false;
        await this.#reloadOnce(e);
      } while (e.again && !this.#closed);
    } finally {
      e.reading = false;
    }
  }

  async #reloadOnce(e: Entry): Promise<void> {
    let certText: string;
    let keyText: string;
    try {
      [certText, keyText] = await Promise.all([readFile(e.certPath, 'utf8'), readFile(e.keyPath, 'utf8')]);
    } catch (err) {
      if (this.#closed) return;
      // Mid-rename or removed: keep serving what is in force; the file coming back is an event.
      const h = `error:${(err as NodeJS.ErrnoException).code ?? ''}`;
      if (e.refused === h) return;
      e.refused = h;
      this.#opts.log('warn', `certificate for ${e.name} not reloaded: cannot read its files (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); keeping the previous one`);
      return;
    }
    if (this.#closed) return;
    const h = hashPair(certText, keyText);
    if (h === e.inForce) {
      e.refused = null;
      return;
    }
    if (h === e.refused) return;
    const built = buildContext(certText, keyText);
    if (!built.ok) {
      e.refused = h;
      this.#opts.log('warn', `certificate for ${e.name} not reloaded: ${built.problem}; keeping the previous one`);
      return;
    }
    e.context = built.context;
    e.inForce = h;
    e.refused = null;
    this.#opts.log('info', `reloaded certificate for ${e.name} (${e.spec.cert}, valid until ${built.cert.validTo})`);
  }
}

type Built = { ok: true; context: SecureContext; cert: X509Certificate } | { ok: false; problem: string };

/** Parse and check one pair; every failure is a sentence, never a throw. */
function buildContext(certText: string, keyText: string): Built {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certText);
  } catch (err) {
    return { ok: false, problem: `the certificate is not a PEM certificate (${(err as Error).message})` };
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyText);
  } catch (err) {
    return { ok: false, problem: `the key is not a PEM private key (${(err as Error).message})` };
  }
  if (!cert.checkPrivateKey(key)) return { ok: false, problem: 'the certificate and the key do not belong together' };
  try {
    return { ok: true, context: createSecureContext({ cert: certText, key: keyText }), cert };
  } catch (err) {
    return { ok: false, problem: `TLS refused the pair (${(err as Error).message})` };
  }
}

function hashPair(cert: string, key: string): string {
  return createHash('sha256').update(cert).update('\0').update(key).digest('hex');
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    // Missing now: it was readable at load, so it is being replaced; the name filter applies.
    return false;
  }
}
