/**
 * Which client addresses may use the proxy (`access.allow` / `access.deny`, DESIGN.md §7). The
 * default admits loopback only: a debugging proxy that decrypts TLS must not become an open proxy
 * because someone passed `--host 0.0.0.0`. Pure: the network layer asks with the peer address.
 */

/** An address range. IPv4-mapped IPv6 ranges (`::ffff:10.0.0.0/104`) are kept as IPv4. */
export interface Cidr {
  family: 4 | 6;
  /** The network address, host bits cleared. */
  base: bigint;
  /** Prefix length: 0–32 for IPv4, 0–128 for IPv6. */
  prefix: number;
  /** As written (trimmed), for messages. */
  text: string;
}

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export type AccessDecision = { allowed: true } | { allowed: false; reason: string };

export interface AccessOptions {
  /** Who may connect; when left out, loopback only (`DEFAULT_ALLOW`). An empty list admits nobody. */
  allow?: readonly string[];
  /** Who may not, whatever `allow` says. @default [] */
  deny?: readonly string[];
}

/** The default of `access.allow`: the IPv4 loopback network and the IPv6 loopback address. */
export const DEFAULT_ALLOW: readonly string[] = Object.freeze(['127.0.0.0/8', '::1/128']);

export const CIDR_EXPECTED = 'expected an IP address or CIDR range like 10.0.0.0/8';

const V4_MAPPED_PREFIX = 0xffffn;

/** Parse `10.0.0.0/8`, `::1/128`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): { ok: true; cidr: Cidr } | { ok: false; error: string } {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addrText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  if (addrText.includes('%')) return { ok: false, error: `${CIDR_EXPECTED} (zone ids such as %eth0 are not allowed)` };
  const ip = parseRawIp(addrText);
  if (!ip) return { ok: false, error: CIDR_EXPECTED };
  const bits = ip.family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const p = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return { ok: false, error: `expected a prefix length from 0 to ${bits} after the / in ${trimmed}` };
    prefix = Number(p);
  }
  let { family, value } = ip;
  // `::ffff:a.b.c.d/N` with N ≥ 96 describes IPv4 addresses; clients' mapped addresses are read as IPv4 too.
  if (family === 6 && prefix >= 96 && value >> 32n === V4_MAPPED_PREFIX) {
    family = 4;
    value &= 0xffffffffn;
    prefix -= 96;
  }
  return { ok: true, cidr: { family, base: value & mask(family, prefix), prefix, text: trimmed } };
}

/**
 * Parse a client address as Node reports it (`127.0.0.1`, `::1`, `::ffff:127.0.0.1`,
 * `fe80::1%eth0`). IPv4-mapped IPv6 addresses come back as IPv4. Null when it is not an address.
 */
export function parseIp(text: string): IpAddress | null {
  const percent = text.indexOf('%');
  const ip = parseRawIp(percent < 0 ? text : text.slice(0, percent));
  if (ip && ip.family === 6 && ip.value >> 32n === V4_MAPPED_PREFIX) return { family: 4, value: ip.value & 0xffffffffn };
  return ip;
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  return cidr.family === ip.family && (ip.value & mask(cidr.family, cidr.prefix)) === cidr.base;
}

/**
 * Compile the access lists once. Deny wins over allow. Throws (naming the entry, e.g.
 * `access.deny[1]: …`) on a range that does not parse; the config schema refuses those earlier.
 */
export function compileAccess(opts: AccessOptions): (address: string) => AccessDecision {
  const allowTexts = opts.allow ?? DEFAULT_ALLOW;
  const allow = compileList(allowTexts, 'access.allow');
  const deny = compileList(opts.deny ?? [], 'access.deny');
  const allowShown = allowTexts.length === 0 ? 'empty' : allowTexts.map((t) => t.trim()).join(', ') + (opts.allow ? '' : ' by default: loopback only');
  return (address: string): AccessDecision => {
    const ip = parseIp(address);
    if (!ip) return { allowed: false, reason: `cannot read the client address ${JSON.stringify(address)}` };
    for (const c of deny) if (cidrContains(c, ip)) return { allowed: false, reason: `${address} is in access.deny (${c.text})` };
    for (const c of allow) if (cidrContains(c, ip)) return { allowed: true };
    return { allowed: false, reason: `${address} is not in access.allow (${allowShown})` };
  };
}

function compileList(texts: readonly string[], field: string): Cidr[] {
  return texts.map((t, i) => {
    const r = parseCidr(t);
    if (!r.ok) throw new Error(`${field}[${i}]: ${r.error}`);
    return r.cidr;
  });
}

function mask(family: 4 | 6, prefix: number): bigint {
  const bits = family === 4 ? 32n : 128n;
  const p = BigInt(prefix);
  return ((1n << bits) - 1n) ^ ((1n << (bits - p)) - 1n);
}

function parseRawIp(text: string): IpAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === null ? null : { family: 6, value: v6 };
}

/** Dotted quad, decimal only: a leading zero (`010`) is refused, as it means octal to some parsers. */
function parseIpv4(text: string): bigint | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  let value = 0n;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if ((part.length > 1 && part.startsWith('0')) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

/** RFC 4291 §2.2 text forms: eight groups, one `::`, and an optional dotted-quad tail. */
function parseIpv6(text: string): bigint | null {
  if (!text.includes(':') || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === null) return null;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) out.push(parseInt(part, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  // A dotted tail is only allowed at the very end.
  if (halves.length === 2 && halves[0]!.includes('.')) return null;
  const count = head.length + tail.length;
  if (halves.length === 2 ? count > 7 : count !== 8) return null;
  const all = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  let value = 0n;
  for (const g of all) value = (value << 16n) | BigInt(g);
  return value;
}
