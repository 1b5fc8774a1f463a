import { createHash } from 'node:crypto';
import type { BodyCapture, Flow, FlowRequest, FlowResponse, WebSocketInfo } from '../proxy/core/flow.js';
import { SESSION_FORMAT_VERSION, type StoredBody, type StoredFlow } from './schemas.js';

/**
 * Flow ⇄ session line, without IO. A line holds everything about a flow except body bytes, which
 * become references to content-addressed blobs; WebSocket payloads stay inline as base64 (they are
 * capped per message and per flow by the relay).
 *
 * Not stored: `pause` (a finished flow is never paused) and `original` (the pre-edit copy of a
 * breakpoint edit; only the live TUI shows it).
 */

/** A blob the line refers to: write it before the line. */
export interface BlobToWrite {
  hash: string;
  bytes: Buffer;
}

export interface EncodedFlow {
  record: StoredFlow;
  blobs: BlobToWrite[];
}

/**
 * The record of a flow, ready for `JSON.stringify`, and the blobs its line refers to.
 *
 * The record shares the flow's nested objects (client, server, timings, headers, tags) instead of
 * copying them: it is serialized at once and never kept, and the copies cost more than the rest of
 * the encoding (issue 9). A message's fields are copied in the flow's own key order with `body`
 * moved last, exactly as `{ ...rest, body }` would, so lines stay byte-for-byte what they were.
 * `hashOf` names a body's blob (the recorder passes one that remembers recent small bodies).
 */
export function encodeFlow(flow: Flow, hashOf: (bytes: Buffer) => string = sha256Hex): EncodedFlow {
  const blobs: BlobToWrite[] = [];
  const request = storedMessage(flow.request, encodeBody(flow.request.body, blobs, hashOf));
  const response = flow.response ? storedMessage(flow.response, encodeBody(flow.response.body, blobs, hashOf)) : null;
  const record: StoredFlow = {
    v: SESSION_FORMAT_VERSION,
    id: flow.id,
    kind: flow.kind,
    phase: flow.phase,
    client: flow.client,
    server: flow.server,
    request,
    response,
    timings: flow.timings,
    error: flow.error ? { code: flow.error.code, message: flow.error.message } : null,
    tags: flow.tags,
    marked: flow.marked,
    websocket: flow.websocket ? encodeWebSocket(flow.websocket) : null,
  };
  return { record, blobs };
}

/** Bodies for `decodeFlow`, by blob hash (missing → bytes null). */
export type BlobLookup = (hash: string) => Buffer | null;

export function decodeFlow(record: StoredFlow, blobs: BlobLookup | null): Flow {
  const { v: _v, ...rest } = record;
  return {
    ...rest,
    request: { ...record.request, body: decodeBody(record.request.body, blobs) },
    response: record.response ? { ...record.response, body: decodeBody(record.response.body, blobs) } : null,
    websocket: record.websocket
      ? {
          ...record.websocket,
          messages: record.websocket.messages.map((m) => ({ ...m, payload: Buffer.from(m.payload, 'base64') })),
        }
      : null,
  };
}

/** Hashes of the blobs a record refers to (request body first). */
export function blobsOf(record: StoredFlow): string[] {
  const out: string[] = [];
  if (record.request.body.blob) out.push(record.request.body.blob);
  if (record.response?.body.blob) out.push(record.response.body.blob);
  return out;
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A message with its body replaced by the stored one, placed last. A plain key loop rather than
 * `const { body, ...rest } = m`: V8 runs object rest through a slow generic path (about 1 µs a
 * message, measured), and own enumerable keys in insertion order are what both visit.
 */
function storedMessage<T extends FlowRequest | FlowResponse>(m: T, body: StoredBody): Omit<T, 'body'> & { body: StoredBody } {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(m)) if (key !== 'body') out[key] = m[key as keyof T];
  out['body'] = body;
  return out as Omit<T, 'body'> & { body: StoredBody };
}

function encodeBody(body: BodyCapture, blobs: BlobToWrite[], hashOf: (bytes: Buffer) => string): StoredBody {
  const bytes = body.bytes;
  let blob: string | null = null;
  if (bytes && bytes.length > 0) {
    // A whole body's hash is the hash of the stored bytes: reuse it instead of hashing twice.
    blob = !body.truncated && body.sha256 && body.state === 'complete' ? body.sha256 : hashOf(bytes);
    if (!blobs.some((b) => b.hash === blob)) blobs.push({ hash: blob, bytes });
  }
  return {
    size: body.size,
    blob,
    captured: bytes?.length ?? 0,
    truncated: body.truncated,
    sha256: body.sha256 ?? (blob !== null && !body.truncated && body.state === 'complete' ? blob : null),
    state: body.state,
  };
}

function decodeBody(stored: StoredBody, blobs: BlobLookup | null): BodyCapture {
  let bytes: Buffer | null = null;
  if (stored.blob === null) {
    // No blob: nothing started (null), a body that passed without being kept (null, e.g. from a HAR
    // saved without content), or an empty one.
    const notKept = stored.state === 'none' || (stored.size > 0 && !stored.truncated);
    bytes = notKept ? null : Buffer.alloc(0);
  } else if (blobs) bytes = blobs(stored.blob);
  return { size: stored.size, bytes, truncated: stored.truncated, sha256: stored.sha256, state: stored.state };
}

function encodeWebSocket(ws: WebSocketInfo): NonNullable<StoredFlow['websocket']> {
  return {
    messages: ws.messages.map((m) => ({
      direction: m.direction,
      type: m.type,
      size: m.size,
      payload: m.payload.toString('base64'),
      truncated: m.truncated,
      time: m.time,
    })),
    droppedMessages: ws.droppedMessages,
    closeCode: ws.closeCode,
    closeReason: ws.closeReason,
    closedBy: ws.closedBy,
  };
}
