import { describe, expect, it } from 'vitest';
import { lineText } from '../../../src/tui/doc.js';
import { GUTTER, headerLine, layoutColumns, rowLine } from '../../../src/tui/list/columns.js';
import { makeFlow } from '../../helpers/make-flow.js';

describe('layoutColumns', () => {
  it.each([
    [40, ['method', 'status', 'host', 'path', 'size']],
    [60, ['method', 'status', 'host', 'path', 'size', 'duration', 'flags']],
    [80, ['method', 'status', 'host', 'path', 'type', 'size', 'duration', 'flags']],
    [120, ['time', 'method', 'status', 'host', 'path', 'type', 'size', 'duration', 'flags']],
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

  it('colours the status by class', () => {
    const seg = rowLine(makeFlow({ response: { status: 503 } }), layout, false).find((s) => s.text.trim() === '503');
    expect(seg?.role).toBe('status5');
  });
});
