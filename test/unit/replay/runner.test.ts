import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/proxy/core/errors.js';
import { compileFilter } from '../../../src/proxy/filter/index.js';
import type { ReplayedResponse } from '../../../src/replay/compare.js';
import type { PlannedRequest } from '../../../src/replay/request-plan.js';
import { runReplay } from '../../../src/replay/runner.js';
import { body, makeFlow } from '../../helpers/make-flow.js';

function answer(status: number, text: string): ReplayedResponse {
  const b = Buffer.from(text);
  return { status, statusText: '', headers: [['Content-Type', 'application/json']], body: b, size: b.length, sha256: createHash('sha256').update(b).digest('hex') };
}

describe('runReplay', () => {
  const flows = [
    makeFlow({ id: 'a', request: { path: '/api/a' }, response: { body: body('{"n":1}') } }),
    makeFlow({ id: 'b', request: { method: 'POST', path: '/api/b', body: body('{"x":1}') }, response: { body: body('{"items":[1,2,{"price":10}]}') } }),
    makeFlow({ id: 'c', request: { path: '/api/c' } }),
    makeFlow({ id: 'ws', request: { path: '/ws' }, websocket: {} }),
    makeFlow({ id: 's', request: { path: '/static/x' } }),
  ];

  it('sends the selected flows in order, compares, and summarises', async () => {
    const sent: PlannedRequest[] = [];
    const lines: string[] = [];
    const run = await runReplay(
      flows,
      { target: { scheme: 'http', host: '127.0.0.1', port: 9 }, select: compileFilter('~u /api/ | ~websocket'), onResult: (r) => lines.push(`${r.flowId}:${r.outcome}`) },
      async (req) => {
        sent.push(req);
        if (req.path === '/api/a') return answer(200, '{ "n": 1 }');
        if (req.path === '/api/b') return answer(500, '{"items":[1,2,{"price":12}]}');
        throw new ProxyError('UPSTREAM_REFUSED', 'connection refused');
      },
    );
    expect(sent.map((r) => `${r.method} ${r.url}`)).toEqual(['GET http://127.0.0.1:9/api/a', 'POST http://127.0.0.1:9/api/b', 'GET http://127.0.0.1:9/api/c']);
    expect(sent[1]!.body.toString()).toBe('{"x":1}');
    expect(lines).toEqual(['a:match', 'b:differ', 'c:failed', 'ws:skipped']);
    expect(run.summary).toEqual({ replayed: 3, matched: 1, differed: 1, failed: 1, skipped: 1 });
    expect(run.total).toBe(5);
    expect(run.selected).toBe(4);
    expect(run.results[1]).toMatchObject({ outcome: 'differ', recordedStatus: 200, status: 500, body: { kind: 'json', changes: [{ path: '$.items[2].price', before: 10, after: 12 }] } });
    expect(run.results[2]).toMatchObject({ outcome: 'failed', error: { code: 'UPSTREAM_REFUSED' } });
  });

  it('takes an async iterable (a streamed session) and classifies a plain Error from the sender', async () => {
    async function* gen() {
      yield makeFlow({ request: { path: '/x' } });
    }
    const run = await runReplay(gen(), { target: null }, async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' });
    });
    expect(run.results[0]).toMatchObject({ outcome: 'failed', url: 'http://example.com/x', error: { code: 'UPSTREAM_DNS' } });
  });

  it('a throwing filter predicate selects nothing instead of failing the run', async () => {
    const run = await runReplay(flows, { target: null, select: () => { throw new Error('bad predicate'); } }, async () => answer(200, ''));
    expect(run).toMatchObject({ total: 5, selected: 0, results: [] });
  });
});
