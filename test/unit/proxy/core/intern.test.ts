/**
 * intern(): flows share one copy of repeated strings. Sharing itself is not observable from
 * JavaScript (strings have no identity), so what is checked here is that the text never changes,
 * whatever the string was cut from and however many strings pass through the table.
 */
import { describe, expect, it } from 'vitest';
import { intern } from '../../../../src/proxy/core/intern.js';

describe('intern', () => {
  it('gives back the same text: short, long, slices of a head, non-ASCII', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nServer: nginx/1.25.3\r\nX-Trace: caf\u00e9 \u{1F600}';
    const pieces = head.split('\r\n').flatMap((l) => l.split(': '));
    for (const s of ['', 'a', 'GET', 'x'.repeat(12), 'y'.repeat(13), 'z'.repeat(256), 'w'.repeat(257), ...pieces]) {
      expect(intern(s)).toBe(s);
      expect(intern(s)).toBe(s); // the second time from the table
      expect(intern(s).length).toBe(s.length);
    }
  });

  it('keeps giving the right text while many distinct strings age through its generations', () => {
    const keep = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
    for (let i = 0; i < 20_000; i++) {
      expect(intern(`date ${i} of many`)).toBe(`date ${i} of many`);
      if (i % 1000 === 0) expect(intern(keep)).toBe(keep);
    }
    expect(intern('date 7 of many')).toBe('date 7 of many');
  });
});
