import { assertNever } from '../../proxy/core/assert-never.js';
import type { Flow } from '../../proxy/core/flow.js';
import type { Doc } from '../doc.js';
import { requestDoc, responseDoc } from './message-doc.js';
import { rawDoc } from './raw-doc.js';
import { timingDoc } from './timing-doc.js';
import { websocketDoc } from './ws-doc.js';

export type DetailTab = 'request' | 'response' | 'timing' | 'websocket' | 'raw';

export const TAB_TITLES: Readonly<Record<DetailTab, string>> = {
  request: 'Request',
  response: 'Response',
  timing: 'Timing',
  websocket: 'WebSocket',
  raw: 'Raw',
};

/** The tabs a flow has (the WebSocket tab only for WebSocket flows). */
export function availableTabs(flow: Flow): DetailTab[] {
  return flow.websocket || flow.kind === 'websocket' ? ['request', 'response', 'websocket', 'timing', 'raw'] : ['request', 'response', 'timing', 'raw'];
}

/** The document a tab shows, for a pane `width` columns wide. */
export function tabDoc(flow: Flow, tab: DetailTab, width: number): Doc {
  switch (tab) {
    case 'request':
      return requestDoc(flow, width);
    case 'response':
      return responseDoc(flow, width);
    case 'timing':
      return timingDoc(flow);
    case 'websocket':
      return websocketDoc(flow, width);
    case 'raw':
      return rawDoc(flow, width);
    default:
      return assertNever(tab, 'detail tab');
  }
}
