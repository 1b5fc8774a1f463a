import { describe, expect, it } from 'vitest';
import type { BackendStatus } from '../../../src/proxy/reverse/status.js';
import { backendColumns, backendLine, backendsSummary, formatAge, stateText } from '../../../src/tui/backends/backends-format.js';
import { backendsPaneReducer, backendsTop, initialBackendsPaneState } from '../../../src/tui/backends/backends-state.js';
import { lineText } from '../../../src/tui/doc.js';

const b = (over: Partial<BackendStatus> = {}): BackendStatus => ({
  group: 'default',
  url: 'http://127.0.0.1:3001',
  weight: 1,
  healthy: true,
  inFlight: 0,
  requests: 0,
  failures: 0,
  since: null,
  reason: null,
  ...over,
});

describe('backends format', () => {
  it.each([
    [0, '0s'],
    [59_999, '59s'],
    [60_000, '1m'],
    [3_599_999, '59m'],
    [3_600_000, '1h'],
    [86_400_000 * 3, '3d'],
    [-5, '0s'],
  ])('formatAge(%d) → %s', (ms, text) => expect(formatAge(ms)).toBe(text));

  it('states the health and how long it held', () => {
    expect(stateText(b(), 1000)).toBe('UP');
    expect(stateText(b({ healthy: false, since: 0 }), 42_000)).toBe('DOWN for 42s');
  });

  it('summarizes up and total, null without backends', () => {
    expect(backendsSummary([])).toBeNull();
    expect(backendsSummary([b(), b({ healthy: false }), b()])).toEqual({ up: 2, total: 3 });
  });

  it('cuts a row to the width and keeps the reason last', () => {
    const row = b({ healthy: false, since: 0, reason: 'connection refused', failures: 2 });
    const wide = lineText(backendLine(row, backendColumns([row], 140), 5000, 140));
    expect(wide).toMatch(/DOWN for 5s .* connection refused$/);
    const narrow = lineText(backendLine(row, backendColumns([row], 60), 5000, 60));
    expect(narrow.length).toBeLessThanOrEqual(60);
  });
});

describe('backends pane state', () => {
  it('opens, closes and keeps its scroll within the rows', () => {
    let s = backendsPaneReducer(initialBackendsPaneState, { type: 'open' });
    expect(s.open).toBe(true);
    s = backendsPaneReducer(s, { type: 'scroll', delta: 5, length: 10, height: 4 });
    expect(s.top).toBe(5);
    s = backendsPaneReducer(s, { type: 'scroll', delta: 5, length: 10, height: 4 });
    expect(s.top).toBe(6);
    s = backendsPaneReducer(s, { type: 'scroll', delta: -100, length: 10, height: 4 });
    expect(s.top).toBe(0);
    s = backendsPaneReducer(s, { type: 'scroll-to', where: 'bottom', length: 10, height: 4 });
    expect(s.top).toBe(6);
    // The list shrank: the drawn top is clamped.
    expect(backendsTop(s, 3, 4)).toBe(0);
    s = backendsPaneReducer(s, { type: 'close' });
    expect(s.open).toBe(false);
  });
});
