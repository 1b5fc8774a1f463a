import { describe, expect, it } from 'vitest';
import type { HeaderPairs } from '../../../../src/proxy/core/flow.js';
import { rewriteBody, rewriteHeaders, rewriteRule, type RewritePart } from '../../../../src/proxy/rules/rewrite.js';
import { makeFlow } from '../../../helpers/make-flow.js';
import { fakeContext, filter } from './rule-kit.js';

const rule = (part: RewritePart, match: RegExp, value: RegExp | null, replace: string | null, filterText = '~d example.com') =>
  rewriteRule({ name: 'rules[5] rewrite', ...filter(filterText), part, match, value, replace });

describe('rewriteRule explains itself', () => {
  it.each<[RewritePart, RegExp, RegExp | null, string | null, string]>([
    ['response-header', /^x-powered-by$/, null, null, 'rewrite response-header ~d example.com: remove headers /^x-powered-by$/'],
    ['response-header', /^set-cookie$/, /tracking/, null, 'rewrite response-header ~d example.com: remove headers /^set-cookie$/ whose value matches /tracking/'],
    ['request-header', /^user-agent$/, null, 'proxyctl', 'rewrite request-header ~d example.com: set headers /^user-agent$/ to "proxyctl"'],
    ['request-header', /^cookie$/, /session=\w+/, 'session=x', 'rewrite request-header ~d example.com: in headers /^cookie$/ replace /session=\\w+/ with "session=x"'],
    ['response-body', /foo/, null, 'bar', 'rewrite response-body ~d example.com: replace /foo/ with "bar"'],
    ['request-body', /secret/, null, null, 'rewrite request-body ~d example.com: delete /secret/'],
  ])('%s %s', (part, match, value, replace, line) => {
    expect(rule(part, match, value, replace).explain()).toBe(line);
  });
});

describe('rewriteHeaders', () => {
  const headers: HeaderPairs = [
    ['Host', 'example.com'],
    ['X-Powered-By', 'PHP/8'],
    ['Set-Cookie', 'a=1; tracking=yes'],
    ['set-cookie', 'b=2'],
    ['Accept', '*/*'],
  ];
  it.each<[string, RegExp, RegExp | null, string | null, HeaderPairs | null]>([
    ['removes by name, case-insensitively', /^x-powered-by$/, null, null, [headers[0]!, headers[2]!, headers[3]!, headers[4]!]],
    ['removes every repeated header', /^set-cookie$/, null, null, [headers[0]!, headers[1]!, headers[4]!]],
    ['removes only those whose value matches', /^set-cookie$/, /tracking/, null, [headers[0]!, headers[1]!, headers[3]!, headers[4]!]],
    ['sets every matching header', /^set-cookie$/, null, 'z=0', [headers[0]!, headers[1]!, ['Set-Cookie', 'z=0'], ['set-cookie', 'z=0'], headers[4]!]],
    ['replaces inside values, all matches, with $1', /cookie/, /(\w)=(\d)/, '$1:$2', [headers[0]!, headers[1]!, ['Set-Cookie', 'a:1; tracking=yes'], ['set-cookie', 'b:2'], headers[4]!]],
    ['reports no change when nothing matches', /^x-none$/, null, null, null],
    ['reports no change when the value is already right', /^accept$/, null, '*/*', null],
    ['reports no change when the value pattern finds nothing', /^accept$/, /zzz/, 'y', null],
  ])('%s', (_n, nameRe, valueRe, replace, expected) => {
    // The rule passes the flags it adds; here, as it does: i for names, g for values.
    expect(rewriteHeaders(headers, new RegExp(nameRe.source, 'i'), valueRe ? new RegExp(valueRe.source, 'g') : null, replace)).toEqual(expected);
  });
});

describe('rewriteBody', () => {
  it.each<[string, string | Buffer, RegExp, string | null, string | Buffer]>([
    ['every match (global)', 'foo foo foo', /foo/g, 'bar', 'bar bar bar'],
    ['groups', 'a=1&b=2', /(\w)=(\d)/g, '$2=$1', '1=a&2=b'],
    ['deletes with null', 'keep secret keep', / ?secret/g, null, 'keep keep'],
    ['UTF-8 text', 'grüße, grüße', /ü/g, 'ue', 'grueße, grueße'],
    ['bytes that are not UTF-8 pass through', Buffer.from([0xff, 0x41, 0xfe, 0x42]), /A/g, 'a', Buffer.from([0xff, 0x61, 0xfe, 0x42])],
    ['a non-Latin-1 replacement in such bytes goes in as UTF-8', Buffer.from([0xff, 0x41]), /A/g, '€', Buffer.from([0xff, 0xe2, 0x82, 0xac])],
  ])('%s', (_n, input, re, replace, expected) => {
    const body = typeof input === 'string' ? Buffer.from(input) : input;
    const out = rewriteBody(body, re, replace);
    expect(out).toEqual(typeof expected === 'string' ? Buffer.from(expected) : expected);
  });

  it('returns the very same buffer when nothing matched', () => {
    const body = Buffer.from([0xff, 0xfe, 0x00]);
    expect(rewriteBody(body, /zzz/g, 'y')).toBe(body);
  });
});

describe('rewriteRule hooks', () => {
  it('request-header acts in the request hook and tags the flow', () => {
    const r = rule('request-header', /^user-agent$/, null, 'proxyctl');
    expect(r.requestHeaders).toBeUndefined();
    expect(r.responseHeaders).toBeUndefined();
    const flow = makeFlow();
    r.request!(flow, fakeContext());
    expect(flow.request.headers).toContainEqual(['User-Agent', 'proxyctl']);
    expect(flow.tags).toEqual(['rewritten']);
  });

  it('response-header acts in responseHeaders; a flag-less match still ignores case', () => {
    const r = rule('response-header', /^X-POWERED-BY$/, null, null);
    expect(r.request).toBeUndefined();
    const flow = makeFlow({ response: { headers: [['x-powered-by', 'a'], ['Content-Type', 'text/plain']] } });
    r.responseHeaders!(flow, fakeContext());
    expect(flow.response!.headers).toEqual([['Content-Type', 'text/plain']]);
    expect(flow.tags).toEqual(['rewritten']);
  });

  it('does not tag when nothing changed', () => {
    const flow = makeFlow();
    rule('response-header', /^x-none$/, null, null).responseHeaders!(flow, fakeContext());
    expect(flow.tags).toEqual([]);
  });

  it('leaves flows the filter does not match alone', () => {
    const flow = makeFlow({ request: { host: 'other.example' } });
    const ctx = fakeContext();
    rule('request-header', /.*/, null, null).request!(flow, ctx);
    rule('response-body', /.*/, null, null).responseHeaders!(flow, ctx);
    expect(flow.request.headers.length).toBe(3);
    expect(ctx.responseTransforms).toEqual([]);
  });

  it.each<[RewritePart, 'requestTransforms' | 'responseTransforms']>([
    ['request-body', 'requestTransforms'],
    ['response-body', 'responseTransforms'],
  ])('%s registers a body transform that tags the flow only when it changes something', (part, list) => {
    const ctx = fakeContext();
    const flow = makeFlow();
    const r = rule(part, /o/, null, '0');
    (part === 'request-body' ? r.request! : r.responseHeaders!)(flow, ctx);
    expect(ctx[list]).toHaveLength(1);
    const fn = ctx[list][0]!;
    const same = Buffer.from('xyz');
    expect(fn(same, flow)).toBe(same);
    expect(flow.tags).toEqual([]);
    expect(fn(Buffer.from('foo'), flow).toString()).toBe('f00');
    expect(fn(Buffer.from('boo'), flow).toString()).toBe('b00'); // global regex state does not leak between calls
    expect(flow.tags).toEqual(['rewritten']);
  });
});
