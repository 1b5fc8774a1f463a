import { flowUrl, type BodyCapture, type Flow, type HeaderPairs } from '../proxy/core/flow.js';
import { utf8Text } from './http-fields.js';

/**
 * Raw HTTP export: each flow's request and response as HTTP/1.1 message text, bodies as captured
 * (still content-encoded when they were on the wire). HTTP/2 flows are shown in HTTP/1.1 form:
 * pseudo-headers become the request line and Host. A body that is not text is marked and given
 * in base64, so the output stays printable; a truncated one says how much is missing.
 */
export function toRaw(flow: Flow): string {
  const req = flow.request;
  const lines: string[] = [`### ${flow.id} ${new Date(flow.timings.start).toISOString()} ${req.method} ${flowUrl(req)}`];
  const target = req.method === 'CONNECT' ? `${req.host}:${req.port}` : req.path;
  lines.push(`${req.method} ${target} HTTP/1.1`);
  const authority = pseudo(req.headers, ':authority');
  if (authority && !hasHeader(req.headers, 'host')) lines.push(`Host: ${authority}`);
  lines.push(...headerLines(req.headers));
  lines.push('');
  const reqBody = bodyBlock(req.body);
  if (reqBody !== null) lines.push(reqBody);
  const res = flow.response;
  if (res) {
    lines.push('');
    lines.push(`HTTP/1.1 ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    lines.push(...headerLines(res.headers));
    lines.push('');
    const resBody = bodyBlock(res.body);
    if (resBody !== null) lines.push(resBody);
  } else if (flow.error) {
    lines.push('', `(no response: ${flow.error.code}: ${flow.error.message})`);
  }
  return `${lines.join('\n')}\n`;
}

function headerLines(headers: HeaderPairs): string[] {
  return headers.filter(([k]) => !k.startsWith(':')).map(([k, v]) => `${k}: ${v}`);
}

function pseudo(headers: HeaderPairs, name: string): string | undefined {
  return headers.find(([k]) => k === name)?.[1];
}

function hasHeader(headers: HeaderPairs, name: string): boolean {
  return headers.some(([k]) => k.toLowerCase() === name);
}

function bodyBlock(body: BodyCapture): string | null {
  const bytes = body.bytes;
  if (!bytes || bytes.length === 0) return null;
  const note = body.truncated ? `<<truncated: ${bytes.length} of ${body.size} bytes captured>>\n` : '';
  const text = utf8Text(bytes);
  // Text with control characters other than tab/CR/LF would garble a terminal: treat it as binary.
  // eslint-disable-next-line no-control-regex
  if (text !== null && !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text)) return `${note}${text}`;
  return `${note}<<binary body: ${bytes.length} bytes, base64>>\n${bytes.toString('base64').replace(/(.{76})/g, '$1\n').replace(/\n$/, '')}`;
}
