/**
 * Hostile and broken clients (issue 2): garbage, slow and silent connections, stalled TLS
 * handshakes and clients that reject our certificate. The proxy cuts them loose within its bounds
 * and keeps serving everybody else.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { curlRequest } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

/** Send `payload`, then half-close or destroy; resolves when the socket is closed (bounded). */
function garbageConnection(port: number, payload: Buffer, how: 'end' | 'destroy' | 'linger'): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const bound = setTimeout(() => socket.destroy(), 3000);
    socket.on('error', () => {
      // Resets are expected: the proxy may refuse the bytes.
    });
    socket.on('data', () => {
      // Whatever the proxy answers (400 pages, TLS alerts) is not the point here.
    });
    socket.on('close', () => {
      clearTimeout(bound);
      resolve();
    });
    socket.on('connect', () => {
      socket.write(payload, () => {
        if (how === 'end') socket.end();
        else if (how === 'destroy') socket.destroy();
        // 'linger': leave it open until the proxy or the bound closes it.
      });
    });
  });
}

function burstPayload(i: number, originPort: number): Buffer {
  const rnd = randomBytes(1 + ((i * 37) % 300));
  switch (i % 6) {
    case 0:
      return rnd;
    case 1:
      // Looks like a TLS record, then noise.
      return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), rnd]);
    case 2:
      return Buffer.from(`CONNECT 127.0.0.1:${originPort}`.slice(0, 3 + (i % 20)));
    case 3:
      return Buffer.from(`GET http://127.0.0.1:${originPort}/hel`);
    case 4:
      return Buffer.from(`GET http://127.0.0.1:${originPort}/hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ab`);
    default:
      return Buffer.concat([Buffer.from('CONNECT '), rnd, Buffer.from('\r\n\r\n')]);
  }
}

describe('robustness', () => {
  let origin: Origin;
  let proxy: TestProxy;
  const sockets: RawSocket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await stopAllProxies();
    await origin?.close();
  });

  async function open(): Promise<RawSocket> {
    const raw = await openRaw(proxy.port);
    sockets.push(raw);
    return raw;
  }

  async function stillServes(): Promise<void> {
    const res = await curlRequest(`${origin.url}/hello`, { proxy: proxy.url });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
  }

  it('survives a burst of 200 garbage connections, then serves a normal request', async () => {
    origin = await startOrigin();
    proxy = await startProxy({ net: { clientIdleTimeoutMs: 1000, headersTimeoutMs: 1000, handshakeTimeoutMs: 1000 } });
    const hows = ['end', 'destroy', 'linger'] as const;
    await Promise.all(Array.from({ length: 200 }, (_, i) => garbageConnection(proxy.port, burstPayload(i, origin.port), hows[i % 3]!)));
    await stillServes();
    // Nothing the burst opened stays open.
    await waitFor(() => proxy.runtime.proxy.openConnections === 0, { message: 'every proxy connection to close', timeoutMs: 5000 });
    // Every request that was at least a request line ended as a finished flow, never stuck.
    expect(proxy.flows().filter((f) => f.phase !== 'done' && f.phase !== 'error')).toEqual([]);
  });

  it('answers 408 to (or closes) a client that trickles its headers past headersTimeoutMs', async () => {
    origin = await startOrigin();
    proxy = await startProxy({ net: { headersTimeoutMs: 1000 } });
    const raw = await open();
    const request = Buffer.from(`GET ${origin.url}/hello HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`);
    const t0 = Date.now();
    // One byte every 200 ms (the behaviour under test, not a wait): 25 bytes take 5 s.
    for (let i = 0; i < 25 && !raw.ended; i++) {
      await raw.write(request.subarray(i, i + 1)).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
    const gotCut = raw.ended;
    const answer = raw.buffered.toString('latin1');
    expect(gotCut || /^HTTP\/1\.1 408 /.test(answer), `still open after ${Date.now() - t0} ms; received ${JSON.stringify(answer.slice(0, 80))}`).toBe(true);
    if (answer) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(origin.requests).toEqual([]);
    await stillServes();
  });

  it('closes a connection that never sends a byte after clientIdleTimeoutMs', async () => {
    origin = await startOrigin();
    proxy = await startProxy({ net: { clientIdleTimeoutMs: 300 } });
    const raw = await open();
    const t0 = Date.now();
    await raw.closed(3000);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2500);
    expect(raw.buffered.length).toBe(0);
    await waitFor(() => proxy.runtime.proxy.openConnections === 0, { message: 'the idle connection to be released' });
    await stillServes();
  });

  it('closes a TLS ClientHello that never completes after handshakeTimeoutMs', async () => {
    origin = await startOrigin();
    proxy = await startProxy({ net: { handshakeTimeoutMs: 400 } });
    const raw = await open();
    // A handshake record header announcing 512 bytes, then only a few of them.
    await raw.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    const t0 = Date.now();
    await raw.closed(3000);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(2500);
    await waitFor(() => proxy.runtime.store.getSnapshot().log.some((e) => e.level === 'warn' && /handshake/i.test(e.message)), {
      message: 'a warning about the handshake',
    });
    await stillServes();
  });

  it('logs a warning naming the host when a client rejects our certificate', async () => {
    origin = await startOrigin({ tls: 'valid' });
    proxy = await startProxy();
    // No --cacert: curl trusts only the system store, which does not hold the proxyctl CA.
    const res = await curlRequest(`${origin.url}/hello`, { proxy: proxy.url });
    expect(res.exitCode).toBe(60);
    const warning = await waitFor(() => proxy.runtime.store.getSnapshot().log.find((e) => e.level === 'warn' && e.message.includes('localhost')), {
      message: 'a warning naming localhost',
    });
    expect(warning.message).toMatch(/TLS/);
    expect(origin.requests).toEqual([]);
    // The same request with the CA trusted works.
    const ok = await curlRequest(`${origin.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert });
    expect(ok.status).toBe(200);
  });
});
