/**
 * The parent proxy of `--mode upstream:URL` without sockets: how its URL becomes the address,
 * the label errors name and the Basic credentials, and how a CONNECT answer's status line is read.
 */
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ParentProxy, authorityOf, parseStatusLine } from '../../../../src/proxy/net/parent-proxy.js';

const lookup = (() => undefined) as unknown as net.LookupFunction;
const parent = (url: string) => new ParentProxy(new URL(url), { connectTimeoutMs: 1000, lookup });

describe('ParentProxy from its URL', () => {
  it.each([
    { url: 'http://127.0.0.1:3128', host: '127.0.0.1', port: 3128, label: '127.0.0.1:3128' },
    { url: 'http://proxy.test', host: 'proxy.test', port: 80, label: 'proxy.test:80' },
    { url: 'http://[::1]:8080/', host: '::1', port: 8080, label: '[::1]:8080' },
  ])('$url → $label', ({ url, host, port, label }) => {
    const p = parent(url);
    expect({ host: p.host, port: p.port, label: p.label }).toEqual({ host, port, label });
  });

  it('has no credentials when the URL has none', () => {
    expect(parent('http://127.0.0.1:3128').authorization).toBeNull();
  });

  it('decodes percent-encoded credentials before encoding them as Basic (RFC 7617, UTF-8)', () => {
    const p = parent('http://al%C3%AFce:p%40ss%3Aw%2Frd@127.0.0.1:3128');
    expect(p.authorization).toBe(`Basic ${Buffer.from('alïce:p@ss:w/rd', 'utf8').toString('base64')}`);
  });

  it('names itself in refusals and unreachable errors', () => {
    const p = parent('http://127.0.0.1:3128');
    const refused = p.refused(407, '', 'CONNECT example.test:443');
    expect(refused.code).toBe('TUNNEL_FAILED');
    expect(refused.message).toBe('upstream proxy 127.0.0.1:3128 answered 407 Proxy Authentication Required to CONNECT example.test:443');
    expect(p.refused(599, '', 'CONNECT a:1').message).toBe('upstream proxy 127.0.0.1:3128 answered 599 to CONNECT a:1');
    const down = p.unreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3128'), { code: 'ECONNREFUSED' }));
    expect(down.code).toBe('UPSTREAM_REFUSED');
    expect(down.message).toMatch(/^upstream proxy 127\.0\.0\.1:3128 cannot be reached: /);
  });
});

describe('parseStatusLine', () => {
  it.each([
    ['HTTP/1.1 200 Connection established', { code: 200, text: 'Connection established' }],
    ['HTTP/1.0 200', { code: 200, text: '' }],
    ['HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic', { code: 407, text: 'Proxy Authentication Required' }],
    ['SSH-2.0-OpenSSH', null],
    ['HTTP/2 200', null],
    ['HTTP/1.1 20 OK', null],
  ])('%j → %j', (head, want) => {
    expect(parseStatusLine(head)).toEqual(want);
  });
});

describe('authorityOf', () => {
  it('brackets IPv6 literals', () => {
    expect(authorityOf('::1', 443)).toBe('[::1]:443');
    expect(authorityOf('example.test', 8443)).toBe('example.test:8443');
  });
});
