import type { BodyCapture, Flow } from '../proxy/core/flow.js';

/**
 * Bodies whose bytes live in the session rather than in memory (issue 7, bounded memory).
 *
 * The store lets go of the captured bytes of old, finished, recorded flows when the bodies it holds
 * exceed its byte budget, and flows read back from the session log carry no bytes until someone
 * asks for them. Such a body keeps `size`, `sha256`, `truncated` and `state`, has `bytes: null`
 * and is marked `inSession`, so a reader can tell "the bytes are on disk, ask for them" from
 * "nothing was captured" (which is also `bytes: null`). The marker is an extra property rather
 * than a field of `BodyCapture`: the flow model belongs to the proxy core, and this is a fact about
 * where the store keeps bytes. It never reaches the session log (the codec lists its fields).
 */
export type BodyInSession = BodyCapture & {
  readonly bytes: null;
  readonly inSession: true;
  /** Set when reading the bytes back failed (a blob deleted by hand): the reason, for the UI. */
  readonly readError?: string;
};

/** True for a body whose bytes are in the session's blobs, not in memory. */
export function isInSession(body: BodyCapture): body is BodyInSession {
  return (body as Partial<BodyInSession>).inSession === true;
}

/** True when either message of the flow has its bytes in the session (and no read error yet). */
export function needsBodies(flow: Flow): boolean {
  const pending = (b: BodyCapture) => isInSession(b) && b.readError === undefined;
  return pending(flow.request.body) || (flow.response !== null && pending(flow.response.body));
}

/** Captured bytes a flow holds in memory (both bodies). */
export function heldBodyBytes(flow: Flow): number {
  return (flow.request.body.bytes?.length ?? 0) + (flow.response?.body.bytes?.length ?? 0);
}

/** The body without its bytes, marked as kept in the session (a body without bytes is returned as is). */
export function bodyInSession(body: BodyCapture): BodyCapture {
  if (!body.bytes || body.bytes.length === 0) return body;
  return { size: body.size, bytes: null, truncated: body.truncated, sha256: body.sha256, state: body.state, inSession: true } as BodyInSession;
}

/** The flow with both bodies' bytes let go of (they are in the session); the same object when there were none. */
export function releaseBodies(flow: Flow): Flow {
  const req = bodyInSession(flow.request.body);
  const res = flow.response ? bodyInSession(flow.response.body) : null;
  if (req === flow.request.body && (flow.response === null || res === flow.response.body)) return flow;
  return {
    ...flow,
    request: req === flow.request.body ? flow.request : { ...flow.request, body: req },
    response: flow.response && res && res !== flow.response.body ? { ...flow.response, body: res } : flow.response,
  };
}

/** The body marked as unreadable: the UI says why instead of "loading". */
export function bodyReadFailed(body: BodyCapture, reason: string): BodyCapture {
  if (!isInSession(body)) return body;
  return { ...body, readError: reason } as BodyInSession;
}

/**
 * `flow` with the bodies it keeps in the session taken from `full` (the same flow read back with
 * its bytes). Everything else comes from `flow`, which may be newer (marked since, for example).
 */
export function withBodiesFrom(flow: Flow, full: Flow): Flow {
  const pick = (mine: BodyCapture, theirs: BodyCapture | undefined): BodyCapture => (isInSession(mine) && theirs ? theirs : mine);
  const req = pick(flow.request.body, full.request.body);
  const res = flow.response ? pick(flow.response.body, full.response?.body) : null;
  if (req === flow.request.body && (flow.response === null || res === flow.response.body)) return flow;
  return {
    ...flow,
    request: req === flow.request.body ? flow.request : { ...flow.request, body: req },
    response: flow.response && res && res !== flow.response.body ? { ...flow.response, body: res } : flow.response,
  };
}
