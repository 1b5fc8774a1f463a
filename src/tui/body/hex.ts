import type { Doc, Line } from '../doc.js';

/** Bytes per hex row: 16 when the pane is wide enough for the classic layout, else 8. */
export function hexBytesPerRow(width: number): number {
  return width >= 78 ? 16 : 8;
}

function printable(b: number): string {
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
}

/** One hex row: `00000010  48 65 6c 6c 6f 20 77 6f  72 6c 64 0a        |Hello world.|`. */
export function hexRow(bytes: Buffer, offset: number, perRow: number): string {
  const end = Math.min(bytes.length, offset + perRow);
  let hex = '';
  let ascii = '';
  for (let i = 0; i < perRow; i++) {
    if (i > 0) hex += i === perRow / 2 ? '  ' : ' ';
    const at = offset + i;
    if (at < end) {
      hex += bytes[at]!.toString(16).padStart(2, '0');
      ascii += printable(bytes[at]!);
    } else hex += '  ';
  }
  return `${offset.toString(16).padStart(8, '0')}  ${hex}  |${ascii}|`;
}

/** A hex dump computed row by row as it is shown. */
export function hexDoc(bytes: Buffer, width: number): Doc {
  const perRow = hexBytesPerRow(width);
  const length = Math.ceil(bytes.length / perRow);
  const text = (i: number) => (i >= 0 && i < length ? hexRow(bytes, i * perRow, perRow) : '');
  return {
    length,
    text,
    line: (i): Line => {
      const row = text(i);
      return [
        { text: row.slice(0, 8), role: 'muted' },
        { text: row.slice(8, row.indexOf('|')) },
        { text: row.slice(row.indexOf('|')), role: 'muted' },
      ];
    },
  };
}
