import { gzipSync, brotliCompressSync, deflateRawSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import type { BodyCapture, HeaderPairs } from '../../../../src/proxy/core/flow.js';
import { compileFilter } from '../../../../src/proxy/filter/index.js';
import { body, compressedBody, gzipBody, makeFlow } from '../../../helpers/make-flow.js';

// Count real decompressions, to see the per-body cache at work; behaviour is unchanged.
const zlibCalls = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:zlib', async (importOriginal) => {
  const zlib = await importOriginal<typeof import('node:zlib')>();
  const counted =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): R => {
      zlibCalls.count++;
      return fn(...args);
    };
  return {
    ...zlib,
    gunzipSync: counted(zlib.gunzipSync),
    inflateSync: counted(zlib.inflateSync),
    inflateRawSync: counted(zlib.inflateRawSync),
    brotliDecompressSync: counted(zlib.brotliDecompressSync),
  };
});

const TEXT = '{"user":"ünïcode alice","items":[1,2,3]}';

function responseWith(encoding: string | null, capture: BodyCapture) {
  const headers: HeaderPairs = [['Content-Type', 'application/json']];
  if (encoding !== null) headers.push(['Content-Encoding', encoding]);
  return makeFlow({ response: { headers, body: capture } });
}

describe('body filters match the decoded text', () => {
  it.each<[string, string | null, BodyCapture]>([
    ['identity', null, body(TEXT)],
    ['gzip', 'gzip', compressedBody(TEXT, 'gzip')],
    ['x-gzip', 'x-gzip', compressedBody(TEXT, 'gzip')],
    ['deflate (zlib-wrapped)', 'deflate', compressedBody(TEXT, 'deflate')],
    ['deflate (raw, as some servers send it)', 'deflate', body(deflateRawSync(Buffer.from(TEXT)))],
    ['br', 'br', compressedBody(TEXT, 'br')],
    ['upper-case coding name', 'GZIP', compressedBody(TEXT, 'gzip')],
    ['gzip then br, undone in reverse', 'gzip, br', body(brotliCompressSync(gzipSync(Buffer.from(TEXT))))],
    ['identity listed', 'identity', body(TEXT)],
  ])('%s', (_label, encoding, capture) => {
    const flow = responseWith(encoding, capture);
    expect(compileFilter('~bs "ünïcode alice"')(flow)).toBe(true);
    expect(compileFilter('~b items":\\[1,2,3\\]')(flow)).toBe(true);
    expect(compileFilter('~bs bob')(flow)).toBe(false);
  });

  it('decodes a compressed request body by its own content-encoding', () => {
    const flow = makeFlow({
      request: { method: 'POST', headers: [['Content-Encoding', 'br']], body: compressedBody('q=needle', 'br') },
    });
    expect(compileFilter('~bq needle')(flow)).toBe(true);
    expect(compileFilter('~bs needle')(flow)).toBe(false);
  });

  it('matches the head of a truncated gzip capture', () => {
    const long = `start-marker ${'x'.repeat(200_000)} end-marker`;
    const capture = gzipBody(long, { limit: 120 });
    expect(capture.truncated).toBe(true);
    const flow = responseWith('gzip', capture);
    expect(compileFilter('~bs start-marker')(flow)).toBe(true);
    expect(compileFilter('~bs end-marker')(flow)).toBe(false);
  });

  it('matches the raw bytes when the body does not decode', () => {
    const flow = responseWith('gzip', body('plainly not gzip'));
    expect(compileFilter('~bs plainly')(flow)).toBe(true);
  });

  it('matches the raw bytes of a coding it cannot undo', () => {
    const flow = responseWith('zstd', body('raw text'));
    expect(compileFilter('~bs "raw text"')(flow)).toBe(true);
  });

  it('does not match an empty body, even with a regex that matches ""', () => {
    const flow = responseWith(null, body(''));
    expect(compileFilter('~bs ""')(flow)).toBe(false);
    expect(compileFilter('~bs .*')(flow)).toBe(false);
  });
});

describe('decoded bodies are cached per capture', () => {
  it('decodes a body once for many filters and evaluations', () => {
    const flow = responseWith('gzip', gzipBody('cached once'));
    const filters = ['~bs cached', '~b once', '~bs missing'].map(compileFilter);
    zlibCalls.count = 0;
    for (let i = 0; i < 5; i++) for (const f of filters) f(flow);
    expect(zlibCalls.count).toBe(1);
  });

  it('decodes again when the capture received more bytes', () => {
    const full = gzipSync(Buffer.from(`first part ${'-'.repeat(50_000)} second part`));
    const flow = responseWith('gzip', { size: 40, bytes: full.subarray(0, 40), truncated: false, sha256: null, state: 'streaming' });
    const predicate = compileFilter('~bs "second part"');
    expect(predicate(flow)).toBe(false);
    const capture = flow.response!.body;
    capture.bytes = full;
    capture.size = full.length;
    capture.state = 'complete';
    expect(predicate(flow)).toBe(true);
  });

  it('decodes again when a rule changed the content-encoding', () => {
    const flow = responseWith(null, gzipBody('now readable'));
    const predicate = compileFilter('~bs readable');
    expect(predicate(flow)).toBe(false);
    flow.response!.headers.push(['Content-Encoding', 'gzip']);
    expect(predicate(flow)).toBe(true);
  });
});
