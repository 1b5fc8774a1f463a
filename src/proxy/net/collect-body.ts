import { PassThrough, type Readable } from 'node:stream';
import type { HeaderPairs } from '../core/flow.js';
import { pairsFromRaw } from '../core/headers.js';

export type Collected =
  | { overflow: false; bytes: Buffer; trailers: HeaderPairs }
  | {
      overflow: true;
      /** The bytes read so far followed by the rest of the body, to be streamed on. */
      stream: Readable;
    };

/**
 * Read a body whole, up to `limit` bytes. Past the limit, stop holding it and hand back a stream
 * that replays what was read and continues with the rest (backpressure intact).
 */
export function collectBody(source: Readable, limit: number): Promise<Collected> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size > limit && !settled) {
        settled = true;
        source.off('data', onData);
        source.off('end', onEnd);
        source.off('error', onEnd);
        source.pause();
        const pass = new PassThrough();
        for (const c of chunks) pass.write(c);
        source.pipe(pass);
        resolve({ overflow: true, stream: pass });
      }
    };
    const onEnd = () => {
      if (settled) return;
      settled = true;
      const raw = (source as { rawTrailers?: string[] }).rawTrailers;
      resolve({ overflow: false, bytes: Buffer.concat(chunks, size), trailers: raw?.length ? pairsFromRaw(raw) : [] });
    };
    source.on('data', onData);
    source.once('end', onEnd);
    // A broken body resolves with what arrived; the exchange notices the closed side itself.
    source.once('error', onEnd);
  });
}
