import type { Line, Segment } from '../doc.js';

/** Bodies labelled JSON longer than this are not validated before formatting. */
const TRUST_LABEL_ABOVE = 1024 * 1024;

/**
 * Re-indent JSON text without parsing values: numbers keep every digit (a 64-bit id must not
 * become `12345678901234567000` in a debugging tool) and strings keep their escapes. Returns null
 * when the text is not JSON (`trusted`: the content type says JSON).
 */
export function prettyJson(text: string, opts: { indent?: number; trusted?: boolean } = {}): string | null {
  const indent = opts.indent ?? 2;
  const src = text.trim();
  if (src === '' || !/^[[{"\d\-tfn]/.test(src)) return null;
  // Validating costs as much as formatting; a large body labelled JSON is formatted as it is (the
  // formatter is lenient: broken JSON only indents oddly).
  if (!opts.trusted || src.length < TRUST_LABEL_ABOVE) {
    try {
      JSON.parse(src);
    } catch {
      // Not JSON: the caller shows it as text.
      return null;
    }
  }
  const pads: string[] = [];
  const pad = (d: number) => (pads[d] ??= '\n' + ' '.repeat(d * indent));
  const out: string[] = [];
  let depth = 0;
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const c = src.charCodeAt(i);
    if (c === 0x22) {
      // A string: copy it whole, escapes included.
      let j = i + 1;
      while (j < n) {
        const d = src.charCodeAt(j);
        if (d === 0x5c) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      out.push(src.slice(i, j + 1));
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      const close = c === 0x7b ? 0x7d : 0x5d;
      let j = i + 1;
      while (j < n && isSpace(src.charCodeAt(j))) j++;
      if (src.charCodeAt(j) === close) {
        out.push(c === 0x7b ? '{}' : '[]');
        i = j;
      } else {
        depth++;
        out.push(c === 0x7b ? '{' : '[', pad(depth));
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      out.push(pad(depth), c === 0x7d ? '}' : ']');
    } else if (c === 0x2c) {
      out.push(',', pad(depth));
    } else if (c === 0x3a) {
      out.push(': ');
    } else if (!isSpace(c)) {
      // A number or literal: copy the whole run at once (every digit kept).
      let j = i + 1;
      while (j < n && !isDelimiter(src.charCodeAt(j))) j++;
      out.push(src.slice(i, j));
      i = j - 1;
    }
  }
  return out.join('');
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDelimiter(c: number): boolean {
  return isSpace(c) || c === 0x2c || c === 0x3a || c === 0x7b || c === 0x7d || c === 0x5b || c === 0x5d || c === 0x22;
}

const TOKEN = /("(?:[^"\\]|\\.)*(?:"|$))(\s*:)?|(-?\d[\d.eE+-]*)|(true|false|null)|([{}[\],:])|(\s+)|([^\s"{}[\],:]+)/g;

/** Colour one row of pretty-printed JSON (rows are highlighted lazily, one at a time). */
export function jsonHighlight(row: string): Line {
  const out: Segment[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(row); m; m = TOKEN.exec(row)) {
    if (m[1] !== undefined) {
      if (m[2] !== undefined) {
        out.push({ text: m[1], role: 'key' });
        out.push({ text: m[2], role: 'punct' });
      } else out.push({ text: m[1], role: 'string' });
    } else if (m[3] !== undefined) out.push({ text: m[3], role: 'number' });
    else if (m[4] !== undefined) out.push({ text: m[4], role: 'literal' });
    else if (m[5] !== undefined) out.push({ text: m[5], role: 'punct' });
    else out.push({ text: m[0] });
  }
  return out;
}

/** `application/json`, `application/problem+json`, `text/json` … */
export function isJsonType(contentType: string): boolean {
  return /[/+]json\b/i.test(contentType);
}
