import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Apache htpasswd files (https://httpd.apache.org/docs/2.4/misc/password_encryptions.html), read
 * for proxy authentication. Supported: `{SHA}` (`htpasswd -s`), `$apr1$` (`htpasswd -m`, Apache's
 * default) and `$1$` (the same MD5-crypt with glibc's magic). Refused with a problem message:
 * bcrypt (`htpasswd -B`: verifying it needs a Blowfish implementation we do not ship), SHA-crypt
 * `$5$`/`$6$`, crypt() DES and plain text (Apache accepts plain text only on Windows and NetWare,
 * and it cannot be told apart from a DES hash).
 */

export interface HtpasswdEntry {
  user: string;
  scheme: 'sha1' | 'apr1' | 'md5-crypt';
  /** The hash field as written in the file, e.g. `$apr1$SALT$0NCArlDjo66YcnLIFJluC/`. */
  hash: string;
  /** 1-based line number in the file, for messages. */
  line: number;
}

export interface HtpasswdParseResult {
  entries: HtpasswdEntry[];
  /** One message per refused line, each starting with `line N:`. */
  problems: string[];
}

const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const MD5_CRYPT = /^\$(apr1|1)\$([^$]{0,8})\$([./0-9A-Za-z]{22})$/;

/** Parse an htpasswd file. Blank lines and `#` comments are skipped; the first line for a user wins. */
export function parseHtpasswd(text: string): HtpasswdParseResult {
  const entries: HtpasswdEntry[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const colon = raw.indexOf(':');
    if (colon <= 0) {
      problems.push(`line ${lineNo}: expected user:hash`);
      continue;
    }
    const user = raw.slice(0, colon);
    // Some tools append `:comment` fields (htdigest-like); the hash never contains a colon.
    const hash = raw.slice(colon + 1).split(':')[0]!;
    const scheme = classify(hash);
    if (typeof scheme !== 'string') {
      problems.push(`line ${lineNo}: user ${user}: ${scheme.problem}`);
      continue;
    }
    const first = seen.get(user);
    if (first !== undefined) {
      problems.push(`line ${lineNo}: user ${user} is listed again (line ${first} is used)`);
      continue;
    }
    seen.set(user, lineNo);
    entries.push({ user, scheme, hash, line: lineNo });
  }
  return { entries, problems };
}

type Classified = HtpasswdEntry['scheme'] | { problem: string };

function classify(hash: string): Classified {
  if (hash === '') return { problem: 'empty password hash' };
  if (hash.startsWith('{SHA}')) {
    const digest = Buffer.from(hash.slice(5), 'base64');
    return digest.length === 20 && /^[A-Za-z0-9+/]{27}=$/.test(hash.slice(5)) ? 'sha1' : { problem: 'malformed {SHA} hash (expected base64 of 20 bytes)' };
  }
  if (hash.startsWith('$apr1$') || hash.startsWith('$1$')) {
    const m = MD5_CRYPT.exec(hash);
    if (!m) return { problem: `malformed ${hash.startsWith('$1$') ? '$1$' : '$apr1$'} hash (expected $apr1$SALT$ and 22 characters)` };
    return m[1] === 'apr1' ? 'apr1' : 'md5-crypt';
  }
  if (/^\$2[abxy]?\$/.test(hash)) {
    return { problem: 'bcrypt hashes ($2y$, htpasswd -B) are not supported; use htpasswd -m (apr1) or -s (SHA-1)' };
  }
  if (/^\$[56]\$/.test(hash)) return { problem: 'SHA-crypt hashes ($5$, $6$) are not supported; use htpasswd -m (apr1) or -s (SHA-1)' };
  if (hash.startsWith('$')) return { problem: `unknown hash format ${hash.slice(0, hash.indexOf('$', 1) + 1) || hash.slice(0, 4)}` };
  return {
    problem: 'plain-text passwords and crypt() DES hashes are refused (Apache allows plain text only on Windows); use htpasswd -m (apr1) or -s (SHA-1)',
  };
}

/** True when `password` matches the entry. Compares in constant time (over SHA-256 of both sides). */
export function verifyPassword(entry: HtpasswdEntry, password: string): boolean {
  let computed: string;
  switch (entry.scheme) {
    case 'sha1':
      computed = `{SHA}${createHash('sha1').update(password, 'utf8').digest('base64')}`;
      break;
    case 'apr1':
    case 'md5-crypt': {
      const m = MD5_CRYPT.exec(entry.hash);
      if (!m) return false;
      computed = md5Crypt(Buffer.from(password, 'utf8'), m[2]!, entry.scheme === 'apr1' ? '$apr1$' : '$1$');
      break;
    }
  }
  return constantTimeEqual(computed, entry.hash);
}

/**
 * Equal strings, in time independent of where they differ: both sides are hashed first so the
 * lengths match too (timingSafeEqual throws on different lengths, which would leak the length).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/**
 * MD5-crypt, Poul-Henning Kamp's algorithm (FreeBSD `crypt-md5.c`), which Apache's apr1 reuses
 * with the magic `$apr1$` (apr_md5.c). Returns the whole `$magic$salt$hash` string.
 */
export function md5Crypt(password: Buffer, salt: string, magic: '$apr1$' | '$1$'): string {
  const saltBytes = Buffer.from(salt, 'utf8');
  const alternate = createHash('md5').update(password).update(saltBytes).update(password).digest();
  const ctx = createHash('md5').update(password).update(magic).update(saltBytes);
  for (let left = password.length; left > 0; left -= 16) ctx.update(alternate.subarray(0, Math.min(left, 16)));
  // The original code feeds `pw[0]` for a 0 bit and a NUL byte for a 1 bit (a well-known quirk).
  const zero = Buffer.alloc(1);
  const firstByte = password.subarray(0, 1);
  for (let i = password.length; i > 0; i >>= 1) ctx.update(i & 1 ? zero : firstByte);
  let final = ctx.digest();
  // 1000 rounds "to slow down the attacker" (crypt-md5.c).
  for (let i = 0; i < 1000; i++) {
    const round = createHash('md5');
    round.update(i & 1 ? password : final);
    if (i % 3) round.update(saltBytes);
    if (i % 7) round.update(password);
    round.update(i & 1 ? final : password);
    final = round.digest();
  }
  const b = final;
  const encoded =
    to64((b[0]! << 16) | (b[6]! << 8) | b[12]!, 4) +
    to64((b[1]! << 16) | (b[7]! << 8) | b[13]!, 4) +
    to64((b[2]! << 16) | (b[8]! << 8) | b[14]!, 4) +
    to64((b[3]! << 16) | (b[9]! << 8) | b[15]!, 4) +
    to64((b[4]! << 16) | (b[10]! << 8) | b[5]!, 4) +
    to64(b[11]!, 2);
  return `${magic}${salt}$${encoded}`;
}

function to64(value: number, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) {
    out += CRYPT_ALPHABET[value & 0x3f];
    value >>>= 6;
  }
  return out;
}
