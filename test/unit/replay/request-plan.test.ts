import { describe, expect, it } from 'vitest';
import type { Flow } from '../../../src/proxy/core/flow.js';
import { parseReplayTarget, planReplay, skipReason, type PlannedRequest } from '../../../src/replay/request-plan.js';
import { body, makeFlow } from '../../helpers/make-flow.js';

describe('parseReplayTarget', () => {
  it.each<[string, ReturnType<typeof parseReplayTarget>]>([
    ['http://127.0.0.1:3000', { scheme: 'http', host: '127.0.0.1', port: 3000 }],
    ['https://staging.example', { scheme: 'https', host: 'staging.example', port: 443 }],
    ['http://[::1]:8080/', { scheme: 'http', host: '::1', port: 8080 }],
    ['HTTP://Example.COM', { scheme: 'http', host: 'example.com', port: 80 }],
  ])('%s', (value, want) => {
    expect(parseReplayTarget(value)).toEqual(want);
  });

  it.each<[string, RegExp]>([
    ['127.0.0.1:3000', /must be an http\(s\) URL/],
    ['ftp://a', /must be an http\(s\) URL/],
    ['http://a:0', /must be an http\(s\) URL/],
    ['http://a/base', /only scheme:\/\/host\[:port\]/],
    ['http://a/?x=1', /only scheme:\/\/host\[:port\]/],
  ])('refuses %s', (value, message) => {
    const got = parseReplayTarget(value);
    expect(typeof got).toBe('string');
    expect(got).toMatch(message);
  });
});

describe('skipReason', () => {
  it.each<[string, Flow, RegExp | null]>([
    ['a plain GET', makeFlow(), null],
    ['a websocket', makeFlow({ websocket: {} }), /websocket flow/],
    ['a tunnel', makeFlow({ kind: 'tunnel' }), /tunnel flow/],
    ['CONNECT', makeFlow({ request: { method: 'CONNECT' } }), /CONNECT/],
    ['an error', makeFlow({ error: { code: 'UPSTREAM_REFUSED' } }), /ended in error \(UPSTREAM_REFUSED\)/],
    ['no response', makeFlow({ response: null }), /no response/],
    ['101', makeFlow({ response: { status: 101 } }), /upgrade/],
    ['mocked', makeFlow({ tags: ['mocked'] }), /proxyctl itself \(mocked\)/],
    ['responded at a breakpoint', makeFlow({ tags: ['responded-at-breakpoint'] }), /proxyctl itself/],
    ['edited is still replayable', makeFlow({ tags: ['edited'] }), null],
    ['truncated request body', makeFlow({ request: { method: 'POST', body: body('0123456789', { limit: 4 }) } }), /only in part \(4 of 10 bytes\)/],
    ['aborted request body', makeFlow({ request: { method: 'POST', body: body('0123', { state: 'aborted' }) } }), /cut short/],
    ['body not recorded', makeFlow({ request: { method: 'POST', body: { size: 5, bytes: null, state: 'none' } } }), /not recorded/],
  ])('%s', (_name, flow, reason) => {
    const got = skipReason(flow);
    if (reason === null) expect(got).toBeNull();
    else expect(got).toMatch(reason);
  });
});

function planned(flow: Flow, target: Parameters<typeof planReplay>[1] = null): PlannedRequest {
  const plan = planReplay(flow, target);
  if (!plan.ok) throw new Error(plan.reason);
  return plan.request;
}

describe('planReplay', () => {
  it('keeps method, path, query, header order and case; drops hop-by-hop fields', () => {
    const flow = makeFlow({
      request: {
        path: '/api/a?x=1',
        headers: [
          ['Host', 'example.com'],
          ['X-B', '2'],
          ['Connection', 'keep-alive, X-Hop'],
          ['X-Hop', 'gone'],
          ['Proxy-Authorization', 'Basic eA=='],
          ['x-a', '1'],
        ],
      },
    });
    expect(planned(flow)).toEqual({
      method: 'GET',
      scheme: 'http',
      host: 'example.com',
      port: 80,
      path: '/api/a?x=1',
      url: 'http://example.com/api/a?x=1',
      headers: [['Host', 'example.com'], ['X-B', '2'], ['x-a', '1']],
      body: Buffer.alloc(0),
    });
  });

  it('--target replaces scheme, host and port (and the Host header, in place), keeps path and query', () => {
    const flow = makeFlow({ request: { scheme: 'https', host: 'api.example', path: '/v1/x?y', headers: [['Accept', '*/*'], ['Host', 'api.example']] } });
    const req = planned(flow, { scheme: 'http', host: '127.0.0.1', port: 4000 });
    expect(req).toMatchObject({ scheme: 'http', host: '127.0.0.1', port: 4000, path: '/v1/x?y', url: 'http://127.0.0.1:4000/v1/x?y' });
    expect(req.headers).toEqual([['Accept', '*/*'], ['Host', '127.0.0.1:4000']]);
  });

  it('a body goes out whole with its length, whatever the recorded framing (chunked, 100-continue)', () => {
    const flow = makeFlow({
      request: {
        method: 'POST',
        headers: [['Host', 'example.com'], ['Transfer-Encoding', 'chunked'], ['Expect', '100-continue'], ['Content-Type', 'text/plain']],
        body: body('hello'),
      },
    });
    expect(planned(flow).headers).toEqual([['Host', 'example.com'], ['Content-Type', 'text/plain'], ['Content-Length', '5']]);
    expect(planned(flow).body.toString()).toBe('hello');
  });

  it('a stale Content-Length is corrected; an empty framed body keeps Content-Length: 0', () => {
    const wrong = makeFlow({ request: { method: 'PUT', headers: [['Content-Length', '99']], body: body('abc') } });
    expect(planned(wrong).headers).toEqual([['Host', 'example.com'], ['Content-Length', '3']]);
    const empty = makeFlow({ request: { method: 'POST', headers: [['Host', 'example.com'], ['Content-Length', '0']] } });
    expect(planned(empty).headers).toEqual([['Host', 'example.com'], ['Content-Length', '0']]);
  });

  it('an HTTP/2 recording becomes HTTP/1.1: Host first from the authority, cookie crumbs joined', () => {
    const flow = makeFlow({
      request: { httpVersion: '2', scheme: 'https', host: 'h2.example', port: 8443, headers: [['accept', '*/*'], ['cookie', 'a=1'], ['cookie', 'b=2']] },
    });
    expect(planned(flow).headers).toEqual([['host', 'h2.example:8443'], ['accept', '*/*'], ['cookie', 'a=1; b=2']]);
  });

  it('a recording without Host (HTTP/1.0) gets one, first', () => {
    const flow = makeFlow({ request: { httpVersion: '1.0', headers: [['Accept', '*/*']] } });
    expect(planned(flow).headers).toEqual([['Host', 'example.com'], ['Accept', '*/*']]);
  });

  it('refuses what cannot be replayed, with the reason', () => {
    expect(planReplay(makeFlow({ response: null }), null)).toEqual({ ok: false, reason: 'no response was recorded' });
  });
});
