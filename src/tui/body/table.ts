import type { Line } from '../doc.js';
import { sanitize, wrapPlain } from '../doc.js';
import type { Role } from '../theme.js';

/**
 * Name/value rows as a two-column table: names padded to a common width (capped at a third of the
 * pane), values wrapped under their column.
 */
export function tableLines(rows: ReadonlyArray<readonly [string, string]>, width: number, nameRole: Role = 'key'): Line[] {
  if (rows.length === 0) return [];
  const nameWidth = Math.min(Math.max(...rows.map(([n]) => n.length)), Math.max(8, Math.floor(width / 3)));
  const valueWidth = Math.max(8, width - nameWidth - 2);
  const out: Line[] = [];
  for (const [rawName, rawValue] of rows) {
    const name = sanitize(rawName).replace(/\n/g, ' ');
    const value = sanitize(rawValue).replace(/\n/g, ' ');
    const names = wrapPlain(name, nameWidth);
    const values = wrapPlain(value, valueWidth);
    const count = Math.max(names.length, values.length);
    for (let i = 0; i < count; i++) {
      out.push([
        { text: (names[i] ?? '').padEnd(nameWidth), role: nameRole },
        { text: '  ' },
        { text: values[i] ?? '' },
      ]);
    }
  }
  return out;
}

/** Decoded name/value pairs of a query string or an urlencoded form (order and repeats kept). */
export function formPairs(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of new URLSearchParams(text)) out.push([k, v]);
  return out;
}
