import { describe, expect, it } from 'vitest';
import { statusLine, statusText, type StatusFacts } from '../../../src/tui/components/status-text.js';
import { lineText } from '../../../src/tui/doc.js';
import { screenLayout } from '../../../src/tui/layout.js';
import { rateFrom } from '../../../src/tui/hooks/use-request-rate.js';

const facts: StatusFacts = {
  shown: 3,
  held: 10,
  paused: 2,
  rate: 4.25,
  filter: '~d example',
  intercept: '~u /api',
  cache: true,
  noCache: false,
  listen: '127.0.0.1:8080',
  mode: 'regular',
  session: 'work',
};

describe('statusText', () => {
  it('shows everything when there is room', () => {
    const s = statusText(facts, 160);
    expect(s).toHaveLength(160);
    for (const part of ['3/10 flows', '2 paused', '4.3 req/s', 'filter ~d example', 'intercept ~u /api', 'cache on', 'regular 127.0.0.1:8080', 'session work']) {
      expect(s).toContain(part);
    }
  });

  it('drops the least important facts first when narrow', () => {
    const s = statusText(facts, 80);
    expect(s).toHaveLength(80);
    expect(s).toContain('3/10 flows');
    expect(s).toContain('2 paused');
    expect(s).toContain('127.0.0.1:8080');
    expect(s).not.toContain('session');
  });

  it.each<[Partial<StatusFacts>, string, string]>([
    [{ filter: null, held: 1, paused: 0 }, '1 flow ', 'paused'],
    [{ filter: null, held: 5 }, '5 flows', 'filter'],
    [{ intercept: null, noCache: true, cache: false }, 'no-cache', 'intercept'],
    [{ cache: false }, 'cache off', 'cache on'],
    [{ rules: 3 }, 'rules 3', 'no-cache'],
    [{ rules: 0 }, 'cache on', 'rules'],
  ])('%j', (change, has, hasNot) => {
    const s = statusText({ ...facts, ...change }, 200);
    expect(s).toContain(has);
    expect(s).not.toContain(hasNot);
  });

  it('highlights what is switched on', () => {
    const line = statusLine({ ...facts, noCache: true }, 200);
    expect(line.find((s) => s.text === 'cache on')?.role).toBe('bar-on');
    expect(line.find((s) => s.text === 'no-cache')?.role).toBe('bar-on');
    expect(statusLine({ ...facts, cache: false }, 200).find((s) => s.text === 'cache off')?.role).toBeUndefined();
  });

  it('keeps the cache and the rules longer than the request rate, and fits the width', () => {
    for (const width of [20, 40, 60, 80, 100]) {
      const line = statusLine({ ...facts, noCache: true, rules: 12 }, width);
      expect(lineText(line)).toHaveLength(width);
    }
    const s = statusText({ ...facts, rules: 12, filter: null, intercept: null, paused: 0, session: null }, 64);
    expect(s).toContain('cache on');
    expect(s).toContain('rules 12');
    expect(s).not.toContain('req/s');
  });

  it('elides a long filter expression', () => {
    expect(statusText({ ...facts, filter: `~u ${'x'.repeat(100)}` }, 200)).toContain('…');
  });
});

describe('screenLayout', () => {
  it.each([
    [80, 24, false, false, { height: 23, main: 21, listRows: 20, detailRows: 19, log: 0, prompt: 1 }],
    [80, 24, true, false, { height: 23, main: 14, log: 7 }],
    [80, 24, false, true, { main: 20, prompt: 2 }],
    [120, 40, false, false, { width: 120, height: 39, main: 37 }],
    [10, 3, false, false, { width: 20, height: 6, main: 4 }],
  ])('%dx%d log=%s error=%s', (columns, rows, showLog, promptError, expected) => {
    expect(screenLayout(columns, rows, { showLog, promptError })).toMatchObject(expected);
  });
});

describe('rateFrom', () => {
  it.each([
    [[], 0],
    [[{ time: 0, total: 5 }], 0],
    [[{ time: 0, total: 0 }, { time: 2000, total: 10 }], 5],
    [[{ time: 0, total: 0 }, { time: 1000, total: 3 }, { time: 4000, total: 12 }], 3],
    [[{ time: 0, total: 10 }, { time: 0, total: 20 }], 0],
  ])('%j → %d', (samples, rate) => expect(rateFrom(samples)).toBe(rate));
});

describe('statusText for a recorded session opened read-only', () => {
  it('names the session instead of the listen address, without the proxy switches or a rate', () => {
    const s = statusText({ ...facts, readOnly: true, session: 'demo', intercept: null, listen: '', mode: '' }, 120);
    expect(s).toHaveLength(120);
    expect(s).toContain('session demo (read-only)');
    expect(s).toContain('3/10 flows');
    for (const gone of ['cache', 'req/s', 'regular']) expect(s).not.toContain(gone);
  });

  it('keeps the session name longest when narrow', () => {
    const s = statusText({ ...facts, readOnly: true, session: 'demo', listen: '', mode: '' }, 50);
    expect(s).toContain('session demo (read-only)');
  });
});
