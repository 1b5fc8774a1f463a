import type { Line, Segment } from '../doc.js';

/** HTML elements that never have content or a closing tag. */
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
/** HTML elements whose content is raw text (not markup). */
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title']);

const TOKENS = /<!--[\s\S]*?(?:-->|$)|<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<![^>]*>?|<\?[\s\S]*?(?:\?>|$)|<\/?[A-Za-z][^>]*>?|[^<]+|</g;

/** Short text between an opening and its closing tag stays on the tag's line. */
const INLINE_TEXT_MAX = 60;

/**
 * Indent XML or HTML, one tag or text run per line (comments, CDATA and raw text such as `<script>`
 * bodies are kept as they are). Lenient: unbalanced markup only indents oddly.
 */
export function indentMarkup(text: string, html: boolean, indent = 2): string {
  const tokens = text.match(TOKENS) ?? [];
  const lines: string[] = [];
  let depth = 0;
  const emit = (s: string, d = depth) => lines.push(' '.repeat(Math.max(0, d) * indent) + s);
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (!tok.startsWith('<') || tok === '<') {
      for (const part of tok.split('\n')) {
        const t = part.trim();
        if (t) emit(t);
      }
      continue;
    }
    if (tok.startsWith('</')) {
      depth--;
      emit(tok);
      continue;
    }
    if (tok.startsWith('<!') || tok.startsWith('<?')) {
      emit(tok);
      continue;
    }
    const name = /^<([^\s/>]+)/.exec(tok)?.[1]?.toLowerCase() ?? '';
    const selfClosing = tok.endsWith('/>') || (html && VOID.has(name));
    if (selfClosing) {
      emit(tok);
      continue;
    }
    if (html && RAW_TEXT.has(name)) {
      // Everything up to the matching close tag is content, even if it looks like markup.
      let j = i + 1;
      let raw = '';
      while (j < tokens.length && tokens[j]!.toLowerCase() !== `</${name}>`) raw += tokens[j++];
      const close = j < tokens.length ? tokens[j]! : '';
      if (!raw.includes('\n') && raw.trim().length <= INLINE_TEXT_MAX) emit(`${tok}${raw.trim()}${close}`);
      else {
        emit(tok);
        for (const part of raw.split('\n')) if (part.trim()) emit(part.trimEnd(), depth + 1);
        if (close) emit(close);
      }
      i = j;
      continue;
    }
    const next = tokens[i + 1];
    const after = tokens[i + 2];
    if (next !== undefined && !next.startsWith('<') && after?.toLowerCase() === `</${name}>` && !next.trim().includes('\n') && next.trim().length <= INLINE_TEXT_MAX) {
      emit(`${tok}${next.trim()}${after}`);
      i += 2;
      continue;
    }
    if (next?.toLowerCase() === `</${name}>`) {
      emit(`${tok}${next}`);
      i += 1;
      continue;
    }
    emit(tok);
    depth++;
  }
  return lines.join('\n');
}

const ATTRS = /([^\s=/>]+)(\s*=\s*)("[^"]*"?|'[^']*'?|[^\s>]*)|(\s+)|([\s\S])/g;

function pushTag(tag: string, out: Segment[]): void {
  if (tag.startsWith('<!--') || tag.startsWith('<![CDATA[')) {
    out.push({ text: tag, role: 'muted' });
    return;
  }
  const m = /^(<\/?[!?]?)([^\s/>]*)([\s\S]*?)(\/?>|\?>)?$/.exec(tag);
  if (!m) {
    out.push({ text: tag });
    return;
  }
  out.push({ text: m[1]!, role: 'punct' });
  if (m[2]) out.push({ text: m[2], role: 'tag' });
  const attrs = m[3] ?? '';
  ATTRS.lastIndex = 0;
  for (let a = ATTRS.exec(attrs); a; a = ATTRS.exec(attrs)) {
    if (a[1] !== undefined) {
      out.push({ text: a[1], role: 'attr' });
      out.push({ text: a[2]!, role: 'punct' });
      if (a[3]) out.push({ text: a[3], role: 'string' });
    } else out.push({ text: a[0] });
  }
  if (m[4]) out.push({ text: m[4], role: 'punct' });
}

/** Colour one row of indented markup. */
export function markupHighlight(row: string): Line {
  const out: Segment[] = [];
  let i = 0;
  while (i < row.length) {
    if (row[i] === '<') {
      const close = row.startsWith('<!--', i) ? row.indexOf('-->', i) : row.indexOf('>', i);
      const stop = close < 0 ? row.length : close + (row.startsWith('<!--', i) ? 3 : 1);
      pushTag(row.slice(i, stop), out);
      i = stop;
    } else {
      const next = row.indexOf('<', i);
      const stop = next < 0 ? row.length : next;
      out.push({ text: row.slice(i, stop) });
      i = stop;
    }
  }
  return out;
}

export function isHtmlType(contentType: string): boolean {
  return /^(text\/html|application\/xhtml\+xml)\b/i.test(contentType);
}

export function isXmlType(contentType: string): boolean {
  return /[/+]xml\b/i.test(contentType);
}
