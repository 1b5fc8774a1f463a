import { z } from 'zod';
import { ruleSchema } from '../config/schema.js';

/**
 * zod schemas for everything proxyctl persists (STYLE.md: the schema is the single source of truth,
 * types come from `z.infer`): one line of a session log (`sessions/NAME/flows.jsonl`) and the
 * lowdb document (`settings.json`). Records are parsed through these when read back, so a corrupt
 * line or a hand-edited settings file is refused with the field named, not half-used.
 */

/** The version written into every session line; readers refuse lines from a newer format. */
export const SESSION_FORMAT_VERSION = 1;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256');
const headerPairs = z.array(z.tuple([z.string(), z.string()]));
const httpVersion = z.enum(['1.0', '1.1', '2']);
const ms = z.number().nullable();

/**
 * A body as stored: what `BodyCapture` holds, with the bytes replaced by a reference to the
 * content-addressed blob `blobs/<blob>` (the SHA-256 of the *stored* bytes; for a truncated body
 * that is the head, while `sha256` names the whole body that passed).
 */
export const storedBodySchema = z
  .object({
    /** Bytes that passed (the whole body). */
    size: z.number().int().min(0),
    /** Blob holding the captured bytes, or null when nothing was captured. */
    blob: sha256Hex.nullable(),
    /** Length of the captured bytes (the blob's size). */
    captured: z.number().int().min(0),
    truncated: z.boolean(),
    /** SHA-256 of the whole body when known. */
    sha256: sha256Hex.nullable(),
    state: z.enum(['none', 'streaming', 'complete', 'aborted']),
  })
  .strict();
export type StoredBody = z.infer<typeof storedBodySchema>;

export const storedRequestSchema = z
  .object({
    method: z.string().min(1),
    scheme: z.enum(['http', 'https']),
    host: z.string(),
    port: z.number().int().min(0).max(65535),
    path: z.string(),
    httpVersion,
    headers: headerPairs,
    trailers: headerPairs.nullable(),
    body: storedBodySchema,
  })
  .strict();

export const storedResponseSchema = z
  .object({
    status: z.number().int().min(0).max(999),
    statusText: z.string(),
    httpVersion,
    headers: headerPairs,
    trailers: headerPairs.nullable(),
    body: storedBodySchema,
  })
  .strict();

export const storedWsMessageSchema = z
  .object({
    direction: z.enum(['client', 'server']),
    type: z.enum(['text', 'binary', 'ping', 'pong', 'close']),
    size: z.number().int().min(0),
    /** The captured payload, base64. */
    payload: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64'),
    truncated: z.boolean(),
    time: z.number(),
  })
  .strict();

const flowErrorCode = z.enum([
  'BAD_REQUEST',
  'HEADERS_TOO_LARGE',
  'CLIENT_TIMEOUT',
  'CLIENT_ABORTED',
  'UPSTREAM_DNS',
  'UPSTREAM_REFUSED',
  'UPSTREAM_RESET',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_UNREACHABLE',
  'UPSTREAM_TLS',
  'UPSTREAM_CERT_EXPIRED',
  'UPSTREAM_CERT_SELF_SIGNED',
  'UPSTREAM_CERT_UNTRUSTED',
  'UPSTREAM_CERT_HOSTNAME',
  'UPSTREAM_PROTOCOL',
  'CLIENT_TLS',
  'TUNNEL_FAILED',
  'STREAM_RESET',
  'KILLED',
  'RULE_FAILED',
  'COMMAND_FAILED',
  'COMMAND_TIMEOUT',
  'INTERNAL',
]);

/** One line of `flows.jsonl`: a finished flow without body bytes. */
export const storedFlowSchema = z
  .object({
    /** Format version (SESSION_FORMAT_VERSION). */
    v: z.literal(SESSION_FORMAT_VERSION),
    id: z.string().min(1),
    kind: z.enum(['http', 'websocket', 'tunnel']),
    phase: z.enum(['requesting', 'request-paused', 'waiting', 'response-paused', 'responding', 'done', 'error']),
    client: z
      .object({ address: z.string(), port: z.number().int(), tlsVersion: z.string().nullable(), sni: z.string().nullable(), alpn: z.string().nullable(), user: z.string().optional() })
      .strict(),
    server: z
      .object({
        host: z.string(),
        port: z.number().int(),
        address: z.string().nullable(),
        tlsVersion: z.string().nullable(),
        alpn: z.string().nullable(),
        certificate: z.string().nullable(),
      })
      .strict(),
    request: storedRequestSchema,
    response: storedResponseSchema.nullable(),
    timings: z
      .object({
        start: z.number(),
        requestHeaders: ms,
        requestEnd: ms,
        upstreamConnect: ms,
        upstreamTls: ms,
        upstreamSent: ms,
        firstByte: ms,
        responseEnd: ms,
      })
      .strict(),
    error: z.object({ code: flowErrorCode, message: z.string() }).strict().nullable(),
    tags: z.array(z.string()),
    marked: z.boolean(),
    websocket: z
      .object({
        messages: z.array(storedWsMessageSchema),
        droppedMessages: z.number().int().min(0),
        closeCode: z.number().int().nullable(),
        closeReason: z.string().nullable(),
        closedBy: z.enum(['client', 'server', 'abrupt']).nullable(),
      })
      .strict()
      .nullable(),
  })
  .strict();
export type StoredFlow = z.infer<typeof storedFlowSchema>;

/** Session names are path segments: letters, digits, dot, dash, underscore; never `.`/`..`. */
export const sessionNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a session name is 1-100 letters, digits, dots, dashes or underscores, starting with a letter or digit');

/** One entry of the session index in settings.json. */
export const sessionIndexEntrySchema = z
  .object({
    name: sessionNameSchema,
    /** ISO time the session was created. */
    created: z.string(),
    /** Flows in `flows.jsonl`. */
    flowCount: z.number().int().min(0),
    /** Bytes on disk: the log plus the blobs. */
    bytes: z.number().int().min(0),
    /**
     * Size of `flows.jsonl` when the counts were taken; a different size on disk means the counts
     * are stale (the recorder was killed between index writes) and are taken again.
     */
    logBytes: z.number().int().min(0).default(0),
  })
  .strict();
export type SessionIndexEntry = z.infer<typeof sessionIndexEntrySchema>;

export const togglesSchema = z
  .object({
    /** @default false */
    cache: z.boolean().default(false),
    /** @default false */
    noCache: z.boolean().default(false),
    /** @default null */
    intercept: z.string().nullable().default(null),
  })
  .strict();

/** The lowdb document `$PROXYCTL_HOME/settings.json`. */
export const settingsSchema = z
  .object({
    version: z.literal(1).default(1),
    toggles: togglesSchema.default({ cache: false, noCache: false, intercept: null }),
    /** Rule specs as the config file writes them (compiled by whoever applies them). */
    rules: z.array(ruleSchema).default([]),
    /** The session index, by name. */
    sessions: z.record(z.string(), sessionIndexEntrySchema).default({}),
  })
  .strict();
export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

/** A settings document with every default filled in. */
export function defaultSettings(): Settings {
  return settingsSchema.parse({});
}
