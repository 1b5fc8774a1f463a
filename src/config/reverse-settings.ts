import { z } from 'zod';
import {
  DEFAULT_GROUP,
  DEFAULT_HEALTH,
  DEFAULT_PASSIVE,
  type BackendSettings,
  type BalanceKind,
  type GroupSettings,
  type HealthSettings,
  type PassiveSettings,
  type ReverseSettings,
  type RouteSettings,
} from '../proxy/reverse/settings.js';
import { UsageError } from './usage-error.js';

/**
 * The config's `reverse` section (DESIGN.md §7), piece by piece, and its resolution with
 * `--mode reverse[:URL…]` into the settings the reverse core runs on. The pieces are used by
 * src/config/schema.ts; cross-references (a route naming a group) are checked there too, so
 * `proxyctl config check` reports them with their path.
 */

/** A backend's base URL: http(s), a host, maybe a path prefix; no credentials, query or fragment. */
export const backendUrlSchema = z.string().superRefine((text, ctx) => {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected an http:// or https:// URL like http://127.0.0.1:3001' });
    return;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `expected an http:// or https:// URL (got ${u.protocol}//)` });
  else if (u.hostname === '') ctx.addIssue({ code: 'custom', message: 'expected a host in the URL' });
  else if (u.username || u.password) ctx.addIssue({ code: 'custom', message: 'credentials in a backend URL are not supported' });
  else if (u.search || u.hash || text.includes('#')) ctx.addIssue({ code: 'custom', message: 'a backend URL takes no query or fragment (a path prefix is fine)' });
});

export const balanceSchema = z.enum(['round-robin', 'weighted', 'least-connections', 'ip-hash'], {
  message: 'expected round-robin, weighted, least-connections or ip-hash',
});

export const backendSchema = z.object({ url: backendUrlSchema, weight: z.number().int().positive().default(1) }).strict();

const absolutePath = z.string().regex(/^\/[^\s#]*$/, 'expected a path starting with /');

export const healthSchema = z
  .object({
    /** @default / */
    path: absolutePath.optional(),
    /** @default 2000 */
    intervalMs: z.number().int().positive().optional(),
    /** @default 1000 */
    timeoutMs: z.number().int().positive().optional(),
    /** @default 2 */
    unhealthyAfter: z.number().int().positive().optional(),
    /** @default 2 */
    healthyAfter: z.number().int().positive().optional(),
  })
  .strict();

export const passiveSchema = z
  .object({
    /** Consecutive failed requests (connection failures, 5xx) that mark a backend down; 0: never. @default 3 */
    failures: z.number().int().min(0).optional(),
    /** Without active checks, a backend marked down by traffic is tried again after this. @default 10000 */
    cooldownMs: z.number().int().positive().optional(),
  })
  .strict();

export const groupNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a group name: letters, digits, dot, dash or underscore');

export const groupSchema = z
  .object({
    balance: balanceSchema.optional(),
    backends: z.array(backendSchema).min(1, 'expected at least one backend'),
    health: healthSchema.optional(),
    passive: passiveSchema.optional(),
  })
  .strict();

const hostPattern = z.string().regex(/^(\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/, 'expected a host name like api.local or *.example.com (no port)');

export const routeSchema = z
  .object({
    /** Virtual host: `api.local` or `*.example.com`; absent: any host. */
    host: hostPattern.optional(),
    /** @default / */
    pathPrefix: absolutePath.optional(),
    /** The route's own backends (a group of its own)… */
    backends: z.array(backendSchema).min(1, 'expected at least one backend').optional(),
    /** …or a group from `reverse.groups` (or `default`, the top-level backends). */
    group: groupNameSchema.optional(),
    /** Balance of the route's own backends. @default reverse.balance */
    balance: balanceSchema.optional(),
    /** Remove `pathPrefix` before forwarding. @default false */
    stripPrefix: z.boolean().optional(),
  })
  .strict()
  .superRefine((route, ctx) => {
    if ((route.backends === undefined) === (route.group === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected either backends or group (exactly one)' });
    }
    if (route.balance !== undefined && route.group !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['balance'], message: 'a route naming a group takes its balance from the group' });
    }
  });

type BackendInput = z.infer<typeof backendSchema>;
type GroupInput = z.infer<typeof groupSchema>;
type RouteInput = z.infer<typeof routeSchema>;

/** The reverse section as parsed (the fields resolution reads). */
export interface ReverseSectionInput {
  balance?: BalanceKind | undefined;
  backends?: BackendInput[] | undefined;
  health?: z.infer<typeof healthSchema> | undefined;
  passive?: z.infer<typeof passiveSchema> | undefined;
  groups?: Record<string, GroupInput> | undefined;
  routes?: RouteInput[] | undefined;
  defaultGroup?: string | undefined;
  forwarded?: { enabled?: boolean | undefined; anonymize?: boolean | undefined } | undefined;
  hostHeader?: 'keep' | 'rewrite' | undefined;
}

/** Cross-references of the section: groups named by routes and `defaultGroup` must exist. */
export function checkReverseReferences(section: ReverseSectionInput, ctx: z.RefinementCtx): void {
  const names = new Set(Object.keys(section.groups ?? {}));
  if (section.backends !== undefined) {
    if (names.has(DEFAULT_GROUP)) ctx.addIssue({ code: 'custom', path: ['groups', DEFAULT_GROUP], message: `"${DEFAULT_GROUP}" is the group of reverse.backends; pick another name` });
    names.add(DEFAULT_GROUP);
  }
  const known = names.size ? [...names].join(', ') : 'none defined';
  (section.routes ?? []).forEach((r, i) => {
    if (r.group !== undefined && !names.has(r.group)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'group'], message: `no group named ${JSON.stringify(r.group)} (groups: ${known})` });
  });
  if (section.defaultGroup !== undefined && !names.has(section.defaultGroup)) {
    ctx.addIssue({ code: 'custom', path: ['defaultGroup'], message: `no group named ${JSON.stringify(section.defaultGroup)} (groups: ${known})` });
  }
}

/** What resolution produced, plus notes for the event log (settings that do not apply). */
export interface ResolvedReverse {
  settings: ReverseSettings;
  notes: string[];
}

/**
 * Resolve reverse mode: backend URLs from the mode (`reverse:URL,…`) make the one `default` group
 * and every request goes there (the section's groups and routes are then unused, and said so);
 * bare `reverse` takes groups, routes and the default from the section. The section's balance,
 * health, passive, forwarded and hostHeader apply either way. Throws UsageError naming the field.
 */
export function resolveReverseSettings(urls: readonly string[], section: ReverseSectionInput | undefined): ResolvedReverse {
  const s = section ?? {};
  const notes: string[] = [];
  const balance: BalanceKind = s.balance ?? 'round-robin';
  const health = s.health ? mergeHealth(s.health) : null;
  const passive: PassiveSettings = { ...DEFAULT_PASSIVE, ...defined(s.passive ?? {}) };
  const groups: GroupSettings[] = [];
  const routes: RouteSettings[] = [];
  let defaultGroup: string | null;

  if (urls.length > 0) {
    const configured = new Map((s.backends ?? []).map((b) => [normalizeUrl(b.url), b.weight]));
    const backends = urls.map((url, i) => {
      const parsed = backendUrlSchema.safeParse(url);
      if (!parsed.success) throw new UsageError(`--mode reverse: backend ${i + 1} ${JSON.stringify(url)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      return { url, weight: configured.get(normalizeUrl(url)) ?? 1 };
    });
    groups.push({ name: DEFAULT_GROUP, balance, backends, health, passive });
    defaultGroup = DEFAULT_GROUP;
    if (s.routes?.length || Object.keys(s.groups ?? {}).length) {
      notes.push('reverse.routes and reverse.groups are not used: mode reverse:URL… sends every request to its URLs (use mode "reverse" to route by the config)');
    }
  } else {
    if (s.backends?.length) groups.push({ name: DEFAULT_GROUP, balance, backends: backendsOf(s.backends), health, passive });
    for (const [name, g] of Object.entries(s.groups ?? {})) {
      groups.push({
        name,
        balance: g.balance ?? balance,
        backends: backendsOf(g.backends),
        health: g.health ? mergeHealth({ ...defined(s.health ?? {}), ...defined(g.health) }) : health,
        passive: { ...passive, ...defined(g.passive ?? {}) },
      });
    }
    const taken = new Set(groups.map((g) => g.name));
    (s.routes ?? []).forEach((r, i) => {
      let group = r.group;
      if (group === undefined) {
        group = uniqueName(`${r.host ?? '*'}${r.pathPrefix ?? '/'}`, taken);
        taken.add(group);
        groups.push({ name: group, balance: r.balance ?? balance, backends: backendsOf(r.backends ?? []), health, passive });
      } else if (!taken.has(group)) {
        throw new UsageError(`reverse.routes[${i}].group: no group named ${JSON.stringify(group)}`);
      }
      routes.push({ host: r.host ?? null, pathPrefix: r.pathPrefix ?? '/', group, stripPrefix: r.stripPrefix ?? false });
    });
    defaultGroup = s.defaultGroup ?? (s.backends?.length ? DEFAULT_GROUP : null);
    if (defaultGroup !== null && !taken.has(defaultGroup)) throw new UsageError(`reverse.defaultGroup: no group named ${JSON.stringify(defaultGroup)}`);
  }
  if (groups.length === 0 || groups.every((g) => g.backends.length === 0)) {
    throw new UsageError('reverse mode needs backends: --mode reverse:URL[,URL…], or reverse.backends, reverse.groups or reverse.routes in the config file');
  }
  const forwarded = { enabled: s.forwarded?.enabled ?? true, anonymize: s.forwarded?.anonymize ?? false };
  return { settings: { groups, routes, defaultGroup, forwarded, hostHeader: s.hostHeader ?? 'keep' }, notes };
}

function mergeHealth(h: z.infer<typeof healthSchema>): HealthSettings {
  return { ...DEFAULT_HEALTH, ...defined(h) };
}

function backendsOf(list: readonly BackendInput[]): BackendSettings[] {
  return list.map((b) => ({ url: b.url, weight: b.weight }));
}

/** `group`, or `group#2`, `group#3` … when taken. */
function uniqueName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}#${i}`)) return `${base}#${i}`;
}

/** The same URL however it was written (`http://H:80/` and `http://h`). */
function normalizeUrl(url: string): string {
  try {
    return new URL(url).href.replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** The keys whose value is not undefined (so a spread does not overwrite defaults with undefined). */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
