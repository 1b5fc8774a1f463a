import http2 from 'node:http2';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { HeaderPairs } from '../core/flow.js';
import { h2FieldsFrom } from '../core/h2-translate.js';
import type { H1IncomingRequest } from './h1-server/incoming.js';
import type { H1ServerResponse } from './h1-server/outgoing.js';

export type ClientRequest = H1IncomingRequest | Http2ServerRequest;
export type ClientResponse = H1ServerResponse | Http2ServerResponse;

/**
 * The few places where answering an HTTP/1.x client differs from answering an HTTP/2 stream.
 * Everything else (streaming, trailers, continue, early hints) is the same call on Node's
 * HTTP/1 and HTTP/2-compatibility response objects.
 */
export interface ClientWriter {
  readonly h2: boolean;
  writeHead(status: number, statusText: string, headers: HeaderPairs): void;
  addTrailers(trailers: HeaderPairs): void;
  /** Finish the response with an optional whole body. */
  end(body?: Buffer): void;
  /** Abandon the exchange without an answer: close an H1 connection, reset one H2 stream. */
  drop(): void;
  /** Cut a response whose head already went out, so the client sees it incomplete (not ended). */
  abort(): void;
}

export function clientWriter(res: ClientResponse): ClientWriter {
  if ('stream' in res) {
    const h2res = res as Http2ServerResponse;
    return {
      h2: true,
      writeHead: (status, _text, headers) => {
        // HTTP/2 has no reason phrase (RFC 9113 §8.3.2); header names must be lowercase.
        h2res.writeHead(status, h2FieldsFrom(headers));
      },
      addTrailers: (trailers) => h2res.addTrailers(h2FieldsFrom(trailers)),
      end: (body) => void (body ? h2res.end(body) : h2res.end()),
      drop: () => h2res.stream.close(http2.constants.NGHTTP2_CANCEL),
      // RST_STREAM with NO_ERROR would read as a normal end; INTERNAL_ERROR says it is cut.
      abort: () => h2res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
    };
  }
  const h1res = res as H1ServerResponse;
  return {
    h2: false,
    writeHead: (status, text, headers) => {
      h1res.writeHead(status, text, headers);
    },
    addTrailers: (trailers) => h1res.addTrailers(trailers),
    end: (body) => void (body ? h1res.end(body) : h1res.end()),
    drop: () => h1res.socket?.destroy(),
    abort: () => h1res.destroy(),
  };
}
