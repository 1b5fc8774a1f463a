/**
 * Breakpoints, edits and replay through the command API (issue 5), against the real proxy with
 * real clients: a paused exchange is held until a command settles it, edits reach the origin or
 * the client with consistent framing, bad edits leave the flow paused and unchanged, timeouts
 * apply their policy, one paused HTTP/2 stream holds up no other, and replays are new flows.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { headerValue, type Flow, type HeaderPairs } from '../../src/proxy/core/flow.js';
import { compileFilter } from '../../src/proxy/filter/index.js';
import { curlRequest, header } from '../helpers/curl.js';
import { startOrigin, type Origin, type OriginRequest } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { openRaw, type RawSocket } from '../helpers/raw-client.js';
import { fixtureCaPaths } from '../helpers/test-ca.js';
import { waitFor, withTimeout } from '../helpers/wait.js';
import { openH2Tunnel, readH2Response } from '../helpers/h2-tunnel.js';

const proxyCaPem = readFileSync(fixtureCaPaths.cert, 'utf8');

/** Long enough for a forwarded request to have reached the origin, were it forwarded. */
const SETTLE_MS = 150;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function originHeader(req: OriginRequest, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === lower) return req.rawHeaders[i + 1];
  return undefined;
}

interface Got {
  status: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface Sent {
  req: http.ClientRequest;
  done: Promise<Got>;
}

const clientRequests = new Set<http.ClientRequest>();

/** A request through the proxy in absolute-form with Node's http client (no pooling). */
function viaProxy(proxy: TestProxy, url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Sent {
  const req = http.request({ host: '127.0.0.1', port: proxy.port, method: opts.method ?? 'GET', path: url, headers: opts.headers ?? {}, agent: false });
  clientRequests.add(req);
  const done = withTimeout(
    new Promise<Got>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
    }),
    10_000,
    `a response to ${opts.method ?? 'GET'} ${url}`,
  );
  // Tests that abort the request await nothing; keep the rejection from going unhandled.
  done.catch(() => {});
  req.end(opts.body);
  return { req, done };
}

describe('breakpoints, edits and replay on the command API', () => {
  let origin: Origin;
  let proxy: TestProxy;
  const origins: Origin[] = [];
  const sockets: RawSocket[] = [];
  const h2Sessions = new Set<http2.ClientHttp2Session>();
  const rawSockets = new Set<net.Socket>();

  async function setup(opts: { origin?: Parameters<typeof startOrigin>[0]; proxy?: Parameters<typeof startProxy>[0] } = {}): Promise<void> {
    origin = await startOrigin(opts.origin);
    origins.push(origin);
    proxy = await startProxy(opts.proxy);
  }

  afterEach(async () => {
    for (const r of clientRequests) r.destroy();
    clientRequests.clear();
    for (const s of sockets.splice(0)) s.close();
    for (const s of h2Sessions) s.destroy();
    h2Sessions.clear();
    for (const s of rawSockets) s.destroy();
    rawSockets.clear();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
  });

  const paused = () => proxy.runtime.store.getSnapshot().paused;

  async function intercept(filter: string, on: Array<'request' | 'response'>): Promise<void> {
    expect(await proxy.runtime.execute({ type: 'set-intercept', filter, on })).toEqual({ ok: true });
  }

  /** The first flow in `phase` (a snapshot from the store). */
  function waitForPhase(phase: Flow['phase'], pred: (f: Flow) => boolean = () => true): Promise<Flow> {
    return waitFor(() => proxy.flows().find((f) => f.phase === phase && pred(f)), { message: `a flow in phase ${phase}` });
  }

  describe('request breakpoint', () => {
    it('holds the request until resumed; an edited header reaches the origin and the original is kept', async () => {
      await setup();
      await intercept('~u /echo', ['request']);
      const sent = viaProxy(proxy, `${origin.url}/echo`, { method: 'POST', headers: { 'X-Before': 'kept', 'Content-Type': 'text/plain' }, body: 'payload' });
      const flow = await waitForPhase('request-paused');
      expect(paused()).toBe(1);
      expect(flow.pause).toMatchObject({ stage: 'request', deadline: null, reason: 'intercept ~u /echo' });
      expect(flow.request.body.bytes?.toString()).toBe('payload');
      await sleep(SETTLE_MS);
      expect(origin.requests).toHaveLength(0);
      expect(proxy.runtime.store.get(flow.id)!.phase).toBe('request-paused');

      const headers: HeaderPairs = [...flow.request.headers, ['X-Edited', 'yes']];
      expect(await proxy.runtime.execute({ type: 'resume', flowId: flow.id, request: { headers } })).toEqual({ ok: true });
      const got = await sent.done;
      expect(got.status).toBe(200);
      expect(got.body.toString()).toBe('payload');
      expect(origin.requests).toHaveLength(1);
      expect(originHeader(origin.requests[0]!, 'X-Edited')).toBe('yes');
      expect(originHeader(origin.requests[0]!, 'X-Before')).toBe('kept');

      const done = await proxy.waitForFlow((f) => f.id === flow.id);
      expect(paused()).toBe(0);
      expect(done.tags).toContain('edited');
      expect(headerValue(done.request.headers, 'X-Edited')).toBe('yes');
      expect(done.original?.request).toBeDefined();
      expect(headerValue(done.original!.request!.headers, 'X-Edited')).toBeUndefined();
      expect(headerValue(done.original!.request!.headers, 'X-Before')).toBe('kept');
    });

    it('an edited body goes out whole with a corrected Content-Length', async () => {
      await setup();
      await intercept('~u /echo', ['request']);
      const sent = viaProxy(proxy, `${origin.url}/echo`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'short' });
      const flow = await waitForPhase('request-paused');
      const edited = Buffer.from('a considerably longer edited body');
      expect(await proxy.runtime.execute({ type: 'resume', flowId: flow.id, request: { body: edited } })).toEqual({ ok: true });
      const got = await sent.done;
      expect(got.body.toString()).toBe(edited.toString());
      const seen = origin.requests[0]!;
      expect(seen.body.toString()).toBe(edited.toString());
      expect(originHeader(seen, 'content-length')).toBe(String(edited.length));
      const done = await proxy.waitForFlow((f) => f.id === flow.id);
      expect(done.request.body.bytes?.toString()).toBe(edited.toString());
      expect(done.original!.request!.body.bytes?.toString()).toBe('short');
    });

    it('an edited body replaces a chunked upload with a length', async () => {
      await setup();
      await intercept('~u /echo', ['request']);
      // No Content-Length: Node sends the body chunked.
      const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'PUT', path: `${origin.url}/echo`, agent: false });
      clientRequests.add(req);
      const got = new Promise<{ status: number; body: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
      });
      req.write('part one, ');
      req.end('part two');
      const flow = await waitForPhase('request-paused');
      expect(await proxy.runtime.execute({ type: 'resume', flowId: flow.id, request: { body: Buffer.from('replaced') } })).toEqual({ ok: true });
      expect(await withTimeout(got, 5000, 'the echo')).toEqual({ status: 200, body: 'replaced' });
      expect(originHeader(origin.requests[0]!, 'content-length')).toBe('8');
      expect(originHeader(origin.requests[0]!, 'transfer-encoding')).toBeUndefined();
    });

    it('kill answers the client with a 502 page naming KILLED; the flow records KILLED', async () => {
      await setup();
      await intercept('~u /hello', ['request']);
      const sent = viaProxy(proxy, `${origin.url}/hello`);
      const flow = await waitForPhase('request-paused');
      expect(await proxy.runtime.execute({ type: 'kill', flowId: flow.id })).toEqual({ ok: true });
      const got = await sent.done;
      expect(got.status).toBe(502);
      expect(got.headers['x-proxyctl-error']).toBe('KILLED');
      expect(got.body.toString()).toContain('KILLED');
      expect(got.headers['content-length']).toBe(String(got.body.length));
      const done = await proxy.waitForFlow((f) => f.id === flow.id);
      expect(done.error?.code).toBe('KILLED');
      expect(done.phase).toBe('error');
      expect(origin.requests).toHaveLength(0);
      expect(paused()).toBe(0);
      // Killing again is refused: it is no longer paused.
      expect(await proxy.runtime.execute({ type: 'kill', flowId: flow.id })).toMatchObject({ ok: false });
    });

    it('respond answers with the made-up response and the origin never sees the request', async () => {
      await setup();
      await intercept('~u /hello', ['request']);
      const sent = viaProxy(proxy, `${origin.url}/hello`);
      const flow = await waitForPhase('request-paused');
      const res = await proxy.runtime.execute({ type: 'respond', flowId: flow.id, response: { status: 418, headers: [['Content-Type', 'text/plain'], ['X-Made-Up', '1']], body: 'made up' } });
      expect(res).toEqual({ ok: true });
      const got = await sent.done;
      expect(got.status).toBe(418);
      expect(got.headers['x-made-up']).toBe('1');
      expect(got.body.toString()).toBe('made up');
      expect(got.headers['content-length']).toBe('7');
      const done = await proxy.waitForFlow((f) => f.id === flow.id);
      expect(done.response?.status).toBe(418);
      expect(done.tags).toContain('responded-at-breakpoint');
      await sleep(SETTLE_MS);
      expect(origin.requests).toHaveLength(0);
    });

    it('a body bigger than the pause limit passes through unpaused, tagged, with a warning', async () => {
      await setup({ proxy: { net: { maxPausedBodyBytes: 1024 } } });
      await intercept('~u /echo', ['request']);
      const payload = randomBytes(10 * 1024);
      const got = await viaProxy(proxy, `${origin.url}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: payload }).done;
      expect(got.status).toBe(200);
      expect(got.body.equals(payload)).toBe(true);
      expect(origin.requests[0]!.body.equals(payload)).toBe(true);
      const flow = await proxy.waitForFlow(() => true);
      expect(flow.tags).toContain('pause-skipped:body-too-large');
      expect(flow.pause ?? null).toBeNull();
      expect(flow.request.body.size).toBe(payload.length);
      const warnings = proxy.runtime.store.getSnapshot().log.filter((l) => l.level === 'warn' && l.flowId === flow.id);
      expect(warnings.map((w) => w.message).join('\n')).toMatch(/over 1024 bytes.*passed through without pausing/);
      expect(paused()).toBe(0);
    });

    it('the client going away while paused ends the flow (CLIENT_ABORTED) and frees the pause', async () => {
      await setup();
      await intercept('~u /hello', ['request']);
      const sent = viaProxy(proxy, `${origin.url}/hello`);
      const flow = await waitForPhase('request-paused');
      expect(paused()).toBe(1);
      sent.req.destroy();
      const done = await proxy.waitForFlow((f) => f.id === flow.id);
      expect(done.error?.code).toBe('CLIENT_ABORTED');
      expect(paused()).toBe(0);
      expect(proxy.runtime.pauses.size).toBe(0);
      expect(await proxy.runtime.execute({ type: 'resume', flowId: flow.id })).toMatchObject({ ok: false });
      await sleep(SETTLE_MS);
      expect(origin.requests).toHaveLength(0);
    });
  });

  describe('response breakpoint', () => {
    it('an edited status and body reach the client (curl) with a matching Content-Length', async () => {
      await setup();
      await intercept('~u /hello', ['response']);
      const pending = curlRequest(`${origin.url}/hello`, { proxy: proxy.url });
      const flow = await waitForPhase('response-paused');
      expect(flow.pause).toMatchObject({ stage: 'response' });
      expect(flow.response?.status).toBe(200);
      expect(flow.response?.body.bytes?.toString()).toBe('hello');
      expect(paused()).toBe(1);
      const body = Buffer.from('{"edited":true,"by":"the breakpoint"}');
      const res = await proxy.runtime.execute({ type: 'resume', flowId: flow.id, response: { status: 201, headers: [['Content-Type', 'application/json'], ['Content-Length', '5']], body } });
      expect(res).toEqual({ ok: true });
      const got = await pending;
      expect(got.exitCode).toBe(0);
      expect(got.status).toBe(201);
      expect(got.body.toString()).toBe(body.toString());
      expect(header(got.headers, 'content-length')).toBe(String(body.length));
      expect(header(got.headers, 'content-type')).toBe('application/json');
      const done = await proxy.waitForFlow((f) => f.id === flow.id);
      expect(done.response?.status).toBe(201);
      expect(done.original?.response?.status).toBe(200);
      expect(done.original?.response?.body.bytes?.toString()).toBe('hello');
      expect(paused()).toBe(0);
    });

    it('an edited status goes out with its own reason phrase, not the original one', async () => {
      await setup();
      await intercept('~u /hello', ['response']);
      const raw = await openRaw(proxy.port);
      sockets.push(raw);
      await raw.write(`GET ${origin.url}/hello HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
      const flow = await waitForPhase('response-paused');
      expect(await proxy.runtime.execute({ type: 'resume', flowId: flow.id, response: { status: 404 } })).toEqual({ ok: true });
      const head = await raw.readHead();
      // The origin said "200 OK"; the client must not be told "404 OK".
      expect(head.split('\r\n')[0]).toBe('HTTP/1.1 404 Not Found');
    });
  });

  it('a bad edit is refused, the flow stays paused and unchanged, and a later valid resume works', async () => {
    await setup();
    await intercept('~u /hello', ['request', 'response']);
    const sent = viaProxy(proxy, `${origin.url}/hello`, { headers: { 'X-Orig': '1' } });
    const atRequest = await waitForPhase('request-paused');
    // Store snapshots are copies: later changes to the live flow cannot reach this one.
    const before = atRequest.request;

    const badUrl = await proxy.runtime.execute({ type: 'resume', flowId: atRequest.id, request: { url: 'not a url' } });
    expect(badUrl).toMatchObject({ ok: false });
    expect((badUrl as { error: string }).error).toMatch(/not an absolute http\(s\) URL/);
    const badMethod = await proxy.runtime.execute({ type: 'resume', flowId: atRequest.id, request: { method: 'G E T' } });
    expect(badMethod).toMatchObject({ ok: false });
    const still = proxy.runtime.store.get(atRequest.id)!;
    expect(still.phase).toBe('request-paused');
    expect(still.request).toEqual(before);
    expect(proxy.runtime.pauses.has(atRequest.id)).toBe(true);
    await sleep(SETTLE_MS);
    expect(origin.requests).toHaveLength(0);

    expect(await proxy.runtime.execute({ type: 'resume', flowId: atRequest.id, request: { headers: [...before.headers, ['X-Later', 'ok']] } })).toEqual({ ok: true });
    const atResponse = await waitForPhase('response-paused');
    expect(originHeader(origin.requests[0]!, 'X-Later')).toBe('ok');
    const responseBefore = atResponse.response;

    const badStatus = await proxy.runtime.execute({ type: 'resume', flowId: atResponse.id, response: { status: 99 } });
    expect(badStatus).toMatchObject({ ok: false });
    expect((badStatus as { error: string }).error).toMatch(/status must be between 200 and 599/);
    const stillResponse = proxy.runtime.store.get(atResponse.id)!;
    expect(stillResponse.phase).toBe('response-paused');
    expect(stillResponse.response).toEqual(responseBefore);

    expect(await proxy.runtime.execute({ type: 'resume', flowId: atResponse.id, response: { status: 202, body: Buffer.from('accepted') } })).toEqual({ ok: true });
    const got = await sent.done;
    expect(got.status).toBe(202);
    expect(got.body.toString()).toBe('accepted');
  });

  it('a made-up response with an impossible status is refused like a bad edit; the flow stays paused', async () => {
    await setup();
    await intercept('~u /hello', ['request']);
    const sent = viaProxy(proxy, `${origin.url}/hello`);
    const flow = await waitForPhase('request-paused');
    const bad = await proxy.runtime.execute({ type: 'respond', flowId: flow.id, response: { status: 99, headers: [], body: 'x' } });
    expect(bad).toMatchObject({ ok: false });
    expect(proxy.runtime.store.get(flow.id)!.phase).toBe('request-paused');
    expect(await proxy.runtime.execute({ type: 'respond', flowId: flow.id, response: { status: 200, headers: [], body: 'fine' } })).toEqual({ ok: true });
    expect((await sent.done).body.toString()).toBe('fine');
  });

  it('resume-all releases every paused flow', async () => {
    await setup();
    await intercept('~u /hello', ['request']);
    const sent = [viaProxy(proxy, `${origin.url}/hello?1`), viaProxy(proxy, `${origin.url}/hello?2`), viaProxy(proxy, `${origin.url}/hello?3`)];
    await waitFor(() => paused() === 3, { message: 'three paused flows' });
    expect(origin.requests).toHaveLength(0);
    expect(await proxy.runtime.execute({ type: 'resume-all' })).toEqual({ ok: true, message: 'resumed 3 flows' });
    const got = await Promise.all(sent.map((s) => s.done));
    expect(got.map((g) => `${g.status} ${g.body.toString()}`)).toEqual(['200 hello', '200 hello', '200 hello']);
    expect(origin.requests.map((r) => r.url).sort()).toEqual(['/hello?1', '/hello?2', '/hello?3']);
    expect(paused()).toBe(0);
  });

  describe('breakpoint timeouts', () => {
    it("onTimeout 'continue' lets the flow go on by itself", async () => {
      await setup();
      proxy.runtime.setRuleBreakpoints([{ label: 'rules[0] ~u /x', matches: compileFilter('~u /x'), on: new Set(['request']), timeoutMs: 300, onTimeout: 'continue' }]);
      const started = Date.now();
      const sent = viaProxy(proxy, `${origin.url}/x`);
      const flow = await waitForPhase('request-paused');
      expect(flow.pause).toMatchObject({ stage: 'request', onTimeout: 'continue', reason: 'rules[0] ~u /x' });
      expect(flow.pause!.deadline! - flow.pause!.since).toBe(300);
      const got = await sent.done;
      // The origin has no /x route: its 404 proves the request reached it.
      expect(got.status).toBe(404);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(origin.requests.map((r) => r.url)).toEqual(['/x']);
      const done = await proxy.waitForFlow((f) => f.id === flow.id);
      expect(done.error).toBeNull();
      expect(paused()).toBe(0);
    });

    it("onTimeout 'abort' kills it", async () => {
      await setup();
      proxy.runtime.setRuleBreakpoints([{ label: 'rules[0] ~u /x', matches: compileFilter('~u /x'), on: new Set(['request']), timeoutMs: 300, onTimeout: 'abort' }]);
      const sent = viaProxy(proxy, `${origin.url}/x`);
      const flow = await waitForPhase('request-paused');
      expect(flow.pause).toMatchObject({ onTimeout: 'abort' });
      const got = await sent.done;
      expect(got.status).toBe(502);
      expect(got.body.toString()).toContain('KILLED');
      const done = await proxy.waitForFlow((f) => f.id === flow.id);
      expect(done.error?.code).toBe('KILLED');
      expect(done.error?.message).toMatch(/timeout \(300 ms\)/);
      expect(origin.requests).toHaveLength(0);
      expect(paused()).toBe(0);
    });
  });

  describe('HTTP/2: a breakpoint pauses one stream, not the connection', () => {
    /** CONNECT → TLS (ALPN h2, trusting the proxy CA) → an HTTP/2 session, all through the proxy. */
    async function h2ThroughProxy(originPort: number): Promise<http2.ClientHttp2Session> {
      const session = await openH2Tunnel(proxy.port, originPort, proxyCaPem, (raw) => rawSockets.add(raw));
      h2Sessions.add(session);
      return session;
    }

    function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string): Promise<{ status: number; body: string }> {
      const stream = session.request(headers, { endStream: body === undefined });
      if (body !== undefined) stream.end(body);
      return readH2Response(stream, 10_000, `an HTTP/2 response for ${String(headers[':path'])}`).then((r) => ({ status: r.status, body: r.body.toString('utf8') }));
    }

    it('the other stream of the same connection completes while the first is paused', async () => {
      await setup({ origin: { http2: true } });
      await intercept('~u /echo', ['request']);
      const session = await h2ThroughProxy(origin.port);
      const held = h2Request(session, { ':method': 'POST', ':path': '/echo', 'content-type': 'text/plain' }, 'held body');
      const flow = await waitForPhase('request-paused');
      expect(flow.request.httpVersion).toBe('2');

      const other = await h2Request(session, { ':path': '/hello' });
      expect(other).toEqual({ status: 200, body: 'hello' });
      expect(proxy.runtime.store.get(flow.id)!.phase).toBe('request-paused');
      expect(paused()).toBe(1);
      expect(origin.requests.map((r) => r.url)).toEqual(['/hello']);

      expect(await proxy.runtime.execute({ type: 'resume', flowId: flow.id, request: { body: Buffer.from('edited h2 body') } })).toEqual({ ok: true });
      expect(await held).toEqual({ status: 200, body: 'edited h2 body' });
      expect(origin.requests.map((r) => r.url)).toEqual(['/hello', '/echo']);
      expect(paused()).toBe(0);
      // One client connection carried both.
      const flows = proxy.flows().filter((f) => f.kind === 'http');
      expect(new Set(flows.map((f) => f.client.port)).size).toBe(1);
    });
  });

  describe('replay', () => {
    it('replays a plain HTTP flow as a new flow tagged replay-of:<id> that reaches the origin again', async () => {
      await setup();
      const first = await viaProxy(proxy, `${origin.url}/hello`, { headers: { 'X-Trace': 'one' } }).done;
      expect(first.status).toBe(200);
      const original = await proxy.waitForFlow(() => true);
      const res = await proxy.runtime.execute({ type: 'replay', flowId: original.id });
      expect(res).toMatchObject({ ok: true });
      const replay = await proxy.waitForFlow((f) => f.tags.includes(`replay-of:${original.id}`));
      expect(replay.id).not.toBe(original.id);
      expect(replay.response?.status).toBe(200);
      expect(replay.response?.body.bytes?.toString()).toBe('hello');
      expect(origin.requests).toHaveLength(2);
      expect(originHeader(origin.requests[1]!, 'X-Trace')).toBe('one');
      // The marker header is ours: it never reaches the origin.
      expect(originHeader(origin.requests[1]!, 'x-proxyctl-replay-of')).toBeUndefined();
      expect(headerValue(replay.request.headers, 'x-proxyctl-replay-of')).toBeUndefined();
    });

    it('replays an HTTPS flow (CONNECT + TLS through our own listener)', async () => {
      await setup({ origin: { tls: 'valid' } });
      const got = await curlRequest(`${origin.url}/hello`, { proxy: proxy.url, cacert: fixtureCaPaths.cert });
      expect(got.status).toBe(200);
      const original = await proxy.waitForFlow((f) => f.kind === 'http');
      expect(original.request.scheme).toBe('https');
      expect(await proxy.runtime.execute({ type: 'replay', flowId: original.id })).toMatchObject({ ok: true });
      // Either the replay flow finishes or the replay client logs why it could not be sent.
      const failures = () => proxy.runtime.store.getSnapshot().log.filter((l) => l.level === 'error' && l.flowId === original.id);
      await waitFor(() => failures().length > 0 || proxy.flows().some((f) => f.tags.includes(`replay-of:${original.id}`) && (f.phase === 'done' || f.phase === 'error')), {
        message: 'the HTTPS replay to finish or fail',
      });
      expect(failures().map((l) => l.message)).toEqual([]);
      const replay = await proxy.waitForFlow((f) => f.tags.includes(`replay-of:${original.id}`));
      expect(replay.request.scheme).toBe('https');
      expect(replay.response?.status).toBe(200);
      expect(replay.response?.body.bytes?.toString()).toBe('hello');
      expect(origin.requests).toHaveLength(2);
    });

    it('a replay with a request edit sends the edited copy; the recorded flow is untouched', async () => {
      await setup();
      await viaProxy(proxy, `${origin.url}/echo`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'first' }).done;
      const original = await proxy.waitForFlow(() => true);
      const edit = { url: `${origin.url}/echo?edited=1`, headers: [...original.request.headers, ['X-Replay-Edit', 'yes']] as HeaderPairs, body: Buffer.from('second, longer body') };
      expect(await proxy.runtime.execute({ type: 'replay', flowId: original.id, request: edit })).toMatchObject({ ok: true });
      const replay = await proxy.waitForFlow((f) => f.tags.includes(`replay-of:${original.id}`));
      expect(replay.response?.body.bytes?.toString()).toBe('second, longer body');
      const seen = origin.requests[1]!;
      expect(seen.url).toBe('/echo?edited=1');
      expect(seen.body.toString()).toBe('second, longer body');
      expect(originHeader(seen, 'content-length')).toBe('19');
      expect(originHeader(seen, 'X-Replay-Edit')).toBe('yes');
      expect(proxy.runtime.store.get(original.id)!.request.body.bytes?.toString()).toBe('first');
    });

    it('a replay whose edited URL names another origin sends that origin its own Host', async () => {
      await setup();
      const second = await startOrigin();
      origins.push(second);
      await viaProxy(proxy, `${origin.url}/hello`).done;
      const original = await proxy.waitForFlow(() => true);
      expect(await proxy.runtime.execute({ type: 'replay', flowId: original.id, request: { url: `${second.url}/hello` } })).toMatchObject({ ok: true });
      await proxy.waitForFlow((f) => f.tags.includes(`replay-of:${original.id}`));
      expect(second.requests).toHaveLength(1);
      // A Host naming the first origin would send virtual-hosted servers to the wrong site.
      expect(originHeader(second.requests[0]!, 'host')).toBe(`127.0.0.1:${second.port}`);
    });

    it('refuses to replay an unknown flow', async () => {
      await setup();
      expect(await proxy.runtime.execute({ type: 'replay', flowId: 'nope' })).toMatchObject({ ok: false });
    });
  });
});
