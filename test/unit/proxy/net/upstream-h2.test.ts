/**
 * H2Sessions against real TLS origins on 127.0.0.1: one client TLS context is shared by every origin
 * connection, and each connection still checks its own origin's certificate and name, and
 * negotiates its own protocol.
 */
import { once } from 'node:events';
import type http2 from 'node:http2';
import type tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultProxyOptions } from '../../../../src/proxy/net/options.js';
import { H2Sessions, type UpstreamRoute } from '../../../../src/proxy/net/upstream-h2.js';
import { originCa } from '../../../helpers/origin-certs.js';
import { startOrigin, type Origin, type OriginOptions } from '../../../helpers/origin.js';
import { withTimeout } from '../../../helpers/wait.js';

describe('H2Sessions', () => {
  const origins: Origin[] = [];
  const sessions: H2Sessions[] = [];
  const sockets: tls.TLSSocket[] = [];

  function h2Sessions(): H2Sessions {
    // origin.test is one of the names the valid origin certificate carries.
    const resolve = new Map([['origin.test', '127.0.0.1']]);
    const s = new H2Sessions({ ...defaultProxyOptions, resolve, upstreamCa: [originCa.cert], connectTimeoutMs: 3000 });
    sessions.push(s);
    return s;
  }

  async function origin(opts: OriginOptions): Promise<Origin> {
    const o = await startOrigin(opts);
    origins.push(o);
    return o;
  }

  /** The route, awaited and bounded. */
  async function route(s: H2Sessions, host: string, port: number): Promise<UpstreamRoute> {
    const r = await withTimeout(Promise.resolve(s.route(host, port)), 5000, `route to ${host}:${port}`);
    if (r.protocol === 'h1' && r.socket) sockets.push(r.socket);
    return r;
  }

  /** GET `path` on an h2 session; the status and body as the origin sent them. */
  async function get(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
    const stream = session.request({ ':method': 'GET', ':path': path });
    stream.end();
    const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
    let body = '';
    stream.setEncoding('utf8');
    for await (const chunk of stream) body += chunk as string;
    return { status: Number(headers[':status']), body };
  }

  afterEach(async () => {
    for (const s of sessions.splice(0)) s.destroy();
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(origins.splice(0).map((o) => o.close()));
  });

  it('checks each origin certificate on its own although the connections share one TLS context', async () => {
    const good = await origin({ http2: true });
    const wrongHost = await origin({ http2: true, tls: 'wrong-host' });
    const expired = await origin({ http2: true, tls: 'expired' });
    const s = h2Sessions();

    const first = await route(s, 'localhost', good.port);
    expect(first.protocol).toBe('h2');
    if (first.protocol === 'h2') expect(await get(first.session, '/hello')).toEqual({ status: 200, body: 'hello' });

    await expect(Promise.resolve(s.route('localhost', wrongHost.port))).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    await expect(Promise.resolve(s.route('localhost', expired.port))).rejects.toMatchObject({ code: 'CERT_HAS_EXPIRED' });
    // Another name the good origin's certificate covers: verified, on a connection of its own.
    const other = await route(s, 'origin.test', good.port);
    expect(other.protocol).toBe('h2');
    expect(good.connections).toBe(2);
  });

  it('negotiates the protocol per connection: an HTTP/1.1-only origin, then an h2 one', async () => {
    const h1Only = await origin({ tls: 'valid' });
    const h2 = await origin({ http2: true });
    const s = h2Sessions();

    const r1 = await route(s, 'localhost', h1Only.port);
    expect(r1.protocol).toBe('h1');
    // The probing connection comes along, verified, for the HTTP/1.1 pool to adopt.
    if (r1.protocol === 'h1') expect(r1.socket?.authorized).toBe(true);
    // Remembered: no second probe.
    expect(s.route('localhost', h1Only.port)).toEqual({ protocol: 'h1' });

    const r2 = await route(s, 'localhost', h2.port);
    expect(r2.protocol).toBe('h2');
    if (r2.protocol === 'h2') expect(await get(r2.session, '/hello')).toEqual({ status: 200, body: 'hello' });
    expect([h1Only.connections, h2.connections]).toEqual([1, 1]);
  });
});
