import { describe, expect, it } from 'vitest';
import { requestChanges } from '../../../src/tui/detail/changes-doc.js';
import { lineText } from '../../../src/tui/doc.js';
import { layoutColumns, rowLine } from '../../../src/tui/list/columns.js';
import { formatWait, parseInterceptSpec, parseRespondSpec, pauseLabel } from '../../../src/tui/pause/pause-format.js';
import { makeFlow } from '../../helpers/make-flow.js';

const T0 = 1_700_000_000_000;
const pausedFlow = (deadline: number | null, onTimeout: 'continue' | 'abort' = 'continue') =>
  ({ ...makeFlow({ phase: 'request-paused', response: null }), pause: { stage: 'request' as const, since: T0, deadline, onTimeout, reason: 'intercept ~u /api' } });

describe('pause labels', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [12_400, '12s'],
    [125_000, '2m05s'],
    [3_720_000, '1h02m'],
  ])('formatWait(%i) = %s', (ms, out) => expect(formatWait(ms)).toBe(out));

  it('shows the wait, and the countdown when the breakpoint has a timeout', () => {
    expect(pauseLabel(pausedFlow(null), T0 + 12_000)).toBe('⏸ 12s');
    expect(pauseLabel(pausedFlow(T0 + 30_000), T0 + 12_000)).toBe('⏸ 12s → continue in 18s');
    // The countdown rounds up: 17.5 s left shows 18s, and past the deadline 0s.
    expect(pauseLabel(pausedFlow(T0 + 30_000, 'abort'), T0 + 12_500)).toBe('⏸ 12s → abort in 18s');
    expect(pauseLabel(pausedFlow(T0 + 30_000), T0 + 40_000)).toBe('⏸ 40s → continue in 0s');
  });

  it('is null for a flow that is not paused', () => {
    expect(pauseLabel(makeFlow(), T0)).toBeNull();
  });

  it('marks a paused row: the label after the path, the method in the warning colour', () => {
    const line = rowLine(pausedFlow(T0 + 30_000), layoutColumns(120), false, T0 + 5_000);
    expect(lineText(line)).toContain('⏸ 5s → continue in 25s');
    expect(lineText(line)).toContain('PAU');
    expect(line.find((s) => s.text.startsWith('GET'))?.role).toBe('warn');
    expect(lineText(line)).toHaveLength(lineText(rowLine(makeFlow(), layoutColumns(120), false)).length);
  });

  it('puts the wait in the duration column when the path is too narrow for the label', () => {
    const text = lineText(rowLine(pausedFlow(T0 + 30_000), layoutColumns(60), false, T0 + 5_000));
    expect(text).toContain('⏸ 5s');
    expect(text).not.toContain('continue in');
  });
});

describe('parseRespondSpec', () => {
  it.each([
    ['404', 404, [], ''],
    [' 204 ', 204, [], ''],
    ['200 text/plain hello', 200, [['Content-Type', 'text/plain']], 'hello'],
    ['200 application/json {"a": 1}', 200, [['Content-Type', 'application/json']], '{"a": 1}'],
    ['503 down for maintenance', 503, [['Content-Type', 'text/plain; charset=utf-8']], 'down for maintenance'],
    ['200 text/html', 200, [['Content-Type', 'text/html']], ''],
  ])('%j', (text, status, headers, body) => {
    expect(parseRespondSpec(text)).toEqual({ ok: true, response: { status, headers, body } });
  });

  it.each(['', 'abc', '99', '600 x', '2000'])('refuses %j', (text) => {
    expect(parseRespondSpec(text).ok).toBe(false);
  });
});

describe('parseInterceptSpec', () => {
  it.each([
    ['~u /api', '~u /api', ['request']],
    ['req: ~u /api', '~u /api', ['request']],
    ['res:~s 500', '~s 500', ['response']],
    ['BOTH: ~m POST', '~m POST', ['request', 'response']],
    ['', '', ['request']],
  ])('%j', (text, filter, on) => expect(parseInterceptSpec(text)).toEqual({ filter, on }));
});

describe('requestChanges', () => {
  it('lists the request line and header differences', () => {
    const before = makeFlow({ request: { headers: [['Host', 'example.com'], ['X-Test', 'original'], ['X-Gone', '1']] } }).request;
    const after = { ...before, method: 'POST', headers: [['Host', 'example.com'], ['X-Test', 'edited'], ['X-New', 'yes']] as Array<[string, string]> };
    const text = requestChanges(before, after).map(lineText);
    expect(text).toEqual([
      'Edited at the breakpoint (original → now)',
      '~ method: GET → POST',
      '~ X-Test: original → edited',
      '- X-Gone: 1',
      '+ X-New: yes',
      '',
    ]);
  });
});
