import http from 'node:http';
import type { HeaderPairs } from '../core/flow.js';

/** An HTTP/1.1 response head. Header text is latin1 as Node's parser delivered it. */
export function headText(status: number, statusText: string, headers: HeaderPairs): string {
  let s = `HTTP/1.1 ${status} ${statusText}\r\n`;
  for (const [k, v] of headers) s += `${k}: ${v}\r\n`;
  return `${s}\r\n`;
}

/**
 * A whole HTTP/1.1 response for a raw socket that closes after it (refused clients, refused
 * CONNECTs, parser errors): `Content-Length` and `Connection: close` are set here.
 */
export function closingResponse(status: number, headers: HeaderPairs, body: Buffer | string, statusText = http.STATUS_CODES[status] ?? ''): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const framed: HeaderPairs = [...headers.filter(([k]) => !/^(content-length|connection|transfer-encoding)$/i.test(k)), ['Content-Length', String(bytes.length)], ['Connection', 'close']];
  return Buffer.concat([Buffer.from(headText(status, statusText, framed), 'latin1'), bytes]);
}
