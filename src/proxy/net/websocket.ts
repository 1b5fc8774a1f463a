import type net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { ClientInfo } from '../core/flow.js';
import type { ExchangeEnv, RequestTarget } from './exchange.js';

/**
 * Relay an HTTP/1.1 Upgrade (WebSocket) request: the handshake becomes a flow of kind
 * `websocket` and every message is captured on it. (Being written: see issue 3.)
 */
export function handleUpgrade(env: ExchangeEnv, req: IncomingMessage, socket: net.Socket, head: Buffer, target: RequestTarget, client: ClientInfo): void {
  void env;
  void req;
  void head;
  void target;
  void client;
  socket.end('HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nproxyctl: WebSocket relay not built yet\n');
}
