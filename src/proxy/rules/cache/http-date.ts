/**
 * HTTP-date (RFC 9110 §5.6.7): recipients accept the preferred IMF-fixdate and the two obsolete
 * forms. Anything else is invalid (null); callers treat an invalid `Expires` as a time in the past
 * (RFC 9111 §5.3).
 */

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };

// `Sun, 06 Nov 1994 08:49:37 GMT` (a one-digit day and `UTC` are tolerated)
const IMF = /^[a-z]{3},\s*(\d{1,2})\s+([a-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s+(?:gmt|utc)$/i;
// `Sunday, 06-Nov-94 08:49:37 GMT`
const RFC850 = /^[a-z]+,\s*(\d{1,2})-([a-z]{3})-(\d{2})\s+(\d{2}):(\d{2}):(\d{2})\s+(?:gmt|utc)$/i;
// `Sun Nov  6 08:49:37 1994`
const ASCTIME = /^[a-z]{3}\s+([a-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})$/i;

/**
 * Epoch milliseconds of an HTTP-date, or null when it is none. `reference` (epoch ms, normally
 * the time the message was received) resolves the two-digit years of the RFC 850 form: a year
 * more than 50 years ahead of it is taken from the previous century (RFC 9110 §5.6.7).
 */
export function parseHttpDate(value: string | undefined, reference: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  let m = IMF.exec(text);
  if (m) return build(Number(m[3]), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = RFC850.exec(text);
  if (m) {
    const refYear = Number.isFinite(reference) ? new Date(reference).getUTCFullYear() : 2000;
    let year = Math.floor(refYear / 100) * 100 + Number(m[3]);
    if (year > refYear + 50) year -= 100;
    return build(year, m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME.exec(text);
  if (m) return build(Number(m[6]), m[1]!, Number(m[2]), m[3]!, m[4]!, m[5]!);
  return null;
}

/** An IMF-fixdate, e.g. `Mon, 01 Jan 2024 00:00:00 GMT`. */
export function formatHttpDate(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toUTCString();
}

function build(year: number, monthName: string, day: number, hh: string, mm: string, ss: string): number | null {
  const month = MONTHS[monthName.toLowerCase()];
  const h = Number(hh);
  const min = Number(mm);
  // A leap second (60) is read as 59: Date cannot represent it.
  const s = Math.min(Number(ss), 59);
  if (month === undefined || h > 23 || min > 59 || Number(ss) > 60 || day < 1) return null;
  const t = Date.UTC(year, month, day, h, min, s);
  // Date.UTC rolls 31 Feb over into March; such a date is invalid.
  return new Date(t).getUTCDate() === day ? t : null;
}
