import { z } from 'zod';
import { parseAbsoluteTarget } from '../proxy/core/authority.js';
import { parseFilter } from '../proxy/filter/index.js';
import { parseCidr } from '../proxy/rules/access.js';
import { backendSchema, balanceSchema, checkReverseReferences, groupNameSchema, groupSchema, healthSchema, passiveSchema, routeSchema } from './reverse-settings.js';

/**
 * The config file (DESIGN.md §7): the single source of truth for its shape. Every key is optional;
 * CLI flags override the file. Scripts rely on these names: extend, never rename.
 */

const port = z.number().int().min(0, 'expected a port between 0 and 65535').max(65535, 'expected a port between 0 and 65535');
const status = z.number().int().min(100, 'expected a number between 100 and 599').max(599, 'expected a number between 100 and 599');
/** A filter expression (DESIGN.md §6) that must parse: the message points at the column. */
const filterExpr = z.string().superRefine((text, ctx) => {
  if (text.trim() === '') {
    ctx.addIssue({ code: 'custom', message: 'expected a filter expression' });
    return;
  }
  const r = parseFilter(text);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: `${r.error.message} at column ${r.error.column}` });
});

/**
 * The source of a JavaScript regular expression (no slashes, no flags: the rule adds `i` or `g`,
 * which never change whether a pattern compiles).
 */
const regexSource = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (err) {
    const detail = err instanceof Error ? err.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : String(err);
    ctx.addIssue({ code: 'custom', message: `expected a JavaScript regular expression (${detail})` });
  }
});

const httpUrl = z.string().refine((u) => parseAbsoluteTarget(u) !== null, { message: 'expected an http:// or https:// URL' });

export const modeSchema = z.string().refine((m) => /^(regular|socks5|reverse|reverse:.+|upstream:.+)$/.test(m), {
  message: 'expected regular, reverse:URL[,URL…], upstream:URL or socks5',
});

const cidr = z.string().superRefine((text, ctx) => {
  const r = parseCidr(text);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
});

export const ruleSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('block'), filter: filterExpr, status: status.default(403), action: z.enum(['respond', 'drop']).default('respond'), enabled: z.boolean().default(true) }).strict(),
  z.object({
    type: z.literal('breakpoint'),
    filter: filterExpr,
    on: z.array(z.enum(['request', 'response'])).min(1).default(['request']),
    timeoutMs: z.number().int().positive().nullable().default(null),
    onTimeout: z.enum(['continue', 'abort']).default('continue'),
    enabled: z.boolean().default(true),
  }).strict(),
  z.object({ type: z.literal('map-remote'), filter: filterExpr, to: httpUrl, enabled: z.boolean().default(true) }).strict(),
  z.object({ type: z.literal('map-local'), filter: filterExpr, path: z.string().min(1), enabled: z.boolean().default(true) }).strict(),
  z.object({
    type: z.literal('mock'),
    filter: filterExpr,
    status: status.default(200),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.string().default(''),
    enabled: z.boolean().default(true),
  }).strict(),
  z.object({
    type: z.literal('rewrite'),
    filter: filterExpr,
    part: z.enum(['request-header', 'response-header', 'request-body', 'response-body']),
    /** Header parts: a pattern for header names (case-insensitive). Body parts: a pattern replaced everywhere in the body. */
    match: regexSource,
    /** Header parts only: a pattern replaced inside the values of the matching headers. */
    value: regexSource.optional(),
    /** The replacement (`$1` works); null removes the headers or deletes the matches. */
    replace: z.string().nullable(),
    enabled: z.boolean().default(true),
  }).strict().superRefine((rule, ctx) => {
    if (rule.value !== undefined && (rule.part === 'request-body' || rule.part === 'response-body')) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'only header rewrites take a value pattern' });
    }
  }),
  z.object({ type: z.literal('rate-limit'), filter: filterExpr, perSecond: z.number().positive(), burst: z.number().int().positive().optional(), enabled: z.boolean().default(true) }).strict(),
  z.object({
    type: z.literal('throttle'),
    filter: filterExpr,
    latencyMs: z.number().int().min(0).default(0),
    bytesPerSecond: z.number().int().positive().nullable().default(null),
    enabled: z.boolean().default(true),
  }).strict(),
  z.object({
    type: z.literal('command'),
    filter: filterExpr,
    argv: z.array(z.string()).min(1, 'expected at least the program name'),
    timeoutMs: z.number().int().positive().default(60000),
    /** Status of the response that carries the program's output. */
    status: status.default(200),
    /** Headers of that response. */
    headers: z.record(z.string(), z.string()).default({}),
    enabled: z.boolean().default(true),
  }).strict(),
]);
export type RuleSpec = z.infer<typeof ruleSchema>;


export const configSchema = z
  .object({
    listen: z.object({ host: z.string().min(1).optional(), port: port.optional() }).strict().optional(),
    mode: modeSchema.optional(),
    upstream: z
      .object({
        insecure: z.boolean().optional(),
        /** Milliseconds to wait for upstream response headers. @default 60000 */
        timeoutMs: z.number().int().positive().optional(),
        /** Milliseconds to wait for a TCP/TLS connection. @default 10000 */
        connectTimeoutMs: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    capture: z.object({ maxBodyBytes: z.number().int().min(0).optional() }).strict().optional(),
    store: z
      .object({
        maxFlows: z.number().int().positive().optional(),
        /** Captured body bytes held in memory; older bodies are read back from the session. @default 268435456 */
        maxBodyBytes: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    cache: z.object({ enabled: z.boolean().optional(), maxBytes: z.number().int().positive().optional() }).strict().optional(),
    noCache: z.boolean().optional(),
    proxyAuth: z
      .object({
        users: z.array(z.object({ user: z.string().min(1), password: z.string() }).strict()).optional(),
        htpasswd: z.string().nullable().optional(),
      })
      .strict()
      .optional(),
    access: z.object({ allow: z.array(cidr).optional(), deny: z.array(cidr).optional() }).strict().optional(),
    admin: z.object({ port: port.nullable().optional() }).strict().optional(),
    /** `file`: append the access log there (relative paths: against this file's folder). @default null */
    accessLog: z.object({ format: z.enum(['text', 'json']).optional(), file: z.string().min(1, 'expected a file path (or null for none)').nullable().optional() }).strict().optional(),
    ignoreHosts: z.array(z.string()).optional(),
    resolve: z.record(z.string(), z.string()).optional(),
    rules: z.array(ruleSchema).optional(),
    /** Response compression (gzip, br) for clients that accept it; `--compress` turns it on. */
    compression: z
      .object({
        /** @default false */
        enabled: z.boolean().optional(),
        /** Media types compressed: `text/html`, `text/*` or `*+json`. @default text, JSON, JS, XML, SVG, wasm … */
        types: z.array(z.string().regex(/^(\*\+[a-z0-9.+-]+|[a-z0-9.+-]+\/(\*|[a-z0-9.+-]+))$/i, 'expected a media type like text/html, text/* or *+json')).optional(),
        /** Bodies known to be smaller are sent as they are. @default 1024 */
        minBytes: z.number().int().min(0, 'expected a whole number of bytes').optional(),
        /** @default 5 */
        gzipLevel: z.number().int().min(1, 'expected a gzip level between 1 and 9').max(9, 'expected a gzip level between 1 and 9').optional(),
        /** @default 4 */
        brotliQuality: z.number().int().min(0, 'expected a brotli quality between 0 and 11').max(11, 'expected a brotli quality between 0 and 11').optional(),
      })
      .strict()
      .optional(),
    reverse: z
      .object({
        // Pieces and their defaults: src/config/reverse-settings.ts.
        balance: balanceSchema.optional(),
        /** The `default` group. */
        backends: z.array(backendSchema).optional(),
        /** Active health checks for every group (a group's own `health` fields override these). */
        health: healthSchema.optional(),
        /** Passive health (failed requests) for every group. */
        passive: passiveSchema.optional(),
        /** Named backend groups, for routes and `defaultGroup`. */
        groups: z.record(groupNameSchema, groupSchema).optional(),
        /** By Host (`api.local`, `*.example.com`) and path prefix, to `backends` of their own or a `group`. */
        routes: z.array(routeSchema).optional(),
        /** Where requests no route matches go. @default default (when `backends` is given), else 404 */
        defaultGroup: groupNameSchema.optional(),
        /** X-Forwarded-* and X-Real-IP. @default { enabled: true, anonymize: false } */
        forwarded: z.object({ enabled: z.boolean().optional(), anonymize: z.boolean().optional() }).strict().optional(),
        /** `keep` the client's Host or `rewrite` it to the backend's. @default keep */
        hostHeader: z.enum(['keep', 'rewrite'], { message: 'expected keep or rewrite' }).optional(),
        tls: z
          .object({
            enabled: z.boolean().optional(),
            certs: z.array(z.object({ serverName: z.string(), cert: z.string(), key: z.string() }).strict()).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .superRefine(checkReverseReferences)
      .optional(),
  })
  .strict();
export type ConfigFile = z.infer<typeof configSchema>;

/** Format zod issues as `path: message` lines, e.g. `rules[2].status: expected a number between 100 and 599`. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key`);
    }
    return [`${formatPath(issue.path)}: ${issue.message}`];
  });
}

function formatPath(segments: readonly PropertyKey[]): string {
  return (
    segments
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
      .join('') || '(root)'
  );
}
