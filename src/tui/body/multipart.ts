import type { HeaderPairs } from '../../proxy/core/flow.js';

export interface MultipartPart {
  headers: HeaderPairs;
  body: Buffer;
  /** The part ended before its closing delimiter (a truncated capture). */
  incomplete: boolean;
}

/** The `boundary` parameter of a multipart content type (quoted or not), or null. */
export function multipartBoundary(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

/**
 * Split a multipart body (RFC 2046 §5.1.1) into parts. The preamble and epilogue are skipped;
 * a body cut short yields its last part marked incomplete.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: MultipartPart[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    let start = at + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // "--boundary--": the end
    // Skip transport padding and the CRLF after the delimiter line.
    const eol = body.indexOf('\n', start);
    if (eol < 0) break;
    start = eol + 1;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    const nextLf = next >= 0 ? next : body.indexOf(Buffer.concat([Buffer.from('\n'), delimiter]), start);
    const end = nextLf >= 0 ? nextLf : body.length;
    const raw = body.subarray(start, end);
    parts.push({ ...splitPart(raw), incomplete: nextLf < 0 });
    if (nextLf < 0) break;
    at = body.indexOf(delimiter, nextLf);
  }
  return parts;
}

function splitPart(raw: Buffer): { headers: HeaderPairs; body: Buffer } {
  let sep = raw.indexOf('\r\n\r\n');
  let skip = 4;
  if (sep < 0) {
    sep = raw.indexOf('\n\n');
    skip = 2;
  }
  if (sep < 0) {
    // Only headers (or nothing) were captured.
    return { headers: parseHeaderBlock(raw.toString('utf8')), body: Buffer.alloc(0) };
  }
  return { headers: parseHeaderBlock(raw.subarray(0, sep).toString('utf8')), body: raw.subarray(sep + skip) };
}

function parseHeaderBlock(text: string): HeaderPairs {
  const out: HeaderPairs = [];
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) out.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return out;
}
