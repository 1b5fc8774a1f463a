import { describe, expect, it } from 'vitest';
import { parseMode } from '../../../src/config/mode.js';

describe('parseMode', () => {
  it('parses each mode', () => {
    expect(parseMode('regular')).toEqual({ kind: 'regular' });
    expect(parseMode('socks5')).toEqual({ kind: 'socks5' });
    expect(parseMode('reverse')).toEqual({ kind: 'reverse', urls: [] });
    expect(parseMode('reverse:http://127.0.0.1:3001, http://127.0.0.1:3002')).toEqual({ kind: 'reverse', urls: ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'] });
    const up = parseMode('upstream:http://u:p@127.0.0.1:3128');
    expect(up.kind).toBe('upstream');
    if (up.kind === 'upstream') expect([up.proxy.hostname, up.proxy.port, up.proxy.username]).toEqual(['127.0.0.1', '3128', 'u']);
  });

  it('refuses bad modes with a message naming the problem', () => {
    expect(() => parseMode('reverse:ftp://x')).toThrow(/not an http:\/\/ or https:\/\/ URL/);
    expect(() => parseMode('reverse:,')).toThrow(/at least one backend/);
    expect(() => parseMode('upstream:https://127.0.0.1:3128')).toThrow(/only http:\/\/ parent proxies/);
    expect(() => parseMode('upstream:nonsense')).toThrow(/not an http:\/\/ URL/);
    expect(() => parseMode('bridge')).toThrow(/expected regular/);
  });
});
