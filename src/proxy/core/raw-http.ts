/**
 * Paused messages as editable text (the TUI's `e` key opens them in $EDITOR) and back into edits.
 *
 *     POST https://api.example/items?x=1 HTTP/1.1      HTTP/1.1 200 OK
 *     Host: api.example                                Content-Type: application/json
 *     Content-Type: application/json                   Content-Length: 7
 *
 *     {"a":1}                                          {"a":2}
 *
 * The request line carries the absolute URL (the edit needs scheme, host and port); headers keep
 * their order and case. A body is shown as UTF-8 when it is text; a binary or partly captured one
 * is replaced by one note line, and leaving that line in place keeps the body unchanged.
 *
 * The formatter ends the text with a newline that is not part of the body, because editors add
 * one when saving; the parser removes exactly one. Parsing keeps what the user wrote (framing
 * headers included): `applyRequestEdit` / `applyResponseEdit` fix Content-Length afterwards.
 * Pure: no IO.
 */
import type { RequestEdit, ResponseEdit } from './commands.js';
import { flowUrl, type FlowRequest, type FlowResponse, type HeaderPairs, type HttpVersion } from './flow.js';
import { parseAbsoluteTarget } from './authority.js';
import { TOKEN } from './http-syntax.js';

/** Stable codes for what is wrong with an edited message (tests assert these). */
export type RawHttpErrorCode =
  | 'EMPTY'
  | 'BAD_REQUEST_LINE'
  | 'BAD_METHOD'
  | 'BAD_URL'
  | 'BAD_VERSION'
  | 'BAD_STATUS_LINE'
  | 'BAD_STATUS'
  | 'BAD_HEADER'
  | 'OBSOLETE_FOLDING';

/** An edited message that cannot be used; names the 1-based line and what is wrong with it. */
export class RawHttpError extends Error {
  override name = 'RawHttpError';
  constructor(
    /** 1-based line number in the edited text. */
    readonly line: number,
    readonly code: RawHttpErrorCode,
    /** The problem without the line prefix. */
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
  }
}

/**
 * The note that stands in for a body that cannot be edited as text. Whole-line match only, so a
 * text body merely mentioning it is never mistaken for it.
 */
const NOTE_RE = /^\[proxyctl: the body \(\d+ bytes?[^\]\n]*\) is not shown: [^\]\n]*\]$/;

function bodyNote(size: number, why: string): string {
  return `[proxyctl: the body (${size} byte${size === 1 ? '' : 's'}${why}) is not shown: keep this line to send it unchanged, delete it to send no body]`;
}

/** Field values may hold HTAB, SP, visible ASCII and obs-text, never other controls (RFC 9110 §5.5). */
const BAD_VALUE_CHAR_RE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** C0 controls other than HTAB, LF, FF and CR, and DEL: their presence makes a body binary. */
const BINARY_CHAR_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f]/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as editable text, or null when it is not valid UTF-8 text without odd controls. */
export function bodyAsText(body: Buffer): string | null {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    // Not valid UTF-8: binary for our purposes.
    return null;
  }
  return BINARY_CHAR_RE.test(text) ? null : text;
}

function versionText(v: HttpVersion): string {
  return v === '2' ? 'HTTP/2' : `HTTP/${v}`;
}

function formatMessage(startLine: string, headers: HeaderPairs, body: Buffer, capturedSize: number): string {
  const lines = [startLine, ...headers.map(([k, v]) => `${k}: ${v}`)];
  let bodyText: string;
  if (body.length < capturedSize) bodyText = bodyNote(capturedSize, `, only the first ${body.length} captured`);
  else bodyText = bodyAsText(body) ?? bodyNote(body.length, ', binary');
  return `${lines.join('\n')}\n\n${bodyText}\n`;
}

/** A paused request as text for $EDITOR. `body` is the held body (may be longer than the capture). */
export function formatRawRequest(req: FlowRequest, body: Buffer): string {
  return formatMessage(`${req.method} ${flowUrl(req)} ${versionText(req.httpVersion)}`, req.headers, body, req.body.size);
}

/** A paused response as text for $EDITOR, status line first (`HTTP/1.1 200 OK`). */
export function formatRawResponse(res: FlowResponse, body: Buffer): string {
  const reason = res.statusText ? ` ${res.statusText}` : '';
  return formatMessage(`${versionText(res.httpVersion)} ${res.status}${reason}`, res.headers, body, res.body.size);
}

interface Line {
  /** 1-based. */
  number: number;
  text: string;
}

interface SplitMessage {
  start: Line;
  headerLines: Line[];
  /** Text after the blank line, without the final newline the formatter (or editor) added. */
  body: string;
}

/** Cut edited text into start line, header lines and body; LF or CRLF line ends. */
function splitMessage(text: string, what: 'request' | 'response'): SplitMessage {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a BOM some editors write
  let pos = 0;
  let number = 0;
  let start: Line | null = null;
  let crlf = false;
  const headerLines: Line[] = [];
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    const cr = end > pos && text.charCodeAt(end - 1) === 13;
    const line = text.slice(pos, cr ? end - 1 : end);
    number++;
    pos = nl < 0 ? text.length : nl + 1;
    if (start === null) {
      // Blank lines before the start line are tolerated (an editor's stray newline).
      if (line.trim() === '') continue;
      start = { number, text: line };
      crlf = cr;
      continue;
    }
    if (line === '') {
      let body = text.slice(pos);
      if (crlf && body.endsWith('\r\n')) body = body.slice(0, -2);
      else if (body.endsWith('\n')) body = body.slice(0, -1);
      return { start, headerLines, body };
    }
    headerLines.push({ number, text: line });
  }
  if (start === null) throw new RawHttpError(Math.max(1, number), 'EMPTY', `the ${what} is empty; write a ${what === 'request' ? 'request line (GET http://host/path HTTP/1.1)' : 'status line (HTTP/1.1 200 OK)'}`);
  return { start, headerLines, body: '' };
}

function parseHeaders(lines: Line[]): HeaderPairs {
  const out: HeaderPairs = [];
  for (const { number, text } of lines) {
    if (text.startsWith(' ') || text.startsWith('\t')) {
      throw new RawHttpError(number, 'OBSOLETE_FOLDING', 'a header line cannot start with whitespace (obsolete line folding, RFC 9112 §5.2); join it to the line above');
    }
    const colon = text.indexOf(':');
    if (colon === 0 && /^:[a-z]+:/.test(text)) {
      throw new RawHttpError(number, 'BAD_HEADER', `HTTP/2 pseudo-header ${text.slice(0, text.indexOf(':', 1))} cannot be edited here; method, URL and status come from the first line`);
    }
    if (colon < 0) throw new RawHttpError(number, 'BAD_HEADER', `expected "Name: value", got ${JSON.stringify(text)}`);
    const name = text.slice(0, colon);
    if (!TOKEN.test(name)) {
      throw new RawHttpError(number, 'BAD_HEADER', `${JSON.stringify(name)} is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~ only, no spaces before the colon)`);
    }
    // Optional whitespace around the value is not part of it (RFC 9110 §5.5).
    const value = text.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (BAD_VALUE_CHAR_RE.test(value)) throw new RawHttpError(number, 'BAD_HEADER', `the value of ${name} contains a control character`);
    out.push([name, value]);
  }
  return out;
}

/** The body as the user left it: undefined (unchanged) when the note line was kept. */
function parseBody(body: string): Buffer | undefined {
  if (NOTE_RE.test(body.trim())) return undefined;
  return Buffer.from(body, 'utf8');
}

const VERSION_RE = /^HTTP\/\d(\.\d)?$/;

/**
 * Parse an edited request into an edit: method, absolute URL, headers in the order and case
 * written, and the body (left out when the binary-body note was kept). Throws `RawHttpError`.
 */
export function parseRawRequest(text: string): RequestEdit {
  const { start, headerLines, body } = splitMessage(text, 'request');
  const parts = start.text.trim().split(/[ \t]+/);
  if (parts.length < 2 || parts.length > 3) {
    throw new RawHttpError(start.number, 'BAD_REQUEST_LINE', `expected "METHOD URL HTTP/1.1", got ${JSON.stringify(start.text)}`);
  }
  const [method, url, version] = parts as [string, string, string | undefined];
  if (!TOKEN.test(method)) throw new RawHttpError(start.number, 'BAD_METHOD', `${JSON.stringify(method)} is not a valid method`);
  if (!parseAbsoluteTarget(url)) {
    const hint = url.startsWith('/') ? ' (write the whole URL, e.g. https://host/path, not only the path)' : '';
    throw new RawHttpError(start.number, 'BAD_URL', `${JSON.stringify(url)} is not an absolute http(s) URL${hint}`);
  }
  if (version !== undefined && !VERSION_RE.test(version)) {
    throw new RawHttpError(start.number, 'BAD_VERSION', `expected an HTTP version like HTTP/1.1, got ${JSON.stringify(version)}`);
  }
  const headers = parseHeaders(headerLines);
  const bytes = parseBody(body);
  return bytes === undefined ? { method, url, headers } : { method, url, headers, body: bytes };
}

/**
 * Parse an edited response into an edit: status (200–599, the range a final response may have),
 * headers, body. The reason phrase is accepted and ignored (RFC 9112 §4: it carries no meaning).
 * Throws `RawHttpError`.
 */
export function parseRawResponse(text: string): ResponseEdit {
  const { start, headerLines, body } = splitMessage(text, 'response');
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+.*)?$/.exec(start.text.trim());
  if (!m) throw new RawHttpError(start.number, 'BAD_STATUS_LINE', `expected "HTTP/1.1 200 OK", got ${JSON.stringify(start.text)}`);
  const [, version, code] = m as unknown as [string, string, string];
  if (!VERSION_RE.test(version)) throw new RawHttpError(start.number, 'BAD_VERSION', `expected an HTTP version like HTTP/1.1, got ${JSON.stringify(version)}`);
  if (!/^\d{3}$/.test(code)) throw new RawHttpError(start.number, 'BAD_STATUS', `the status must be three digits, got ${JSON.stringify(code)}`);
  const status = Number(code);
  if (status < 200 || status > 599) throw new RawHttpError(start.number, 'BAD_STATUS', `status ${status} cannot end an exchange; use 200–599`);
  const headers = parseHeaders(headerLines);
  const bytes = parseBody(body);
  return bytes === undefined ? { status, headers } : { status, headers, body: bytes };
}
