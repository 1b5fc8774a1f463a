/** The status bar while a filter works through flows older than the held ones (issue 7). */
import { describe, expect, it } from 'vitest';
import { statusText, type StatusFacts } from '../../src/tui/components/status-text.js';

const facts: StatusFacts = {
  shown: 11,
  held: 100000,
  paused: 0,
  rate: 0,
  filter: '~u /api',
  intercept: null,
  cache: false,
  noCache: false,
  listen: '127.0.0.1:8080',
  mode: 'regular',
  session: 'work',
};

describe('status bar: filter coverage of older flows', () => {
  it.each<[string, StatusFacts['older'], string | null]>([
    ['scanning: says how far', { tested: 20000, total: 80000, done: false, scanning: true }, 'filtering older flows 25%'],
    ['cannot scan: says the filter covers held flows only', { tested: 0, total: 80000, done: false, scanning: false }, 'filter covers held flows only (80000 older not filtered)'],
    ['done: nothing to say', { tested: 80000, total: 80000, done: true, scanning: false }, null],
    ['no older flows', null, null],
  ])('%s', (_name, older, expected) => {
    const s = statusText({ ...facts, older }, 200);
    expect(s).toContain('11/100000 flows');
    if (expected) expect(s).toContain(expected);
    else expect(s).not.toMatch(/older/);
  });

  it('says nothing about older flows without a filter', () => {
    const s = statusText({ ...facts, filter: null, older: { tested: 0, total: 5, done: false, scanning: true } }, 200);
    expect(s).toContain('100000 flows');
    expect(s).not.toContain('older');
  });
});
