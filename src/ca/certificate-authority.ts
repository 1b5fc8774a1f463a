/**
 * The proxy's certificate authority: one root per install, one shared leaf key, and a bounded,
 * expiry-aware cache of per-host leaves and their TLS contexts (DESIGN.md §8).
 */
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { promisify } from 'node:util';
import { readOrCreateCaFiles } from './ca-files.js';
import { type CertHost, parseCertHost } from './host.js';
import { LeafIssuer } from './leaf.js';
import { LruCache } from './lru.js';
import { generateRootPem, loadRoot, type RootMaterial } from './root.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A cached leaf is replaced once it is this close to its notAfter. */
export const LEAF_RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;

export interface FromPemOptions {
  /**
   * Most per-host leaves (and TLS contexts) kept; the least recently used is dropped beyond it.
   * @default 1000
   */
  cacheSize?: number;
  /** The clock for validity periods and expiry decisions (tests inject one). @default () => new Date() */
  now?: () => Date;
  /**
   * Merged into every leaf's `tls.createSecureContext` options (e.g. `minVersion`); `key` and
   * `cert` are always ours.
   * @default {}
   */
  secureContextOptions?: SecureContextOptions;
}

export interface CaOptions extends FromPemOptions {
  /** `$PROXYCTL_HOME/ca` */
  dir: string;
}

export interface LeafCertificate {
  /** The leaf alone (the chain's root is `CertificateAuthority.certPem`). */
  certPem: string;
  /** The shared leaf private key (PKCS#8 PEM, EC P-256). */
  keyPem: string;
  notAfter: Date;
}

export interface CaStats {
  /** Leaves signed since start (first uses, evicted hosts coming back, renewals). */
  issued: number;
  /** Lookups answered from the cache. */
  cacheHits: number;
  /** Hosts currently cached. */
  cached: number;
}

interface CacheEntry {
  certPem: string;
  notAfter: Date;
  /** Epoch ms from which the entry is renewed instead of served. */
  renewAt: number;
  /** Made on first `secureContextFor`; `leafFor` alone does not need one. */
  context: SecureContext | undefined;
}

interface Paths {
  certPath: string | null;
  keyPath: string | null;
  created: boolean;
}

export class CertificateAuthority {
  /** Load the root from `opts.dir`, creating it on first use; then make the shared leaf key. */
  static async loadOrCreate(opts: CaOptions): Promise<CertificateAuthority> {
    const now = opts.now ?? (() => new Date());
    const files = await readOrCreateCaFiles(opts.dir, { generate: () => generateRootPem(now()) });
    const root = loadRoot(files.certPem, files.keyPem, now(), files);
    return CertificateAuthority.#create(root, opts, files);
  }

  /** A CA from PEM text (tests use the fixture CA); nothing is read from or written to disk. */
  static async fromPem(certPem: string, keyPem: string, opts: FromPemOptions = {}): Promise<CertificateAuthority> {
    const root = loadRoot(certPem, keyPem, (opts.now ?? (() => new Date()))());
    return CertificateAuthority.#create(root, opts, { certPath: null, keyPath: null, created: false });
  }

  static async #create(root: RootMaterial, opts: FromPemOptions, paths: Paths): Promise<CertificateAuthority> {
    // One P-256 key for every leaf, made off the event loop (DESIGN.md §8).
    const leafKey = await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' });
    return new CertificateAuthority(root, leafKey, opts, paths);
  }

  /** The root certificate (PEM). */
  readonly certPem: string;
  /** `<dir>/ca.pem`, or null for `fromPem`. */
  readonly certPath: string | null;
  /** `<dir>/ca.key`, or null for `fromPem`. */
  readonly keyPath: string | null;
  /** True when `loadOrCreate` generated this root just now. */
  readonly created: boolean;
  /** base64 SHA-256 of the root's SubjectPublicKeyInfo (Chromium's `--ignore-certificate-errors-spki-list`). */
  readonly spkiSha256: string;
  /** e.g. `CN=proxyctl CA 3f9a1c, O=proxyctl` */
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
  readonly fingerprintSha256: string;

  readonly #issuer: LeafIssuer;
  readonly #leafKeyPem: string;
  readonly #cache: LruCache<string, CacheEntry>;
  readonly #now: () => Date;
  readonly #contextOptions: SecureContextOptions;
  #issued = 0;
  #hits = 0;

  private constructor(
    root: RootMaterial,
    leafKey: { publicKey: KeyObject; privateKey: KeyObject },
    opts: FromPemOptions,
    paths: Paths,
  ) {
    this.certPem = root.certPem;
    this.certPath = paths.certPath;
    this.keyPath = paths.keyPath;
    this.created = paths.created;
    this.spkiSha256 = root.spkiSha256;
    this.subject = root.cert.subject.split('\n').join(', ');
    this.notBefore = root.notBefore;
    this.notAfter = root.notAfter;
    this.fingerprintSha256 = root.cert.fingerprint256;
    this.#issuer = new LeafIssuer(root, leafKey.publicKey);
    this.#leafKeyPem = leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    this.#cache = new LruCache(opts.cacheSize ?? 1000);
    this.#now = opts.now ?? (() => new Date());
    this.#contextOptions = opts.secureContextOptions ?? {};
  }

  /**
   * The TLS context for `host` (a DNS name or an IP literal), leaf + root chain. Synchronous, for
   * SNI callbacks. Throws `CaError('CA_INVALID_HOST')` for a name no certificate should carry.
   */
  secureContextFor(host: string): SecureContext {
    const entry = this.#entryFor(host);
    // The root goes in the chain too: clients that pin it by SPKI (Chromium's
    // --ignore-certificate-errors-spki-list) only see what the server sends.
    entry.context ??= createSecureContext({
      ...this.#contextOptions,
      key: this.#leafKeyPem,
      cert: entry.certPem + this.certPem,
    });
    return entry.context;
  }

  /** The leaf certificate for `host` (shared with `secureContextFor`'s cache). */
  leafFor(host: string): LeafCertificate {
    const entry = this.#entryFor(host);
    return { certPem: entry.certPem, keyPem: this.#leafKeyPem, notAfter: entry.notAfter };
  }

  stats(): CaStats {
    return { issued: this.#issued, cacheHits: this.#hits, cached: this.#cache.size };
  }

  #entryFor(host: string): CacheEntry {
    const now = this.#now();
    // Fast path: cache keys are normalized names and normalizing is idempotent, so a hit on the
    // raw string is the right entry without parsing it again.
    let key = host;
    let entry = this.#cache.get(key);
    if (!entry) {
      key = parseCertHost(host).name;
      entry = this.#cache.get(key);
    }
    if (entry && now.getTime() < entry.renewAt) {
      this.#hits++;
      return entry;
    }
    return this.#issue(parseCertHost(key), now);
  }

  #issue(host: CertHost, now: Date): CacheEntry {
    const leaf = this.#issuer.issue(host, now);
    this.#issued++;
    const entry: CacheEntry = {
      certPem: leaf.certPem,
      notAfter: leaf.notAfter,
      renewAt: leaf.notAfter.getTime() - LEAF_RENEW_BEFORE_MS,
      context: undefined,
    };
    this.#cache.set(host.name, entry);
    return entry;
  }
}
