import type { Flow, FlowRequest, FlowResponse } from './flow.js';

/**
 * A copy of a flow that later mutations by the network layer cannot reach. Header arrays,
 * trailers and body buffers are replaced, never mutated, by convention, so they are shared; the
 * containers that do change are copied.
 */
export function snapshotFlow(flow: Flow): Flow {
  return {
    ...flow,
    client: { ...flow.client },
    server: { ...flow.server },
    request: copyRequest(flow.request),
    response: flow.response ? copyResponse(flow.response) : null,
    timings: { ...flow.timings },
    tags: flow.tags.slice(),
    websocket: flow.websocket ? { ...flow.websocket, messages: flow.websocket.messages.slice() } : null,
  };
}

function copyRequest(r: FlowRequest): FlowRequest {
  return { ...r, body: { ...r.body } };
}

function copyResponse(r: FlowResponse): FlowResponse {
  return { ...r, body: { ...r.body } };
}
