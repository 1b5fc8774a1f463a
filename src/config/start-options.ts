import { isIP } from 'node:net';
import { dirname, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import type { ConfigFile } from './schema.js';
import { modeSchema } from './schema.js';
import { parseMode, type ProxyMode } from './mode.js';
import { UsageError } from './usage-error.js';
import { defaultCompression, type CompressionSettings } from '../proxy/net/compression.js';

/**
 * `proxyctl start` options as commander hands them over (strings), parsed once by zod: bad values
 * are refused here, with the option's name, before anything starts.
 */
const intText = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`);

export const startFlagsSchema = z
  .object({
    port: intText('--port', 0, 65535).optional(),
    host: z.string().min(1, '--host must not be empty').optional(),
    mode: modeSchema.optional(),
    tui: z.boolean().default(true),
    config: z.string().optional(),
    session: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, '--session must be letters, digits, dot, dash or underscore')
      .optional(),
    insecure: z.boolean().optional(),
    ignoreHosts: z.array(z.string()).optional(),
    resolve: z
      .array(
        z
          .string()
          .regex(/^[^=\s]+=[^=\s]+$/, '--resolve takes HOST=ADDR')
          .refine((v) => isIP(v.slice(v.indexOf('=') + 1)) !== 0, '--resolve takes HOST=ADDR with ADDR an IP address'),
      )
      .optional(),
    adminPort: intText('--admin-port', 0, 65535).optional(),
    logFormat: z.enum(['text', 'json'], { message: '--log-format must be text or json' }).optional(),
    /** `--access-log FILE`: append access-log lines to FILE (relative to the working directory). */
    accessLog: z.string().min(1, '--access-log must not be empty').optional(),
    upstreamTimeout: intText('--upstream-timeout', 1, 3_600_000).optional(),
    maxBodyBytes: intText('--max-body-bytes', 0, 1 << 30).optional(),
    maxFlows: intText('--max-flows', 1, 10_000_000).optional(),
    proxyAuth: z
      .string()
      .refine((v) => (v.startsWith('@') ? v.length > 1 : /^[^:]+:.*$/.test(v)), '--proxy-auth takes USER:PASS or @HTPASSWD_FILE')
      .optional(),
    allow: z.array(z.string().min(1)).optional(),
    /** `--compress`: gzip/br responses for clients that accept it (config `compression.enabled`). */
    compress: z.boolean().optional(),
  })
  .strict();
export type StartFlags = z.infer<typeof startFlagsSchema>;

/** The merged, defaulted settings the runtime starts with. */
export interface StartSettings {
  host: string;
  port: number;
  /** The mode as written (shown in the status bar). */
  mode: string;
  /** The mode, parsed. */
  proxyMode: ProxyMode;
  tui: boolean;
  session: string | null;
  insecure: boolean;
  ignoreHosts: RegExp[];
  resolve: Map<string, string>;
  adminPort: number | null;
  logFormat: 'text' | 'json';
  /** Absolute path the access log is appended to; null: stdout when headless, nowhere under the TUI. */
  accessLogFile: string | null;
  upstreamTimeoutMs: number;
  connectTimeoutMs: number;
  maxBodyBytes: number;
  maxFlows: number;
  /** Captured body bytes the flow store holds in memory (`store.maxBodyBytes`). @default 268435456 */
  storeMaxBodyBytes: number;
  /** `--proxy-auth USER:PASS` or `@FILE`; overrides the config's proxyAuth. */
  proxyAuth: string | null;
  /** `--allow CIDR…`; replaces the config's access.allow. */
  allow: string[] | null;
  /** Response compression; `--compress` turns it on over the config's `compression.enabled`. */
  compression: CompressionSettings;
}

export { UsageError };

function compileRegex(source: string, what: string): RegExp {
  try {
    return new RegExp(source, 'i');
  } catch (err) {
    throw new UsageError(`${what}: invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
}

/** `--access-log` is relative to the working directory, the config's `accessLog.file` to the config's folder. */
function accessLogPath(flags: StartFlags, file: ConfigFile, configPath: string | null): string | null {
  if (flags.accessLog !== undefined) return resolvePath(flags.accessLog);
  const fromFile = file.accessLog?.file;
  if (!fromFile) return null;
  return resolvePath(configPath ? dirname(resolvePath(configPath)) : '.', fromFile);
}

/**
 * CLI flags override the config file; the file overrides the defaults (DESIGN.md §7).
 * `configPath`: where the file is; its relative `accessLog.file` resolves against its folder.
 */
export function mergeSettings(flags: StartFlags, file: ConfigFile, configPath: string | null = null): StartSettings {
  const resolve = new Map<string, string>();
  for (const [h, a] of Object.entries(file.resolve ?? {})) resolve.set(h.toLowerCase(), a);
  for (const pair of flags.resolve ?? []) {
    const [h, a] = pair.split('=') as [string, string];
    resolve.set(h.toLowerCase(), a);
  }
  const ignore = [...(file.ignoreHosts ?? []).map((r) => compileRegex(r, 'ignoreHosts')), ...(flags.ignoreHosts ?? []).map((r) => compileRegex(r, '--ignore-hosts'))];
  const mode = flags.mode ?? file.mode ?? 'regular';
  return {
    host: flags.host ?? file.listen?.host ?? '127.0.0.1',
    port: flags.port ?? file.listen?.port ?? 8080,
    mode,
    proxyMode: parseMode(mode),
    tui: flags.tui,
    session: flags.session ?? null,
    insecure: flags.insecure ?? file.upstream?.insecure ?? false,
    ignoreHosts: ignore,
    resolve,
    adminPort: flags.adminPort ?? file.admin?.port ?? null,
    logFormat: flags.logFormat ?? file.accessLog?.format ?? 'text',
    accessLogFile: accessLogPath(flags, file, configPath),
    upstreamTimeoutMs: flags.upstreamTimeout ?? file.upstream?.timeoutMs ?? 60_000,
    connectTimeoutMs: file.upstream?.connectTimeoutMs ?? 10_000,
    maxBodyBytes: flags.maxBodyBytes ?? file.capture?.maxBodyBytes ?? 4 * 1024 * 1024,
    maxFlows: flags.maxFlows ?? file.store?.maxFlows ?? 20_000,
    storeMaxBodyBytes: file.store?.maxBodyBytes ?? 256 * 1024 * 1024,
    proxyAuth: flags.proxyAuth ?? null,
    allow: flags.allow ?? null,
    compression: {
      enabled: flags.compress ?? file.compression?.enabled ?? defaultCompression.enabled,
      types: file.compression?.types ?? defaultCompression.types,
      minBytes: file.compression?.minBytes ?? defaultCompression.minBytes,
      gzipLevel: file.compression?.gzipLevel ?? defaultCompression.gzipLevel,
      brotliQuality: file.compression?.brotliQuality ?? defaultCompression.brotliQuality,
    },
  };
}
