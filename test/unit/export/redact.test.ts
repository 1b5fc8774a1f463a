import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseJsonPath, replaceAtPath, JsonPathError } from '../../../src/export/json-path.js';
import { compileRedaction, defaultRedaction, redactFlow, RedactionReport, REDACTED } from '../../../src/export/redact.js';
import { body, gzipBody, makeFlow } from '../../helpers/make-flow.js';

describe('JSON paths', () => {
  it.each<[string, unknown, unknown, number]>([
    ['$.token', { token: 't', keep: 1 }, { token: 'X', keep: 1 }, 1],
    ['$.user.password', { user: { name: 'a', password: 'p' } }, { user: { name: 'a', password: 'X' } }, 1],
    ["$['api-key']", { 'api-key': 'k' }, { 'api-key': 'X' }, 1],
    ['$.items[1].secret', { items: [{ secret: 1 }, { secret: 2 }] }, { items: [{ secret: 1 }, { secret: 'X' }] }, 1],
    ['$.items[*].secret', { items: [{ secret: 1 }, { other: 2 }, { secret: 3 }] }, { items: [{ secret: 'X' }, { other: 2 }, { secret: 'X' }] }, 2],
    ['$.*.id', { a: { id: 1 }, b: { id: 2 } }, { a: { id: 'X' }, b: { id: 'X' } }, 2],
    ['$..password', { password: 'a', nested: [{ password: 'b' }, { deep: { password: { password: 'c' } } }] }, { password: 'X', nested: [{ password: 'X' }, { deep: { password: 'X' } }] }, 3],
    ['$.missing.path', { token: 't' }, { token: 't' }, 0],
    ['$.token', [1, 2], [1, 2], 0],
  ])('%s', (path, doc, expected, count) => {
    const copy = structuredClone(doc);
    expect(replaceAtPath(copy, parseJsonPath(path), 'X')).toBe(count);
    expect(copy).toEqual(expected);
  });

  it.each<[string, RegExp]>([
    ['token', /at column 1: a path starts with \$/],
    ['$', /whole document/],
    ['$.', /column 3: expected a name after \./],
    ["$['x", /unclosed \['/],
    ['$.a b', /column 4: unexpected " "/],
  ])('refuses %s with the column', (path, message) => {
    expect(() => parseJsonPath(path)).toThrow(JsonPathError);
    expect(() => parseJsonPath(path)).toThrow(message);
  });
});

describe('redaction', () => {
  const run = (flow = makeFlow(), headers: string[] = [], paths: string[] = []) => {
    const report = new RedactionReport();
    const out = redactFlow(flow, compileRedaction(defaultRedaction(headers, paths)), report);
    return { out, report };
  };

  it('replaces credentials headers by default, in requests and responses, counting per header', () => {
    const { out, report } = run(
      makeFlow({
        request: { headers: [['Host', 'example.com'], ['authorization', 'Bearer abc'], ['Cookie', 'sid=1'], ['Proxy-Authorization', 'Basic eDp5']] },
        response: { headers: [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Content-Type', 'text/plain']] },
      }),
    );
    expect(out.request.headers).toEqual([
      ['Host', 'example.com'],
      ['authorization', REDACTED],
      ['Cookie', REDACTED],
      ['Proxy-Authorization', REDACTED],
    ]);
    expect(out.response!.headers).toEqual([
      ['Set-Cookie', REDACTED],
      ['Set-Cookie', REDACTED],
      ['Content-Type', 'text/plain'],
    ]);
    expect(Object.fromEntries(report.counts)).toEqual({ Authorization: 1, Cookie: 1, 'Proxy-Authorization': 1, 'Set-Cookie': 2 });
    expect(report.describe()).toBe('redacted Authorization ×1, Cookie ×1, Proxy-Authorization ×1, Set-Cookie ×2');
  });

  it('redacts configured headers, in trailers too, and leaves the input flow alone', () => {
    const flow = makeFlow({ request: { headers: [['X-Api-Key', 'k1']] }, response: { trailers: [['x-api-key', 'k2']] } });
    const { out, report } = run(flow, ['X-Api-Key']);
    expect(out.request.headers).toEqual([['X-Api-Key', REDACTED]]);
    expect(out.response!.trailers).toEqual([['x-api-key', REDACTED]]);
    expect(report.counts.get('X-Api-Key')).toBe(2);
    expect(flow.request.headers).toEqual([['X-Api-Key', 'k1']]);
  });

  it('replaces JSON paths in request and response bodies and keeps the body consistent', () => {
    const { out, report } = run(
      makeFlow({
        request: { method: 'POST', headers: [['Content-Type', 'application/json'], ['Content-Length', '41']], body: body('{"user":{"name":"a","password":"hunter2"}}') },
        response: { headers: [['Content-Type', 'application/json']], body: body('{"token":"t0k","ok":true}') },
      }),
      [],
      ['$.user.password', '$.token'],
    );
    const reqText = out.request.body.bytes!.toString();
    expect(JSON.parse(reqText)).toEqual({ user: { name: 'a', password: REDACTED } });
    expect(out.request.body.size).toBe(reqText.length);
    expect(out.request.headers).toContainEqual(['Content-Length', String(reqText.length)]);
    expect(JSON.parse(out.response!.body.bytes!.toString())).toEqual({ token: REDACTED, ok: true });
    expect(report.describe()).toBe('redacted $.user.password ×1, $.token ×1');
  });

  it('decodes a gzip JSON body to redact it and drops the coding it no longer has', () => {
    const { out } = run(makeFlow({ response: { headers: [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], body: gzipBody('{"token":"x"}') } }), [], ['$.token']);
    expect(out.response!.headers).toEqual([['Content-Type', 'application/json']]);
    expect(out.response!.body.bytes!.toString()).toBe(`{"token":"${REDACTED}"}`);
  });

  it('leaves a gzip body whose paths did not match untouched (still encoded)', () => {
    const gz = gzipBody('{"other":1}');
    const { out } = run(makeFlow({ response: { headers: [['Content-Encoding', 'gzip']], body: gz } }), [], ['$.token']);
    expect(gunzipSync(out.response!.body.bytes!).toString()).toBe('{"other":1}');
  });

  it('counts truncated JSON bodies it could not search', () => {
    const { report } = run(makeFlow({ response: { headers: [['Content-Type', 'application/json']], body: body('{"token":"abcdef"}', { limit: 5 }) } }), [], ['$.token']);
    expect(report.truncatedJson).toBe(1);
    expect(report.describe()).toMatch(/1 truncated JSON body was not searched/);
  });

  it('redacts JSON text WebSocket messages', () => {
    const { out } = run(
      makeFlow({ response: { status: 101, body: body('') }, websocket: { messages: [{ direction: 'client', type: 'text', size: 15, payload: Buffer.from('{"token":"abc"}'), truncated: false, time: 1 }] } }),
      [],
      ['$.token'],
    );
    expect(out.websocket!.messages[0]!.payload.toString()).toBe(`{"token":"${REDACTED}"}`);
  });

  it('says when nothing was found', () => {
    expect(run().report.describe()).toBe('redacted nothing (no secrets found)');
  });
});
