/**
 * The throttle rule through the real proxy (issue 6, point 7): added latency and a bandwidth cap
 * per rule, applied while the body streams, both directions; traffic the rule does not match is
 * not slowed.
 *
 * Timing bounds are one-sided where it matters (a throttled exchange takes at least what the rule
 * imposes, minus a little for the token bucket's initial burst) and generous on the other side, so
 * they hold on a loaded two-core machine. Unmatched traffic is compared loosely against the delay the
 * rule would have added.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, type ConfigFile } from '../../src/config/schema.js';
import { Disposer } from '../helpers/disposer.js';
import { openH2Tunnel, readH2Response } from '../helpers/h2-tunnel.js';
import { originBytesSha256, startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { withTimeout } from '../helpers/wait.js';

const proxyCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');
const BODY = 200 * 1024;
const RATE = 100_000;
/**
 * The least time BODY bytes can take at RATE: the bucket lets a tenth of a second's worth go at
 * once, so (BODY - RATE/10) / RATE ≈ 1.95 s; 1.5 s leaves room for timer granularity.
 */
const MIN_THROTTLED_MS = 1500;

function config(rules: unknown[]): ConfigFile {
  return configSchema.parse({ rules });
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

interface Timed {
  status: number;
  body: Buffer;
  /** From sending the request to the last body byte. */
  totalMs: number;
  /** From sending the request to the first body byte (or the head, for an empty body). */
  firstByteMs: number;
  /** Number of body chunks that arrived (a streamed, throttled body comes in many). */
  chunks: number;
}

describe('rules: throttle', () => {
  const origins: Origin[] = [];
  const open = new Disposer();
  const dirs: string[] = [];

  afterEach(async () => {
    await open.run();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  async function origin(opts: Parameters<typeof startOrigin>[0] = {}): Promise<Origin> {
    const o = await startOrigin(opts);
    origins.push(o);
    return o;
  }

  /** One request through the proxy with Node's http client (absolute-form), timed. */
  function timedRequest(proxy: TestProxy, url: string, opts: { method?: string; body?: Buffer } = {}): Promise<Timed> {
    const target = new URL(url);
    const t0 = performance.now();
    const headers: Record<string, string> = { host: target.host };
    if (opts.body) headers['content-length'] = String(opts.body.length);
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: opts.method ?? 'GET', path: url, headers, agent: false });
    open.destroy(req);
    return withTimeout(
      new Promise<Timed>((resolve, reject) => {
        req.on('error', reject);
        req.on('response', (res) => {
          let firstByteMs = performance.now() - t0;
          let seenFirst = false;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            if (!seenFirst) {
              seenFirst = true;
              firstByteMs = performance.now() - t0;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), totalMs: performance.now() - t0, firstByteMs, chunks: chunks.length }));
          res.on('error', reject);
        });
        req.end(opts.body);
      }),
      15_000,
      `${opts.method ?? 'GET'} ${url}`,
    );
  }

  it('adds the rule latency to matching responses and tags the flow', async () => {
    const o = await origin();
    const proxy = await startProxy({ config: config([{ type: 'throttle', filter: '~u /hello', latencyMs: 600 }]) });
    const slow = await timedRequest(proxy, `${o.url}/hello`);
    expect(slow.status).toBe(200);
    expect(slow.body.toString()).toBe('hello');
    expect(slow.totalMs).toBeGreaterThanOrEqual(595);
    expect(slow.totalMs).toBeLessThan(10_000);

    // Not matched: no added latency (loosely: well under what the rule adds).
    const fast = await timedRequest(proxy, `${o.url}/status/200`);
    expect(fast.status).toBe(200);
    expect(fast.totalMs).toBeLessThan(600);

    const flows = await proxy.waitForFlows(2);
    const throttled = flows.find((f) => f.request.path === '/hello')!;
    expect(throttled.tags).toContain('throttled');
    // The time was added by the proxy after the origin answered, not by the origin.
    expect(throttled.timings.responseEnd! - throttled.timings.firstByte!).toBeGreaterThanOrEqual(550);
    expect(flows.find((f) => f.request.path === '/status/200')!.tags).not.toContain('throttled');
  });

  it('adds the latency to answers the proxy makes itself (mock, map-local, command) too', async () => {
    // The flows are tagged `throttled`; a throttled host must be slow whoever answers for it, as the
    // bandwidth cap already is for map-local and command output.
    const dir = await mkdtemp(join(tmpdir(), 'proxyctl-rules-throttle-'));
    dirs.push(dir);
    await writeFile(join(dir, 'a.txt'), 'local');
    const proxy = await startProxy({
      config: config([
        { type: 'throttle', filter: '~d ^slow\\.example$', latencyMs: 600 },
        { type: 'mock', filter: '~u /mock$', body: 'mocked' },
        { type: 'map-local', filter: '~u /a\\.txt$', path: dir },
        { type: 'command', filter: '~u /cmd$', argv: [process.execPath, '-e', 'process.stdout.write("command")'] },
      ]),
    });
    const seen: Record<string, number> = {};
    for (const path of ['/mock', '/a.txt', '/cmd']) {
      const res = await timedRequest(proxy, `http://slow.example${path}`);
      expect(res.status, path).toBe(200);
      seen[path] = Math.round(res.totalMs);
    }
    const flows = await proxy.waitForFlows(3);
    expect(flows.every((f) => f.tags.includes('throttled'))).toBe(true);
    expect(Object.values(seen).every((ms) => ms >= 595), JSON.stringify(seen)).toBe(true);
  });

  it('caps download bandwidth while streaming; the body arrives intact; unmatched traffic runs free', async () => {
    const o = await origin();
    const proxy = await startProxy({ config: config([{ type: 'throttle', filter: '~u slow=1', bytesPerSecond: RATE }]) });

    const free = await timedRequest(proxy, `${o.url}/bytes/${BODY}`);
    expect(free.body.length).toBe(BODY);

    const slow = await timedRequest(proxy, `${o.url}/bytes/${BODY}?slow=1`);
    expect(slow.status).toBe(200);
    expect(slow.body.length).toBe(BODY);
    expect(sha256(slow.body)).toBe(originBytesSha256(BODY));
    expect(slow.totalMs).toBeGreaterThanOrEqual(MIN_THROTTLED_MS);
    expect(slow.totalMs).toBeLessThan(12_000);
    // Streamed, not held and released: bytes trickle in from the start, in many pieces.
    expect(slow.firstByteMs).toBeLessThan(slow.totalMs / 2);
    expect(slow.chunks).toBeGreaterThanOrEqual(10);

    // Unmatched: loosely, far below the throttled time.
    expect(free.totalMs).toBeLessThan(MIN_THROTTLED_MS / 2);

    const flows = await proxy.waitForFlows(2);
    expect(flows.map((f) => f.tags.includes('throttled'))).toEqual([false, true]);
    expect(flows[1]!.response?.body.size).toBe(BODY);
  });

  it('caps upload bandwidth too: the origin gets the whole body, slowly', async () => {
    const o = await origin();
    const proxy = await startProxy({ config: config([{ type: 'throttle', filter: '~m POST', bytesPerSecond: RATE }]) });
    const payload = randomBytes(BODY);
    // The origin answers only after the whole body arrived, with 4 bytes: the time is the upload's.
    const res = await timedRequest(proxy, `${o.url}/status/201`, { method: 'POST', body: payload });
    expect(res.status).toBe(201);
    expect(res.body.toString()).toBe('201\n');
    expect(res.totalMs).toBeGreaterThanOrEqual(MIN_THROTTLED_MS);
    expect(res.totalMs).toBeLessThan(12_000);
    const seen = o.requests[0]!;
    expect(seen.complete).toBe(true);
    expect(seen.bodySize).toBe(BODY);
    expect(seen.bodySha256).toBe(sha256(payload));

    // A GET through the same proxy is not slowed.
    const free = await timedRequest(proxy, `${o.url}/bytes/${BODY}`);
    expect(free.totalMs).toBeLessThan(MIN_THROTTLED_MS / 2);
  });

  it('throttles an HTTP/2 stream inside an intercepted tunnel', async () => {
    const o = await origin({ http2: true });
    const proxy = await startProxy({ config: config([{ type: 'throttle', filter: '~d localhost', latencyMs: 200, bytesPerSecond: RATE }]) });
    const session = await openH2Tunnel(proxy.port, o.port, proxyCaPem, (raw) => open.destroy(raw));
    open.destroy(session);
    const t0 = performance.now();
    const stream = session.request({ ':method': 'GET', ':path': `/bytes/${BODY}` }, { endStream: true });
    const { status, body } = await readH2Response(stream, 15_000, 'the throttled HTTP/2 response');
    const totalMs = performance.now() - t0;
    expect(status).toBe(200);
    expect(body.length).toBe(BODY);
    expect(sha256(body)).toBe(originBytesSha256(BODY));
    expect(totalMs).toBeGreaterThanOrEqual(MIN_THROTTLED_MS + 200);
    expect(totalMs).toBeLessThan(12_000);
    const flow = await proxy.waitForFlow((f) => f.kind === 'http');
    expect(flow.request.httpVersion).toBe('2');
    expect(flow.tags).toContain('throttled');
  });

  it('caps the bandwidth of a map-local answer as well', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'proxyctl-rules-throttle-'));
    dirs.push(dir);
    const content = randomBytes(BODY);
    await writeFile(join(dir, 'big.bin'), content);
    const proxy = await startProxy({
      config: config([
        { type: 'throttle', filter: '~d ^files\\.example$', bytesPerSecond: RATE },
        { type: 'map-local', filter: '~d ^files\\.example$', path: dir },
      ]),
    });
    const res = await timedRequest(proxy, 'http://files.example/big.bin');
    expect(res.status).toBe(200);
    expect(sha256(res.body)).toBe(sha256(content));
    expect(res.totalMs).toBeGreaterThanOrEqual(MIN_THROTTLED_MS);
    expect(res.totalMs).toBeLessThan(12_000);
  });
});
