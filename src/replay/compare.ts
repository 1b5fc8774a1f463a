/**
 * Compare a replayed response with the recorded one: status, then body. Bodies are compared after
 * removing their content-coding, so a recording made with gzip matches a replay answered in br.
 * A recording that kept only the head of a large body is compared by size and SHA-256 of the
 * bytes as sent. Pure (zlib and hashing only).
 */
import { createHash } from 'node:crypto';
import { decodeBody } from '../proxy/core/body-decode.js';
import { type FlowResponse, type HeaderPairs } from '../proxy/core/flow.js';
import { compareBodies, type BodyDiff } from './diff.js';

/** A response as the replay received it. */
export interface ReplayedResponse {
  status: number;
  statusText: string;
  headers: HeaderPairs;
  /** The body bytes as sent (content-coded); null when it was larger than the replay keeps. */
  body: Buffer | null;
  /** Bytes received. */
  size: number;
  /** Hex SHA-256 of the bytes received. */
  sha256: string;
}

export interface ResponseComparison {
  statusMatches: boolean;
  body: BodyDiff;
}

function decoded(bytes: Buffer, headers: HeaderPairs): Buffer {
  // A coding we cannot undo leaves the bytes as they are; they then compare as sent.
  return decodeBody({ size: bytes.length, bytes, truncated: false, sha256: null, state: 'complete' }, headers).bytes;
}

/** Compare `replayed` with the `recorded` response of the flow. */
export function compareResponse(recorded: FlowResponse, replayed: ReplayedResponse): ResponseComparison {
  return { statusMatches: recorded.status === replayed.status, body: compareResponseBodies(recorded, replayed) };
}

function compareResponseBodies(recorded: FlowResponse, replayed: ReplayedResponse): BodyDiff {
  const rb = recorded.body;
  if (rb.state === 'aborted') return { kind: 'not-compared', reason: 'the recorded body was cut short' };
  if (rb.truncated) {
    // Only the head was kept; the whole body is known by its digest.
    if (!rb.sha256) return { kind: 'not-compared', reason: 'only part of the recorded body was kept' };
    return rb.sha256 === replayed.sha256 && rb.size === replayed.size ? { kind: 'same', json: false } : { kind: 'digest', recordedSize: rb.size, replayedSize: replayed.size };
  }
  if (rb.bytes === null && rb.size > 0) return { kind: 'not-compared', reason: 'the body was not recorded' };
  if (replayed.body === null) {
    const rec = rb.bytes ?? Buffer.alloc(0);
    const same = rec.length === replayed.size && createHash('sha256').update(rec).digest('hex') === replayed.sha256;
    return same ? { kind: 'same', json: false } : { kind: 'not-compared', reason: `the replayed body (${replayed.size} bytes) was too large to compare` };
  }
  return compareBodies(decoded(rb.bytes ?? Buffer.alloc(0), recorded.headers), decoded(replayed.body, replayed.headers));
}
