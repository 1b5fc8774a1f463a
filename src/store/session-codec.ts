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

export function encodeFlow(flow: Flow): EncodedFlow {
  const blobs: BlobToWrite[] = [];
  const request = { ...stripBody(flow.request), body: encodeBody(flow.request.body, blobs) };
  const response = flow.response ? { ...stripBody(flow.response), body: encodeBody(flow.response.body, blobs) } : null;
  const record: StoredFlow = {
    v: SESSION_FORMAT_VERSION,
    id: flow.id,
    kind: flow.kind,
    phase: flow.phase,
    client: { ...flow.client },
    server: { ...flow.server },
    request,
    response,
    timings: { ...flow.timings },
    error: flow.error ? { code: flow.error.code, message: flow.error.message } : null,
    tags: [...flow.tags],
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

function stripBody<T extends FlowRequest | FlowResponse>(m: T): Omit<T, 'body'> {
  const { body: _body, ...rest } = m;
  return rest;
}

function encodeBody(body: BodyCapture, blobs: BlobToWrite[]): StoredBody {
  const bytes = body.bytes;
  let blob: string | null = null;
  if (bytes && bytes.length > 0) {
    // A whole body's hash is the hash of the stored bytes: reuse it instead of hashing twice.
    blob = !body.truncated && body.sha256 && body.state === 'complete' ? body.sha256 : sha256Hex(bytes);
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
