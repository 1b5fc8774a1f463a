import { describe, expect, it } from 'vitest';
import { formatHttpDate, parseHttpDate } from '../../../../../src/proxy/rules/cache/http-date.js';

const REF = Date.UTC(2024, 0, 1);

describe('parseHttpDate (RFC 9110 §5.6.7)', () => {
  it.each<[string, string | undefined, number | null]>([
    ['IMF-fixdate', 'Sun, 06 Nov 1994 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['IMF-fixdate, lower case', 'sun, 06 nov 1994 08:49:37 gmt', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['IMF-fixdate, one-digit day', 'Sun, 6 Nov 1994 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['IMF-fixdate with UTC', 'Sun, 06 Nov 1994 08:49:37 UTC', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['surrounding spaces', '  Sun, 06 Nov 1994 08:49:37 GMT ', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['RFC 850', 'Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['RFC 850, year not over 50 years ahead', 'Monday, 01-Jan-24 00:00:00 GMT', Date.UTC(2024, 0, 1)],
    ['RFC 850, year 74 ahead goes back a century', 'Thursday, 01-Jan-98 00:00:00 GMT', Date.UTC(1998, 0, 1)],
    ['asctime', 'Sun Nov  6 08:49:37 1994', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['asctime, two-digit day', 'Sun Nov 16 08:49:37 1994', Date.UTC(1994, 10, 16, 8, 49, 37)],
    ['leap second read as :59', 'Sat, 31 Dec 2016 23:59:60 GMT', Date.UTC(2016, 11, 31, 23, 59, 59)],
    ['"0" (RFC 9111 §5.3: invalid, i.e. in the past)', '0', null],
    ['-1', '-1', null],
    ['empty', '', null],
    ['undefined', undefined, null],
    ['a number of seconds', '1700000000', null],
    ['ISO 8601 is not an HTTP-date', '2024-01-01T00:00:00Z', null],
    ['no zone', 'Sun, 06 Nov 1994 08:49:37', null],
    ['another zone', 'Sun, 06 Nov 1994 08:49:37 PST', null],
    ['31 February', 'Sat, 31 Feb 2024 00:00:00 GMT', null],
    ['hour 24', 'Sun, 06 Nov 1994 24:00:00 GMT', null],
    ['unknown month', 'Sun, 06 Foo 1994 08:49:37 GMT', null],
  ])('%s', (_case, value, expected) => {
    expect(parseHttpDate(value, REF)).toBe(expected);
  });

  it('formats IMF-fixdate, dropping milliseconds', () => {
    expect(formatHttpDate(Date.UTC(2024, 0, 1, 12, 0, 5, 999))).toBe('Mon, 01 Jan 2024 12:00:05 GMT');
    expect(parseHttpDate(formatHttpDate(REF + 5000), REF)).toBe(REF + 5000);
  });
});
