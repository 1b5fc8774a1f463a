import { createHash } from 'node:crypto';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { FlowResponse, HeaderPairs } from '../../../src/proxy/core/flow.js';
import { compareResponse, type ReplayedResponse } from '../../../src/replay/compare.js';
import { body, gzipBody, makeFlow } from '../../helpers/make-flow.js';

function replayed(status: number, bytes: Buffer | string | null, headers: HeaderPairs = [], whole?: Buffer): ReplayedResponse {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const all = whole ?? b ?? Buffer.alloc(0);
  return { status, statusText: '', headers, body: b, size: all.length, sha256: createHash('sha256').update(all).digest('hex') };
}

function recorded(over: Parameters<typeof makeFlow>[0] = {}): FlowResponse {
  return makeFlow(over).response!;
}

describe('compareResponse', () => {
  it('same status and bytes', () => {
    expect(compareResponse(recorded({ response: { body: body('ok') } }), replayed(200, 'ok'))).toEqual({ statusMatches: true, body: { kind: 'same', json: false } });
  });

  it('status differs, body same', () => {
    expect(compareResponse(recorded({ response: { status: 200, body: body('x') } }), replayed(500, 'x'))).toEqual({ statusMatches: false, body: { kind: 'same', json: false } });
  });

  it('JSON diff with paths', () => {
    const rec = recorded({ response: { headers: [['Content-Type', 'application/json']], body: body('{"items":[{"price":10}]}') } });
    expect(compareResponse(rec, replayed(200, '{"items":[{"price":12}]}')).body).toEqual({ kind: 'json', changes: [{ kind: 'changed', path: '$.items[0].price', before: 10, after: 12 }] });
  });

  it('content-codings are removed on both sides before comparing (gzip recorded, br replayed)', () => {
    const rec = recorded({ response: { headers: [['Content-Encoding', 'gzip']], body: gzipBody('{"a":1,"b":2}') } });
    const rep = replayed(200, brotliCompressSync(Buffer.from('{"b":2,"a":1}')), [['content-encoding', 'br']]);
    expect(compareResponse(rec, rep).body).toEqual({ kind: 'same', json: true });
  });

  it('a coding that cannot be undone compares the bytes as sent', () => {
    const rec = recorded({ response: { headers: [['Content-Encoding', 'zstd']], body: body('raw-bytes') } });
    expect(compareResponse(rec, replayed(200, 'raw-bytes', [['Content-Encoding', 'zstd']])).body).toEqual({ kind: 'same', json: false });
  });

  it('a truncated recording is compared by size and SHA-256 of the whole body', () => {
    const whole = Buffer.from('0123456789abcdef');
    const rec = recorded({ response: { body: body(whole, { limit: 4 }) } });
    expect(compareResponse(rec, replayed(200, whole)).body).toEqual({ kind: 'same', json: false });
    expect(compareResponse(rec, replayed(200, '0123456789abcdeX')).body).toEqual({ kind: 'digest', recordedSize: 16, replayedSize: 16 });
    // The digest is over the bytes as sent, so a replay compressed differently cannot be judged equal by it.
    expect(compareResponse(rec, replayed(200, gzipSync(whole), [['Content-Encoding', 'gzip']])).body.kind).toBe('digest');
  });

  it('a body that was not recorded is not compared', () => {
    const rec = recorded({ response: { body: { size: 10, bytes: null, state: 'none' } } });
    expect(compareResponse(rec, replayed(200, 'anything'))).toEqual({ statusMatches: true, body: { kind: 'not-compared', reason: 'the body was not recorded' } });
  });

  it('an empty recorded body (HEAD, 204) compares with an empty replay', () => {
    const rec = recorded({ response: { status: 204, headers: [], body: { size: 0, bytes: null, state: 'none' } } });
    expect(compareResponse(rec, replayed(204, Buffer.alloc(0))).body).toEqual({ kind: 'same', json: false });
  });

  it('a recorded body cut short is not compared', () => {
    const rec = recorded({ response: { body: body('part', { state: 'aborted' }) } });
    expect(compareResponse(rec, replayed(200, 'partial')).body).toEqual({ kind: 'not-compared', reason: 'the recorded body was cut short' });
  });

  it('a replayed body too large to keep is compared by digest when the recording is whole', () => {
    const whole = Buffer.from('big body');
    const rec = recorded({ response: { body: body(whole) } });
    expect(compareResponse(rec, replayed(200, null, [], whole)).body).toEqual({ kind: 'same', json: false });
    expect(compareResponse(rec, replayed(200, null, [], Buffer.from('other body'))).body.kind).toBe('not-compared');
  });
});
