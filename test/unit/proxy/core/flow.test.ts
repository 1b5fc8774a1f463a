import { describe, expect, it } from 'vitest';
import { emptyBody, flowDurationMs, flowUrl, headerValue, type FlowRequest, type FlowTimings, type HeaderPairs } from '../../../../src/proxy/core/flow.js';

type UrlParts = Pick<FlowRequest, 'scheme' | 'host' | 'port' | 'path'>;

describe('flowUrl', () => {
  it.each<[UrlParts, string]>([
    [{ scheme: 'http', host: 'example.com', port: 80, path: '/' }, 'http://example.com/'],
    [{ scheme: 'https', host: 'example.com', port: 443, path: '/a?b=c' }, 'https://example.com/a?b=c'],
    // a port is shown only when it is not the scheme's default
    [{ scheme: 'http', host: 'example.com', port: 443, path: '/' }, 'http://example.com:443/'],
    [{ scheme: 'https', host: 'example.com', port: 80, path: '/' }, 'https://example.com:80/'],
    [{ scheme: 'https', host: 'example.com', port: 8443, path: '/x' }, 'https://example.com:8443/x'],
    // IPv6 hosts are stored without brackets and printed with them
    [{ scheme: 'http', host: '::1', port: 80, path: '/' }, 'http://[::1]/'],
    [{ scheme: 'https', host: '2001:db8::1', port: 8443, path: '/p' }, 'https://[2001:db8::1]:8443/p'],
    [{ scheme: 'http', host: '127.0.0.1', port: 8080, path: '/q?x' }, 'http://127.0.0.1:8080/q?x'],
    // OPTIONS * has no path; a path without its slash gets one
    [{ scheme: 'http', host: 'example.com', port: 80, path: '*' }, 'http://example.com'],
    [{ scheme: 'http', host: 'example.com', port: 80, path: 'relative' }, 'http://example.com/relative'],
    [{ scheme: 'http', host: 'example.com', port: 80, path: '' }, 'http://example.com/'],
  ])('%j → %s', (req, expected) => {
    expect(flowUrl(req)).toBe(expected);
  });
});

describe('headerValue', () => {
  const headers: HeaderPairs = [
    ['Content-Type', 'text/html'],
    ['Set-Cookie', 'a=1'],
    ['set-cookie', 'b=2'],
    ['X-Empty', ''],
  ];

  it.each<[string, string | undefined]>([
    ['content-type', 'text/html'],
    ['CONTENT-TYPE', 'text/html'],
    ['Set-Cookie', 'a=1'],
    ['x-empty', ''],
    ['X-Missing', undefined],
  ])('%s → %j', (name, expected) => {
    expect(headerValue(headers, name)).toBe(expected);
  });

  it('is undefined on no headers', () => {
    expect(headerValue([], 'host')).toBeUndefined();
  });
});

const T0: FlowTimings = {
  start: 1_700_000_000_000,
  requestHeaders: null,
  requestEnd: null,
  upstreamConnect: null,
  upstreamTls: null,
  upstreamSent: null,
  firstByte: null,
  responseEnd: null,
};

describe('flowDurationMs', () => {
  it.each<[Partial<FlowTimings>, number | null]>([
    [{}, null],
    [{ responseEnd: 42 }, 42],
  ])('%j → %s', (marks, expected) => {
    expect(flowDurationMs({ ...T0, ...marks })).toBe(expected);
  });
});

describe('emptyBody', () => {
  it('is an empty capture, new each time', () => {
    expect(emptyBody()).toEqual({ size: 0, bytes: null, truncated: false, sha256: null, state: 'none' });
    expect(emptyBody()).not.toBe(emptyBody());
  });
});
