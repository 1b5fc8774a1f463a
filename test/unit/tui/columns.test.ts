import { describe, expect, it } from 'vitest';
import { lineText } from '../../../src/tui/doc.js';
import { GUTTER, headerLine, layoutColumns, rowLine } from '../../../src/tui/list/columns.js';
import { makeFlow } from '../../helpers/make-flow.js';

describe('layoutColumns', () => {
  it.each([
    [40, ['method', 'status', 'action', 'host', 'path', 'size']],
    [60, ['method', 'status', 'action', 'host', 'path', 'size', 'duration', 'flags']],
    [80, ['method', 'status', 'action', 'host', 'path', 'type', 'size', 'duration', 'flags']],
    [120, ['time', 'method', 'status', 'action', 'host', 'path', 'type', 'size', 'duration', 'flags']],
  ])('at %d columns shows %j', (width, ids) => {
    expect(layoutColumns(width).columns.map((c) => c.id)).toEqual(ids);
  });

  it.each([60, 80, 100, 120, 200])('rows fill exactly %d columns', (width) => {
    const layout = layoutColumns(width);
    const used = GUTTER + layout.columns.reduce((n, c) => n + c.width, 0) + layout.columns.length - 1;
    expect(used).toBe(width);
    expect(lineText(headerLine(layout)).length).toBe(width);
    expect(lineText(rowLine(makeFlow(), layout, false)).length).toBe(width);
  });
});

describe('rowLine', () => {
  const layout = layoutColumns(120);
  it.each([
    ['a finished flow', makeFlow({ request: { path: '/hello' } }), ['GET', '200', 'example.com', '/hello', 'text', '35ms']],
    ['selected and marked', makeFlow({ marked: true }), ['>*']],
    ['waiting for the response', makeFlow({ response: null }), ['…']],
    ['failed', makeFlow({ error: { code: 'UPSTREAM_REFUSED' }, response: null }), ['ERR', 'E']],
    ['paused', makeFlow({ phase: 'request-paused', response: null }), ['PAU', 'P']],
    ['size in k', makeFlow({ response: { body: { size: 4096 } } }), ['4.0k']],
    ['a long path is elided in the middle', makeFlow({ request: { path: `/start/${'x'.repeat(200)}/end` } }), ['/start/', '…', '/end']],
  ])('%s', (name, flow, parts) => {
    const text = lineText(rowLine(flow, layout, name.startsWith('selected')));
    for (const p of parts) expect(text).toContain(p);
  });

  it.each<[string, string[], string | null]>([
    ['blocked', ['blocked'], 'BLK'],
    ['cache hit', ['cache:HIT'], 'HIT'],
    ['stale cache copy', ['cache:STALE'], 'STALE'],
    ['revalidated', ['cache:REVALIDATED'], 'REVAL'],
    ['mocked', ['mocked'], 'MOCK'],
    ['map-local', ['map-local'], 'MAP-L'],
    ['map-remote', ['map-remote'], 'MAP-R'],
    ['rate-limited', ['rate-limited'], 'LIMIT'],
    ['auth-required', ['auth-required'], 'AUTH'],
    ['throttled', ['throttled'], 'SLOW'],
    ['command', ['command'], 'CMD'],
    ['the most important of several wins', ['throttled', 'cache:HIT', 'blocked'], 'BLK'],
    ['a cache hit beats a throttle', ['throttled', 'cache:HIT'], 'HIT'],
    ['other tags are not actions', ['replay-of:x', 'edited'], null],
  ])('the proxy column: %s', (_name, tags, label) => {
    const layout40 = layoutColumns(40);
    for (const l of [layout, layout40]) {
      const line = rowLine(makeFlow({ tags }), l, false);
      const at = l.columns.findIndex((c) => c.id === 'action');
      // Each column is one segment followed by a one-space gap, after the three gutter segments.
      const cell = line[3 + at * 2]!;
      expect(cell.text.trim()).toBe(label ?? '');
    }
  });

  it('dims the target of a blocked flow and colours its marker as an error', () => {
    const line = rowLine(makeFlow({ tags: ['blocked'], request: { host: 'ads.example', path: '/banner' } }), layout, false);
    expect(line.find((s) => s.text.trim() === 'BLK')?.role).toBe('error');
    expect(line.find((s) => s.text.includes('ads.example'))?.role).toBe('muted');
    expect(line.find((s) => s.text.includes('/banner'))?.role).toBe('muted');
    const plain = rowLine(makeFlow({ request: { host: 'ads.example' } }), layout, false);
    expect(plain.find((s) => s.text.includes('ads.example'))?.role).toBeUndefined();
  });

  it('colours the status by class', () => {
    const seg = rowLine(makeFlow({ response: { status: 503 } }), layout, false).find((s) => s.text.trim() === '503');
    expect(seg?.role).toBe('status5');
  });
});
