import { describe, expect, it } from 'vitest';
import { headerValue } from '../../../../src/proxy/core/flow.js';
import { blockRule } from '../../../../src/proxy/rules/block.js';
import { makeFlow } from '../../../helpers/make-flow.js';
import { bodyText, fakeContext, filter, responseOf } from './rule-kit.js';

const rule = (action: 'respond' | 'drop', status = 403, text = '~d ads.example') => blockRule({ name: 'rules[3] block', ...filter(text), status, action });

describe('blockRule', () => {
  it.each<[string, 'respond' | 'drop', number, string]>([
    ['respond', 'respond', 403, 'block ~d ads.example with 403'],
    ['respond with 451', 'respond', 451, 'block ~d ads.example with 451'],
    ['drop', 'drop', 403, 'drop connections to ~d ads.example'],
  ])('explains itself (%s)', (_n, action, status, line) => {
    expect(rule(action, status).explain()).toBe(line);
    expect(rule(action, status).name).toBe('rules[3] block');
  });

  it.each<[string, Parameters<typeof makeFlow>[0]]>([
    ['another host', { request: { host: 'example.com' } }],
    ['a host that only contains the word elsewhere', { request: { host: 'example.org', path: '/ads.example' } }],
  ])('lets %s through', (_n, overrides) => {
    const flow = makeFlow(overrides);
    expect(rule('respond').requestHeaders!(flow, fakeContext())).toBeUndefined();
    expect(flow.tags).toEqual([]);
  });

  it.each<[string, string, number]>([
    ['GET', 'http', 80],
    ['HEAD', 'https', 443],
    ['POST', 'https', 8443],
  ])('answers a %s to the blocked host with a no-store HTML page', (method, scheme, port) => {
    const flow = makeFlow({ request: { method, scheme: scheme as 'http' | 'https', host: 'ads.example', port, path: '/x?a=1' } });
    const d = rule('respond', 451).requestHeaders!(flow, fakeContext());
    expect(d).toMatchObject({ action: 'respond', tag: 'blocked', response: { status: 451 } });
    const response = responseOf(d);
    const h = response.headers;
    expect(headerValue(h, 'content-type')).toBe('text/html; charset=utf-8');
    expect(headerValue(h, 'cache-control')).toBe('no-store');
    expect(headerValue(h, 'x-proxyctl-blocked')).toBe('rules[3] block');
    const page = bodyText(response.body);
    expect(page).toContain('rules[3] block');
    expect(page).toContain(`${scheme}://ads.example${port === 80 || port === 443 ? '' : `:${port}`}/x?a=1`);
  });

  it('drops the connection when told to', () => {
    const flow = makeFlow({ request: { host: 'ads.example' } });
    expect(rule('drop').requestHeaders!(flow, fakeContext())).toEqual({ action: 'drop', tag: 'blocked' });
  });

  it('escapes the URL and the filter on its page', () => {
    const flow = makeFlow({ request: { host: 'evil.example', path: '/<script>alert("x")</script>&' } });
    const page = bodyText(responseOf(rule('respond', 403, '~u <script>').requestHeaders!(flow, fakeContext())).body);
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;');
  });
});
