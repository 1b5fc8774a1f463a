import { connectionTokens, HOP_BY_HOP } from '../proxy/core/headers.js';
import { flowUrl, type Flow } from '../proxy/core/flow.js';

/**
 * Request fields curl must not be told: hop-by-hop ones (RFC 9110 §7.6.1) belong to the
 * connection we saw, and curl computes `Content-Length` from the body it sends. `Accept-Encoding`
 * becomes `--compressed` instead, so curl asks only for codings it can decode and prints plain text.
 */
const SKIPPED = new Set([...HOP_BY_HOP, 'content-length', 'accept-encoding']);

/** Bytes that stand for themselves inside `$'…'`; everything else is escaped. */
const PLAIN_BYTE = (b: number): boolean => b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c;

/**
 * One copy-pasteable POSIX shell command that repeats the flow's request with curl.
 *
 * Arguments are single-quoted; those holding non-printable characters use `$'…'` quoting with
 * `\xHH` escapes (bash, zsh, ksh, busybox sh and POSIX.1-2024 shells). A body containing a NUL byte
 * cannot be a shell argument at all, so it is piped in with `printf` (octal escapes are POSIX) and
 * read with `--data-binary @-`.
 */
export function toCurl(flow: Flow): string {
  const req = flow.request;
  const args: string[] = ['curl'];
  const body = req.body.bytes ?? Buffer.alloc(0);
  const hasBody = body.length > 0;
  const method = req.method.toUpperCase();

  if (method === 'HEAD') args.push('--head');
  else if (!(method === 'GET' && !hasBody) && !(method === 'POST' && hasBody)) args.push('-X', quote(req.method));

  args.push(quote(flowUrl(req)));
  if (req.httpVersion === '2') args.push('--http2');
  else if (req.httpVersion === '1.0') args.push('--http1.0');

  const named = connectionTokens(req.headers);
  let compressed = false;
  for (const [name, value] of req.headers) {
    const lower = name.toLowerCase();
    if (lower === 'accept-encoding') compressed = true;
    // HTTP/2 pseudo-headers (":authority" …) are carried in the URL and method.
    if (SKIPPED.has(lower) || named.has(lower) || lower.startsWith(':')) continue;
    if (lower === 'host' && sameAuthority(value, flow)) continue;
    args.push('-H', quote(`${name}: ${value}`));
  }
  if (compressed) args.push('--compressed');

  let prefix = '';
  if (hasBody) {
    if (body.includes(0)) {
      prefix = `printf '${printfFormat(body)}' | `;
      args.push('--data-binary', '@-');
    } else {
      args.push('--data-binary', quoteBytes(body));
    }
  }
  const note = req.body.truncated ? ` # request body truncated: ${body.length} of ${req.body.size} bytes captured` : '';
  return `${prefix}${args.join(' ')}${note}`;
}

/** Quote a string as one shell word (bare when it is made of safe characters only). */
export function quote(text: string): string {
  if (text !== '' && /^[A-Za-z0-9_\-./:=@,+%]+$/.test(text)) return text;
  return quoteBytes(Buffer.from(text, 'utf8'));
}

function quoteBytes(bytes: Buffer): string {
  if (isPrintable(bytes)) return `'${bytes.toString('utf8').replace(/'/g, `'\\''`)}'`;
  let out = "$'";
  for (const b of bytes) {
    if (PLAIN_BYTE(b)) out += String.fromCharCode(b);
    else if (b === 0x27) out += "\\'";
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `${out}'`;
}

/** Printable: valid UTF-8 without control characters (so plain single quotes show it as it is). */
function isPrintable(bytes: Buffer): boolean {
  const text = bytes.toString('utf8');
  if (text.includes('\ufffd') && !bytes.includes(Buffer.from('\ufffd', 'utf8'))) return false;
  // eslint-disable-next-line no-control-regex
  return !/[\x00-\x1f\x7f-\x9f]/.test(text);
}

/** A printf format reproducing `bytes` exactly: `%` doubled, everything unusual as `\ooo`. */
function printfFormat(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x25) out += '%%';
    else if (PLAIN_BYTE(b)) out += String.fromCharCode(b);
    else out += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return out;
}

function sameAuthority(hostHeader: string, flow: Flow): boolean {
  const req = flow.request;
  const defaultPort = req.scheme === 'https' ? 443 : 80;
  const host = req.host.includes(':') ? `[${req.host}]` : req.host;
  const value = hostHeader.trim().toLowerCase();
  return value === `${host}:${req.port}`.toLowerCase() || (req.port === defaultPort && value === host.toLowerCase());
}
