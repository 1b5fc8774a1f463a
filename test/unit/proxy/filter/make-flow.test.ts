// Tests for the shared flow factory (test/helpers/make-flow.ts), which filter tests lean on most.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { flowUrl, headerValue } from '../../../../src/proxy/core/flow.js';
import { body, gzipBody, makeFlow } from '../../../helpers/make-flow.js';

describe('makeFlow', () => {
  it('defaults to a finished GET http://example.com/ answered 200 text/plain "ok"', () => {
    const flow = makeFlow();
    expect(flow.kind).toBe('http');
    expect(flow.phase).toBe('done');
    expect(`${flow.request.method} ${flowUrl(flow.request)} HTTP/${flow.request.httpVersion}`).toBe(
      'GET http://example.com/ HTTP/1.1',
    );
    expect(flow.response?.status).toBe(200);
    expect(headerValue(flow.response!.headers, 'content-type')).toBe('text/plain');
    expect(flow.response?.body.bytes?.toString()).toBe('ok');
    expect(flow.error).toBeNull();
    expect(flow.timings.responseEnd).not.toBeNull();
  });

  it('gives each flow a new, increasing id', () => {
    const a = makeFlow();
    const b = makeFlow();
    expect(a.id < b.id).toBe(true);
  });

  it('merges nested overrides into the defaults', () => {
    const flow = makeFlow({ request: { path: '/x' }, response: { status: 404 }, timings: { firstByte: 99 } });
    expect(flow.request.method).toBe('GET');
    expect(flow.request.path).toBe('/x');
    expect(flow.response?.status).toBe(404);
    expect(flow.response?.statusText).toBe('Not Found');
    expect(flow.response?.body.bytes?.toString()).toBe('ok');
    expect(flow.timings.firstByte).toBe(99);
    expect(flow.timings.requestHeaders).toBe(1);
  });

  it('makes a waiting flow from response: null', () => {
    const flow = makeFlow({ response: null });
    expect(flow.response).toBeNull();
    expect(flow.phase).toBe('waiting');
    expect(flow.timings.firstByte).toBeNull();
  });

  it('keeps https flows consistent', () => {
    const flow = makeFlow({ request: { scheme: 'https', host: 'api.test', httpVersion: '2' } });
    expect(flowUrl(flow.request)).toBe('https://api.test/');
    expect(flow.client.sni).toBe('api.test');
    expect(flow.server).toMatchObject({ host: 'api.test', port: 443, alpn: 'h2' });
    expect(headerValue(flow.request.headers, 'host')).toBe('api.test');
  });

  it('derives phase error and kind websocket', () => {
    expect(makeFlow({ response: null, error: { code: 'UPSTREAM_DNS' } })).toMatchObject({
      phase: 'error',
      error: { code: 'UPSTREAM_DNS' },
    });
    expect(makeFlow({ websocket: {} }).kind).toBe('websocket');
  });
});

describe('body helpers', () => {
  it('body() captures text with size and hash', () => {
    const capture = body('hello');
    expect(capture).toMatchObject({ size: 5, truncated: false, state: 'complete' });
    expect(capture.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('body() keeps only the head beyond the limit', () => {
    const capture = body('abcdef', { limit: 4 });
    expect(capture).toMatchObject({ size: 6, truncated: true });
    expect(capture.bytes?.toString()).toBe('abcd');
  });

  it('gzipBody() holds gzip bytes of the text', () => {
    expect(gunzipSync(gzipBody('zipped').bytes!).toString()).toBe('zipped');
  });
});
