import type { IncomingHttpHeaders } from 'node:http';
import type net from 'node:net';
import { Readable } from 'node:stream';
import type { HeaderPairs } from '../../core/flow.js';
import { rawFromPairs } from '../../core/headers.js';
import type { RequestHead } from './request-head.js';

/** Node's rule for repeated fields in `headers`: these keep their first value only. */
const SINGLE = new Set(['age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent']);

/**
 * A request read by the proxy's own HTTP/1.x server: the head, and the body as a readable
 * stream. It offers the part of Node's `IncomingMessage` the proxy uses (method, url, httpVersion,
 * headers, rawHeaders, rawTrailers, socket), so exchanges treat both alike.
 */
export class H1IncomingRequest extends Readable {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: '1.0' | '1.1';
  /**
   * How the body is framed: none (no Content-Length or Transfer-Encoding field), a length (even
   * 0), or chunked.
   */
  readonly bodyFraming: 'none' | 'length' | 'chunked';
  private pairs: HeaderPairs;
  rawTrailers: string[] = [];
  /** The whole body was read. */
  complete = false;
  private headersObject: IncomingHttpHeaders | null = null;

  constructor(
    head: RequestHead,
    readonly socket: net.Socket,
    private readonly resumeSource: () => void,
  ) {
    super();
    this.method = head.method;
    this.url = head.url;
    this.httpVersion = head.minor === 1 ? '1.1' : '1.0';
    this.pairs = head.headers;
    this.bodyFraming = head.framing.kind === 'chunked' ? 'chunked' : head.framing.kind === 'length' || head.declaredLength ? 'length' : 'none';
  }

  override _read(): void {
    this.resumeSource();
  }

  /** The fields as received, in order. */
  get headerPairs(): HeaderPairs {
    return this.pairs;
  }

  /** Replace the fields a handler passes on (reverse mode rewrites them before relaying an upgrade). */
  set headerPairs(pairs: HeaderPairs) {
    this.pairs = pairs;
    this.headersObject = null;
  }

  /** `[name, value, name, value …]`, as Node gives it (made on demand: the proxy reads `headerPairs`). */
  get rawHeaders(): string[] {
    return rawFromPairs(this.pairs);
  }

  /** Lowercased names; repeated fields joined with ", " (cookie with "; ", set-cookie kept as a list), like Node. */
  get headers(): IncomingHttpHeaders {
    if (this.headersObject) return this.headersObject;
    const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
    for (const [k, v] of this.pairs) {
      const key = k.toLowerCase();
      const prev = out[key];
      if (prev === undefined) out[key] = key === 'set-cookie' ? [v] : v;
      else if (key === 'set-cookie') (prev as string[]).push(v);
      else if (key === 'cookie') out[key] = `${prev as string}; ${v}`; // RFC 6265 §5.4
      else if (!SINGLE.has(key)) out[key] = `${prev as string}, ${v}`;
    }
    return (this.headersObject = out);
  }

  get httpVersionMajor(): number {
    return 1;
  }

  get httpVersionMinor(): number {
    return this.httpVersion === '1.1' ? 1 : 0;
  }
}
