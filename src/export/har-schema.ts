import { z } from 'zod';

/**
 * HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) as zod schemas: the types of what
 * `har.ts` writes, and the parser `harToFlows` reads with. Objects are loose because the spec
 * allows custom fields (named with a leading underscore, e.g. Chrome's `_webSocketMessages`).
 *
 * Reading is lenient where real tools are sloppy (Firefox and older Chrome versions omit
 * `cookies`, `headersSize`, `cache` or `timings` fields): such fields default instead of failing.
 */

const nameValue = z.looseObject({ name: z.string(), value: z.string(), comment: z.string().optional() });
export type HarNameValue = z.infer<typeof nameValue>;

const cookie = z.looseObject({
  name: z.string(),
  value: z.string(),
  path: z.string().optional(),
  domain: z.string().optional(),
  expires: z.string().optional(),
  httpOnly: z.boolean().optional(),
  secure: z.boolean().optional(),
  sameSite: z.string().optional(),
  comment: z.string().optional(),
});
export type HarCookie = z.infer<typeof cookie>;

const postData = z.looseObject({
  mimeType: z.string().default(''),
  params: z.array(z.looseObject({ name: z.string(), value: z.string().optional(), fileName: z.string().optional(), contentType: z.string().optional() })).optional(),
  text: z.string().optional(),
  /** proxyctl: `base64` when `text` holds a binary body in base64 (HAR 1.2 has no field for it). */
  _encoding: z.string().optional(),
  comment: z.string().optional(),
});
export type HarPostData = z.infer<typeof postData>;

const request = z.looseObject({
  method: z.string().min(1),
  url: z.string().min(1),
  httpVersion: z.string().default('HTTP/1.1'),
  cookies: z.array(cookie).default([]),
  headers: z.array(nameValue).default([]),
  queryString: z.array(nameValue).default([]),
  postData: postData.optional(),
  headersSize: z.number().default(-1),
  bodySize: z.number().default(-1),
  comment: z.string().optional(),
});
export type HarRequest = z.infer<typeof request>;

const content = z.looseObject({
  size: z.number().default(0),
  compression: z.number().optional(),
  mimeType: z.string().default(''),
  text: z.string().optional(),
  encoding: z.string().optional(),
  comment: z.string().optional(),
});
export type HarContent = z.infer<typeof content>;

const response = z.looseObject({
  status: z.number().int(),
  statusText: z.string().default(''),
  httpVersion: z.string().default('HTTP/1.1'),
  cookies: z.array(cookie).default([]),
  headers: z.array(nameValue).default([]),
  content: content.default({ size: 0, mimeType: '' }),
  redirectURL: z.string().default(''),
  headersSize: z.number().default(-1),
  bodySize: z.number().default(-1),
  comment: z.string().optional(),
});
export type HarResponse = z.infer<typeof response>;

const timings = z.looseObject({
  blocked: z.number().optional(),
  dns: z.number().optional(),
  connect: z.number().optional(),
  send: z.number().default(0),
  wait: z.number().default(0),
  receive: z.number().default(0),
  ssl: z.number().optional(),
  comment: z.string().optional(),
});
export type HarTimings = z.infer<typeof timings>;

/** Chrome's WebSocket frames in a HAR entry (`_webSocketMessages`). */
const wsMessage = z.looseObject({
  type: z.enum(['send', 'receive']),
  /** Epoch seconds. */
  time: z.number(),
  opcode: z.number().int(),
  data: z.string(),
});
export type HarWebSocketMessage = z.infer<typeof wsMessage>;

const entry = z.looseObject({
  pageref: z.string().optional(),
  startedDateTime: z.string().min(1),
  time: z.number().default(0),
  request,
  response,
  cache: z.looseObject({}).default({}),
  timings: timings.default({ send: 0, wait: 0, receive: 0 }),
  serverIPAddress: z.string().optional(),
  connection: z.string().optional(),
  comment: z.string().optional(),
  _webSocketMessages: z.array(wsMessage).optional(),
});
export type HarEntry = z.infer<typeof entry>;

export const harSchema = z.looseObject({
  log: z.looseObject({
    version: z.string().default('1.2'),
    creator: z.looseObject({ name: z.string(), version: z.string(), comment: z.string().optional() }).default({ name: 'unknown', version: '' }),
    browser: z.looseObject({ name: z.string(), version: z.string() }).optional(),
    pages: z.array(z.looseObject({})).optional(),
    entries: z.array(entry),
    comment: z.string().optional(),
  }),
});
export type Har = z.infer<typeof harSchema>;
