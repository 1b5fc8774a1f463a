import { describe, expect, it } from 'vitest';
import type { Flow } from '../../../src/proxy/core/flow.js';
import { elideMiddle, fit, flowMarkers, formatBytesLong, formatDuration, formatSize, shortType, statusRole } from '../../../src/tui/format.js';
import { makeFlow, type DeepPartial } from '../../helpers/make-flow.js';

describe('formatSize', () => {
  it.each([
    [0, '0'],
    [512, '512'],
    [1023, '1023'],
    [1024, '1.0k'],
    [1536, '1.5k'],
    [34 * 1024, '34k'],
    [1024 * 1024 * 1.25, '1.3M'],
    [3 * 1024 ** 3, '3.0G'],
  ])('%d → %s', (n, s) => expect(formatSize(n)).toBe(s));
});

describe('formatBytesLong', () => {
  it.each([
    [12, '12 B'],
    [2048, '2.0 KiB'],
    [4 * 1024 * 1024, '4.0 MiB'],
  ])('%d → %s', (n, s) => expect(formatBytesLong(n)).toBe(s));
});

describe('formatDuration', () => {
  it.each<[number | null, string]>([
    [null, '…'],
    [0.25, '250us'],
    [12.4, '12ms'],
    [999, '999ms'],
    [1250, '1.25s'],
    [12_345, '12.3s'],
    [125_000, '2m05s'],
  ])('%s → %s', (ms, s) => expect(formatDuration(ms)).toBe(s));
});

describe('elideMiddle', () => {
  it.each([
    ['/short', 10, '/short'],
    ['/api/v1/users/12345/profile', 15, '/api/v1…profile'],
    ['abcdef', 1, '…'],
    ['abcdef', 0, ''],
    ['abcdef', 2, 'a…'],
  ])('%s in %d → %s', (text, w, out) => {
    expect(elideMiddle(text, w)).toBe(out);
    expect(elideMiddle(text, w).length).toBeLessThanOrEqual(Math.max(0, w));
  });
});

describe('fit', () => {
  it.each<[string, number, 'left' | 'right', string]>([
    ['ab', 4, 'left', 'ab  '],
    ['ab', 4, 'right', '  ab'],
    ['abcdef', 4, 'left', 'abc…'],
    ['abc', 0, 'left', ''],
  ])('%j %d %s', (t, w, a, out) => expect(fit(t, w, a)).toBe(out));
});

describe('statusRole (colour class)', () => {
  it.each([
    [101, 'status1'],
    [200, 'status2'],
    [204, 'status2'],
    [301, 'status3'],
    [404, 'status4'],
    [500, 'status5'],
    [599, 'status5'],
  ])('%d → %s', (status, role) => expect(statusRole(status)).toBe(role));
});

describe('shortType', () => {
  it.each<[string | undefined, string]>([
    [undefined, ''],
    ['application/json; charset=utf-8', 'json'],
    ['application/problem+json', 'json'],
    ['text/html', 'html'],
    ['text/css', 'css'],
    ['application/javascript', 'js'],
    ['text/javascript', 'js'],
    ['application/x-www-form-urlencoded', 'form'],
    ['multipart/form-data; boundary=x', 'multi'],
    ['application/xml', 'xml'],
    ['image/svg+xml', 'xml'],
    ['image/png', 'png'],
    ['font/woff2', 'woff2'],
    ['application/vnd.api+json', 'json'],
    ['application/x-protobuf', 'proto'],
    ['application/octet-stream', 'bin'],
  ])('%s → %s', (ct, s) => expect(shortType(ct)).toBe(s));
});

describe('flowMarkers', () => {
  it.each<[string, DeepPartial<Flow>, string]>([
    ['plain http', {}, ''],
    ['https', { request: { scheme: 'https' } }, 'S'],
    ['h2', { request: { scheme: 'https', httpVersion: '2' } }, '2S'],
    ['websocket', { websocket: {} }, 'W'],
    ['paused', { phase: 'request-paused', response: null }, 'P'],
    ['error', { error: { code: 'UPSTREAM_REFUSED' }, response: null }, 'E'],
    ['replayed', { tags: ['replay-of:abc'] }, 'R'],
    // What rules did has its own column (proxy-action.ts), not a flag.
    ['blocked and cached are not flags', { tags: ['blocked', 'cache:HIT'] }, ''],
    ['several, most important first', { tags: ['replay-of:x', 'blocked'], request: { scheme: 'https' }, error: { code: 'KILLED' } }, 'ERS'],
  ])('%s → %j', (_name, overrides, chars) => {
    expect(flowMarkers(makeFlow(overrides)).map((m) => m.char).join('')).toBe(chars);
  });
});
