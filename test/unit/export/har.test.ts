import { describe, expect, it } from 'vitest';
import { flowsToHar, flowToHarEntry, harHead, harTail, harTimings, harToFlows } from '../../../src/export/har.js';
import { harSchema } from '../../../src/export/har-schema.js';
import type { Flow, FlowTimings } from '../../../src/proxy/core/flow.js';
import { body, DEFAULT_START, gzipBody, makeFlow } from '../../helpers/make-flow.js';

function entry(flow: Flow) {
  const e = flowToHarEntry(flow);
  expect(e).not.toBeNull();
  return e!;
}

describe('HAR export', () => {
  it('writes a HAR 1.2 log with proxyctl as creator', () => {
    const har = flowsToHar([makeFlow()], { comment: 'session x' });
    expect(har.log).toMatchObject({ version: '1.2', creator: { name: 'proxyctl' }, comment: 'session x' });
    expect(har.log.entries).toHaveLength(1);
    expect(harSchema.safeParse(JSON.parse(JSON.stringify(har))).success).toBe(true);
  });

  it('describes an HTTP/1.1 exchange: request, query, cookies, response, redirect, server address', () => {
    const e = entry(
      makeFlow({
        request: { path: '/search?q=a+b&x=%2F&flag', headers: [['Host', 'example.com'], ['Cookie', 'sid=abc; theme=dark']] },
        response: {
          status: 302,
          headers: [['Location', '/next'], ['Set-Cookie', 'sid=new; Path=/; HttpOnly; Secure; SameSite=Lax; Expires=Wed, 21 Oct 2026 07:28:00 GMT'], ['Content-Type', 'text/plain']],
          body: body('moved'),
        },
      }),
    );
    expect(e.startedDateTime).toBe(new Date(DEFAULT_START).toISOString());
    expect(e.request).toMatchObject({ method: 'GET', url: 'http://example.com/search?q=a+b&x=%2F&flag', httpVersion: 'HTTP/1.1', headersSize: -1, bodySize: 0 });
    expect(e.request.queryString).toEqual([
      { name: 'q', value: 'a b' },
      { name: 'x', value: '/' },
      { name: 'flag', value: '' },
    ]);
    expect(e.request.cookies).toEqual([
      { name: 'sid', value: 'abc' },
      { name: 'theme', value: 'dark' },
    ]);
    expect(e.request.postData).toBeUndefined();
    expect(e.response).toMatchObject({ status: 302, statusText: 'Found', httpVersion: 'HTTP/1.1', redirectURL: 'http://example.com/next', headersSize: -1, bodySize: 5 });
    expect(e.response.cookies).toEqual([{ name: 'sid', value: 'new', path: '/', httpOnly: true, secure: true, sameSite: 'Lax', expires: '2026-10-21T07:28:00.000Z' }]);
    expect(e.response.content).toEqual({ size: 5, mimeType: 'text/plain', text: 'moved' });
    expect(e.serverIPAddress).toBe('192.0.2.10');
    expect(e.cache).toEqual({});
  });

  it('labels HTTP/2 and drops response pseudo-headers', () => {
    const e = entry(
      makeFlow({
        request: { scheme: 'https', httpVersion: '2', headers: [[':authority', 'example.com'], ['accept', '*/*']] },
        response: { headers: [[':status', '200'], ['content-type', 'text/plain']], body: body('h2') },
      }),
    );
    expect(e.request.httpVersion).toBe('HTTP/2');
    expect(e.request.url).toBe('https://example.com/');
    expect(e.response.httpVersion).toBe('HTTP/2');
    expect(e.response.headers).toEqual([{ name: 'content-type', value: 'text/plain' }]);
  });

  it('gives a binary response body in base64 and a text request body as postData', () => {
    const bin = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const e = entry(
      makeFlow({
        request: { method: 'POST', path: '/upload', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: body('a=1&b=two+words') },
        response: { headers: [['Content-Type', 'image/png']], body: body(bin) },
      }),
    );
    expect(e.request.postData).toEqual({ mimeType: 'application/x-www-form-urlencoded', text: 'a=1&b=two+words', params: [{ name: 'a', value: '1' }, { name: 'b', value: 'two words' }] });
    expect(e.request.bodySize).toBe(15);
    expect(e.response.content).toEqual({ size: 6, mimeType: 'image/png', text: bin.toString('base64'), encoding: 'base64' });
  });

  it('marks a binary request body, which HAR cannot say, with _encoding', () => {
    const e = entry(makeFlow({ request: { method: 'PUT', headers: [['Content-Type', 'application/octet-stream']], body: body(Buffer.from([0xff, 0xfe])) } }));
    expect(e.request.postData).toEqual({ mimeType: 'application/octet-stream', text: '//4=', _encoding: 'base64' });
  });

  it('gives the decoded text of a gzip response: content.size decoded, bodySize on the wire', () => {
    const gz = gzipBody('{"hello":"world"}');
    const e = entry(makeFlow({ response: { headers: [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], body: gz } }));
    expect(e.response.content).toEqual({ size: 17, mimeType: 'application/json', text: '{"hello":"world"}', compression: 17 - gz.size });
    expect(e.response.bodySize).toBe(gz.size);
    expect(e.response.headers).toContainEqual({ name: 'Content-Encoding', value: 'gzip' });
  });

  it('notes a truncated capture', () => {
    const e = entry(makeFlow({ response: { body: body('0123456789', { limit: 4 }) } }));
    expect(e.response.content).toMatchObject({ size: 4, text: '0123', comment: 'truncated: 4 of 10 bytes captured' });
    expect(e.response.bodySize).toBe(10);
  });

  it("writes WebSocket messages as Chrome's _webSocketMessages (send/receive, seconds, opcode)", () => {
    const e = entry(
      makeFlow({
        request: { headers: [['Upgrade', 'websocket'], ['Connection', 'Upgrade']] },
        response: { status: 101, statusText: 'Switching Protocols', headers: [['Upgrade', 'websocket']], body: body('') },
        websocket: {
          messages: [
            { direction: 'client', type: 'text', size: 5, payload: Buffer.from('hello'), truncated: false, time: 1_700_000_000_500 },
            { direction: 'server', type: 'binary', size: 2, payload: Buffer.from([1, 2]), truncated: false, time: 1_700_000_001_000 },
            { direction: 'server', type: 'ping', size: 0, payload: Buffer.alloc(0), truncated: false, time: 1_700_000_001_100 },
          ],
        },
      }),
    );
    expect(e['_resourceType']).toBe('websocket');
    expect(e._webSocketMessages).toEqual([
      { type: 'send', time: 1_700_000_000.5, opcode: 1, data: 'hello' },
      { type: 'receive', time: 1_700_000_001, opcode: 2, data: 'AQI=' },
    ]);
    expect(e.response.status).toBe(101);
  });

  it('gives an errored flow status 0 and _error, and leaves tunnels out', () => {
    const e = entry(makeFlow({ response: null, error: { code: 'UPSTREAM_REFUSED', message: 'connect ECONNREFUSED' } }));
    expect(e.response.status).toBe(0);
    expect(e['_error']).toBe('UPSTREAM_REFUSED: connect ECONNREFUSED');
    expect(flowToHarEntry(makeFlow({ kind: 'tunnel', request: { method: 'CONNECT', path: 'example.com:443' } }))).toBeNull();
  });

  it.each<[string, Partial<FlowTimings>, Record<string, number>]>([
    ['plain HTTP, new connection', { requestHeaders: 1, requestEnd: 2, upstreamConnect: 5, upstreamTls: null, upstreamSent: 6, firstByte: 30, responseEnd: 35 }, { blocked: 1, dns: -1, connect: 4, ssl: -1, send: 0, wait: 24, receive: 5 }],
    ['HTTPS, connect includes ssl', { requestHeaders: 1, requestEnd: 2, upstreamConnect: 5, upstreamTls: 12, upstreamSent: 13, firstByte: 30, responseEnd: 35 }, { blocked: 1, dns: -1, connect: 11, ssl: 7, send: 0, wait: 17, receive: 5 }],
    ['reused connection', { requestHeaders: 1, requestEnd: 1.5, upstreamConnect: null, upstreamTls: null, upstreamSent: 2, firstByte: 10, responseEnd: 12 }, { blocked: 1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 8, receive: 2 }],
    ['streamed upload: send lasts until the request ends', { requestHeaders: 1, requestEnd: 50, upstreamConnect: 3, upstreamTls: null, upstreamSent: 4, firstByte: 60, responseEnd: 61 }, { blocked: 1, connect: 2, send: 46, wait: 10, receive: 1 }],
    ['handed to a connection still connecting (as the net layer marks it)', { requestHeaders: 0, requestEnd: 9.7, upstreamConnect: 11.7, upstreamTls: null, upstreamSent: 0.9, firstByte: 14.1, responseEnd: 22.5 }, { blocked: 0.9, connect: 10.8, ssl: -1, send: 0, wait: 2.4, receive: 8.4 }],
    ['HTTPS handed early', { requestHeaders: 0, requestEnd: 0.5, upstreamConnect: 3, upstreamTls: 9, upstreamSent: 1, firstByte: 12, responseEnd: 13 }, { blocked: 1, connect: 8, ssl: 6, send: 0, wait: 3, receive: 1 }],
    ['answered locally (no upstream)', { requestHeaders: 1, requestEnd: 1, upstreamConnect: null, upstreamTls: null, upstreamSent: null, firstByte: 3, responseEnd: 3 }, { blocked: 0, connect: -1, send: 0, wait: 2, receive: 0 }],
  ])('derives HAR timings: %s', (_what, marks, expected) => {
    const t = harTimings({ start: DEFAULT_START, requestHeaders: null, requestEnd: null, upstreamConnect: null, upstreamTls: null, upstreamSent: null, firstByte: null, responseEnd: null, ...marks });
    for (const [k, v] of Object.entries(expected)) expect(t[k as keyof typeof t], k).toBeCloseTo(v);
    const e = entry(makeFlow({ timings: marks }));
    // The phases add up to the whole exchange, from the request headers to the response end.
    expect(e.time).toBeCloseTo((marks.responseEnd ?? 0) - (marks.requestHeaders ?? 0));
    const sum = [t.blocked!, t.dns!, t.connect!, t.send, t.wait, t.receive].filter((n) => n >= 0).reduce((a, b) => a + b, 0);
    expect(e.time).toBeCloseTo(sum);
  });

  it('streams to the same document: harHead + entries + harTail', () => {
    const flows = [makeFlow(), makeFlow({ request: { path: '/2' } })];
    const text = harHead({ comment: 'c' }) + flows.map((f) => JSON.stringify(flowToHarEntry(f))).join(',\n') + harTail();
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(flowsToHar(flows, { comment: 'c' }))));
    expect(JSON.parse(harHead() + harTail())).toMatchObject({ log: { entries: [] } });
  });
});

describe('HAR import', () => {
  const roundTrip = (flows: Flow[]) => harToFlows(JSON.parse(JSON.stringify(flowsToHar(flows))));

  it('gives our own flows back (h1, h2, binary, websocket, error)', () => {
    const flows = [
      makeFlow({ request: { method: 'POST', path: '/a?b=1', headers: [['Content-Type', 'application/json']], body: body('{"x":1}') }, tags: ['marked-by-test'], marked: true }),
      makeFlow({ request: { scheme: 'https', httpVersion: '2', headers: [[':authority', 'example.com']] }, response: { body: body(Buffer.from([0, 255, 1])) } }),
      makeFlow({ request: { method: 'PUT', body: body(Buffer.from([0xfe, 0xff])) } }),
      makeFlow({
        response: { status: 101, statusText: 'Switching Protocols', headers: [['Upgrade', 'websocket']], body: body('') },
        websocket: { messages: [{ direction: 'server', type: 'text', size: 2, payload: Buffer.from('hi'), truncated: false, time: 1_700_000_000_000 }], closeCode: 1000, closedBy: 'server' },
      }),
      makeFlow({ response: null, error: { code: 'UPSTREAM_TIMEOUT', message: 'no answer' } }),
    ];
    const back = roundTrip(flows);
    // Bodies that were empty-but-complete come back as "no body": HAR cannot tell them apart.
    const norm = (f: Flow): Flow => (f.response && f.response.body.size === 0 ? { ...f, response: { ...f.response, body: { ...f.response.body, bytes: Buffer.alloc(0), state: 'complete' } } } : f);
    expect(back.map(norm)).toEqual(flows.map(norm));
  });

  it('reads a foreign HAR (no _proxyctl): URL, headers, bodies, timings, and drops the coding of decoded text', () => {
    const har = {
      log: {
        version: '1.2',
        creator: { name: 'WebInspector', version: '537.36' },
        entries: [
          {
            startedDateTime: '2026-01-01T10:00:00.000Z',
            time: 50,
            request: { method: 'GET', url: 'https://api.example:8443/items?page=2', httpVersion: 'http/2.0', headers: [{ name: 'accept', value: 'application/json' }], queryString: [], cookies: [], headersSize: -1, bodySize: 0 },
            response: {
              status: 200,
              statusText: '',
              httpVersion: 'http/2.0',
              headers: [{ name: 'content-type', value: 'application/json' }, { name: 'content-encoding', value: 'br' }, { name: 'content-length', value: '9' }],
              cookies: [],
              content: { size: 11, mimeType: 'application/json', text: '{"items":1}' },
              redirectURL: '',
              headersSize: -1,
              bodySize: 9,
            },
            cache: {},
            timings: { blocked: 2, dns: 3, connect: 10, ssl: 5, send: 1, wait: 30, receive: 4 },
            serverIPAddress: '192.0.2.1',
          },
        ],
      },
    };
    const [f] = harToFlows(har);
    expect(f!.request).toMatchObject({ method: 'GET', scheme: 'https', host: 'api.example', port: 8443, path: '/items?page=2', httpVersion: '2' });
    expect(f!.response!.headers).toEqual([
      ['content-type', 'application/json'],
      ['content-length', '11'],
    ]);
    expect(f!.response!.body.bytes!.toString()).toBe('{"items":1}');
    expect(f!.server.address).toBe('192.0.2.1');
    expect(f!.timings).toEqual({ start: Date.parse('2026-01-01T10:00:00.000Z'), requestHeaders: 0, upstreamConnect: 10, upstreamTls: 15, upstreamSent: 15, requestEnd: 16, firstByte: 46, responseEnd: 50 });
    expect(f!.tags).toEqual(['imported']);
    expect(f!.phase).toBe('done');
  });

  it('refuses a document that is not HAR, naming the field', () => {
    expect(() => harToFlows({ log: { entries: [{ request: {} }] } })).toThrow(/not a HAR 1\.2 document: log\.entries\[0\]\.startedDateTime/);
    expect(() => harToFlows({ log: { entries: [{ startedDateTime: 'x', request: { method: 'GET', url: 'nope' }, response: { status: 200 } }] } })).toThrow(/log\.entries\[0\]\.request\.url: not an absolute URL/);
  });
});

describe('HAR without bodies', () => {
  it('imports content without text as a body that passed but was not recorded, and exports it back so', () => {
    const [f] = harToFlows({
      log: {
        entries: [
          {
            startedDateTime: '2026-01-01T00:00:00.000Z',
            request: { method: 'POST', url: 'http://example.com/a', bodySize: 3 },
            response: { status: 200, content: { size: 5, mimeType: 'text/plain' } },
          },
        ],
      },
    });
    expect(f!.response!.body).toEqual({ size: 5, bytes: null, truncated: false, sha256: null, state: 'complete' });
    expect(f!.request.body).toMatchObject({ size: 3, bytes: null });
    expect(flowToHarEntry(f!)!.response.content).toEqual({ size: 5, mimeType: 'x-unknown', comment: 'body not recorded' });
  });
});
