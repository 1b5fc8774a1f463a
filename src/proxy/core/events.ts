import type { Flow, WebSocketMessage } from './flow.js';

/**
 * Everything the core announces. Subscribers (store, TUI, recorder, access log, metrics) get
 * snapshots: the core never hands out an object it will mutate later.
 */
export type ProxyEvent =
  /** A new flow appeared (request headers received, or a tunnel opened). */
  | { type: 'flow-start'; flow: Flow }
  /** A flow changed (phase, response headers, tags, error). */
  | { type: 'flow-update'; flow: Flow }
  /** A flow finished (phase `done` or `error`); it will not change again. */
  | { type: 'flow-end'; flow: Flow }
  /** A WebSocket message passed (also appended to the flow's `websocket.messages`). */
  | { type: 'ws-message'; flowId: string; message: WebSocketMessage }
  /** A line for the event log. */
  | { type: 'log'; level: LogLevel; message: string; flowId?: string; time: number };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ProxyEventType = ProxyEvent['type'];
