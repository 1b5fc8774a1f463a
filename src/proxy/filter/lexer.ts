import { syntaxErrorAt } from './errors.js';

export type TokenType = '(' | ')' | '!' | '&' | '|' | 'filter' | 'word' | 'end';

export interface Token {
  type: TokenType;
  /** UTF-16 offset of the token's first character in the expression. */
  index: number;
  /** For `filter` the name after `~` (may be empty); for `word` the value, quotes removed. */
  text: string;
}

/**
 * Splits a filter expression into tokens. It has two modes because an argument is read
 * differently from an operator position: after `~u`, `!x&y=1` is one regex, while at an operator
 * position `!` means not. The parser asks for `argument()` right after a filter that takes one.
 *
 * Words (bare or arguments) run to whitespace or a parenthesis, so `~u a=1&b=2` and
 * `~d google|facebook` keep their `&` and `|`, as in mitmproxy. Quote an argument to put spaces or
 * parentheses in it.
 */
export class Lexer {
  private pos = 0;

  constructor(private readonly source: string) {}

  /** The next token at an operator position. */
  next(): Token {
    this.skipSpace();
    const start = this.pos;
    if (start >= this.source.length) return { type: 'end', index: start, text: '' };
    const ch = this.source[start]!;
    switch (ch) {
      case '(':
      case ')':
      case '!':
      case '&':
      case '|':
        this.pos++;
        return { type: ch, index: start, text: ch };
      case '~':
        this.pos++;
        return { type: 'filter', index: start, text: this.readWhile(isNameChar) };
      case '"':
      case "'":
        return this.quoted();
      default:
        return { type: 'word', index: start, text: this.readWhile(isWordChar) };
    }
  }

  /**
   * The argument of the filter just read: a quoted string or a word, where `!`, `&`, `|` and `~`
   * are ordinary characters. Returns a non-word token (`end`, `(`, `)`) when there is none.
   */
  argument(): Token {
    this.skipSpace();
    const start = this.pos;
    if (start >= this.source.length) return { type: 'end', index: start, text: '' };
    const ch = this.source[start]!;
    if (ch === '(' || ch === ')') return { type: ch, index: start, text: ch };
    if (ch === '"' || ch === "'") return this.quoted();
    return { type: 'word', index: start, text: this.readWhile(isWordChar) };
  }

  /**
   * A quoted string. A backslash escapes the next character only for finding the closing quote:
   * `\"` becomes `"`, every other backslash sequence is kept as written, so regex escapes such as
   * `"api\.example"` survive (mitmproxy strips them, which surprises people).
   */
  private quoted(): Token {
    const start = this.pos;
    const quote = this.source[start]!;
    let text = '';
    let i = start + 1;
    while (i < this.source.length) {
      const ch = this.source[i]!;
      if (ch === quote) {
        this.pos = i + 1;
        return { type: 'word', index: start, text };
      }
      if (ch === '\\' && i + 1 < this.source.length) {
        const escaped = this.source[i + 1]!;
        text += escaped === quote ? quote : ch + escaped;
        i += 2;
        continue;
      }
      text += ch;
      i++;
    }
    throw syntaxErrorAt(this.source, start, 'UNCLOSED_QUOTE', `unclosed ${quote}`);
  }

  private skipSpace(): void {
    while (this.pos < this.source.length && isSpace(this.source[this.pos]!)) this.pos++;
  }

  private readWhile(accept: (ch: string) => boolean): string {
    const start = this.pos;
    while (this.pos < this.source.length && accept(this.source[this.pos]!)) this.pos++;
    return this.source.slice(start, this.pos);
  }
}

function isSpace(ch: string): boolean {
  return /\s/.test(ch);
}

function isWordChar(ch: string): boolean {
  return ch !== '(' && ch !== ')' && !isSpace(ch);
}

/** A filter name ends where an operator, a quote or a word boundary starts: `~q&~s`, `~d"x"`. */
function isNameChar(ch: string): boolean {
  return isWordChar(ch) && ch !== '!' && ch !== '&' && ch !== '|' && ch !== '"' && ch !== "'";
}
