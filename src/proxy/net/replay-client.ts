import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { FlowRequest } from '../core/flow.js';
import { flowUrl } from '../core/flow.js';
import { hostHeader, isIpLiteral } from '../core/authority.js';
import { rawFromPairs, stripHopByHop } from '../core/headers.js';
import { h1FieldsFromH2 } from '../core/h2-translate.js';
import { fixBodyFraming } from '../core/edits.js';

/** The header that marks a replayed request; the proxy removes it and tags the new flow. */
export const REPLAY_HEADER = 'x-proxyctl-replay-of';

export interface ReplayResult {
  status: number;
  bytes: number;
}

/**
 * Send a recorded request again *through our own listener*, so the replay is an ordinary flow that
 * passes every rule, breakpoint and the recorder, exactly like the original did. HTTPS goes
 * through CONNECT and TLS with our CA, as a browser would.
 */
export function replayThroughProxy(proxyPort: number, request: FlowRequest, body: Buffer, caPem: string, replayOf: string, timeoutMs = 60_000): Promise<ReplayResult> {
  const authority = hostHeader(request.scheme, request.host, request.port);
  let headers = request.httpVersion === '2' ? h1FieldsFromH2(request.headers, authority) : stripHopByHop(request.headers);
  headers = fixBodyFraming(headers, body.length);
  headers.push([REPLAY_HEADER, replayOf]);
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    };
    const common = { method: request.method, headers: rawFromPairs(headers) as unknown as http.OutgoingHttpHeaders, setHost: false, agent: false as const, timeout: timeoutMs };
    if (request.scheme === 'http') {
      const req = http.request({ ...common, host: '127.0.0.1', port: proxyPort, path: flowUrl(request) }, onResponse);
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`replay timed out after ${timeoutMs} ms`)));
      req.end(body);
      return;
    }
    const connect = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: authority, agent: false, timeout: timeoutMs });
    connect.on('error', reject);
    connect.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`proxy refused CONNECT: ${res.statusCode}`));
        return;
      }
      const secure = tls.connect({ socket, ca: caPem, ...(isIpLiteral(request.host) ? {} : { servername: request.host }), ALPNProtocols: ['http/1.1'] });
      secure.on('error', reject);
      // No `agent` here: with one (even `agent: false`) Node ignores createConnection and would dial
      // the origin directly, skipping the proxy.
      const { agent: _agent, ...viaTunnel } = common;
      void _agent;
      const req = https.request({ ...viaTunnel, host: request.host, port: request.port, path: request.path, createConnection: () => secure }, onResponse);
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`replay timed out after ${timeoutMs} ms`)));
      req.end(body);
    });
    connect.end();
  });
}
