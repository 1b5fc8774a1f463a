import { assertNever } from '../core/assert-never.js';
import { filterRegex, type FilterNode } from './ast.js';
import { lookupFilter, type FlagFilterName, type RegexFilterName } from './catalog.js';
import { syntaxErrorAt, type FilterErrorCode, type FilterSyntaxError } from './errors.js';
import { Lexer, type Token } from './lexer.js';

/**
 * Parse a filter expression into its AST; throws `FilterSyntaxError`.
 *
 * Grammar (precedence `!` > `&` > `|`; juxtaposition is `&`, as in mitmproxy):
 *
 *     or      := and ("|" and)*
 *     and     := unary ("&"? unary)*
 *     unary   := "!" unary | primary
 *     primary := "(" or ")" | "~" name argument? | word
 */
export function parseFilterExpression(expression: string): FilterNode {
  return new Parser(expression).parse();
}

/** Limit on nested `(` and `!`. */
export const MAX_NESTING = 200;

/** The operator (or `(`) just before the operand being parsed; null at the start or implicit `&`. */
type After = '!' | '&' | '|' | '(' | null;

class Parser {
  private readonly lexer: Lexer;
  private token: Token;
  private depth = 0;

  constructor(private readonly source: string) {
    this.lexer = new Lexer(source);
    this.token = this.lexer.next();
  }

  parse(): FilterNode {
    if (this.token.type === 'end') throw syntaxErrorAt(this.source, 0, 'EMPTY', 'empty filter expression');
    const node = this.parseOr(null);
    // parseOr stops only at the end or at a `)` that no `(` opened. (`current()` because TS
    // would keep the narrowing of `this.token` from above across the calls that advanced it.)
    const rest = this.current();
    if (rest.type !== 'end') throw this.error(rest, 'UNMATCHED_PAREN', 'unmatched )');
    return node;
  }

  private parseOr(after: After): FilterNode {
    const first = this.parseAnd(after);
    if (this.token.type !== '|') return first;
    const operands = [first];
    while (this.token.type === '|') {
      this.advance();
      operands.push(this.parseAnd('|'));
    }
    return { type: 'or', operands };
  }

  private parseAnd(after: After): FilterNode {
    const first = this.parseUnary(after);
    const operands = [first];
    for (;;) {
      if (this.token.type === '&') {
        this.advance();
        operands.push(this.parseUnary('&'));
      } else if (startsOperand(this.token)) {
        operands.push(this.parseUnary(null));
      } else {
        break;
      }
    }
    return operands.length === 1 ? first : { type: 'and', operands };
  }

  private parseUnary(after: After): FilterNode {
    // Every `!` and `(` recurses through here; bound it so a pasted `((((…` is a syntax error and
    // not a stack overflow (parseFilter must not throw), and compile/describe recurse as deep.
    if (++this.depth > MAX_NESTING) {
      throw this.error(this.token, 'TOO_DEEP', `nested more than ${MAX_NESTING} levels deep`);
    }
    try {
      if (this.token.type === '!') {
        this.advance();
        return { type: 'not', operand: this.parseUnary('!') };
      }
      return this.parsePrimary(after);
    } finally {
      this.depth--;
    }
  }

  private parsePrimary(after: After): FilterNode {
    const token = this.token;
    switch (token.type) {
      case '(': {
        this.advance();
        const inner = this.parseOr('(');
        if (this.token.type !== ')') throw this.error(token, 'UNCLOSED_PAREN', 'unclosed (');
        this.advance();
        return inner;
      }
      case 'filter':
        return this.parseFilter(token);
      case 'word': {
        this.checkRegex(token, 'invalid regular expression');
        this.advance();
        return { type: 'regex', name: 'u', pattern: token.text, bare: true };
      }
      case '&':
      case '|':
      case ')':
      case 'end':
      case '!':
        throw this.expectedOperand(token, after);
      default:
        return assertNever(token.type, 'token');
    }
  }

  private parseFilter(token: Token): FilterNode {
    if (token.text === '') throw this.error(token, 'EXPECTED_FILTER_NAME', 'expected a filter name after ~');
    const found = lookupFilter(token.text);
    if (found === undefined) throw this.error(token, 'UNKNOWN_FILTER', `unknown filter ~${token.text}`);
    const { name, spec } = found;
    if (spec.argument === 'none') {
      this.advance();
      return { type: 'flag', name: name as FlagFilterName };
    }
    // The lexer still stands right after the filter name: read the argument in argument mode.
    const arg = this.lexer.argument();
    if (arg.type !== 'word') throw this.error(arg, 'EXPECTED_ARGUMENT', `expected an argument after ~${name}`);
    let node: FilterNode;
    switch (spec.argument) {
      case 'regex':
        this.checkRegex(arg, `invalid regular expression after ~${name}`);
        node = { type: 'regex', name: name as RegexFilterName, pattern: arg.text, bare: false };
        break;
      case 'status':
        // RFC 9110 §15: a status code is a three-digit integer.
        if (!/^[1-9][0-9]{2}$/.test(arg.text)) {
          throw this.error(arg, 'INVALID_STATUS', `~${name} expects a three-digit status code, got "${arg.text}"`);
        }
        node = { type: 'status', status: Number(arg.text) };
        break;
      case 'text':
        if (arg.text === '') throw this.error(arg, 'EXPECTED_ARGUMENT', `expected an argument after ~${name}`);
        node = { type: 'tag', tag: arg.text };
        break;
      default:
        return assertNever(spec.argument, 'filter argument kind');
    }
    this.advance();
    return node;
  }

  private checkRegex(token: Token, what: string): void {
    try {
      filterRegex(token.text);
    } catch (err) {
      // V8 says "Invalid regular expression: /(/i: Unterminated group"; keep the reason only.
      const text = err instanceof Error ? err.message : String(err);
      const reason = text.slice(text.lastIndexOf(': ') + 2);
      throw this.error(token, 'INVALID_REGEX', `${what}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`);
    }
  }

  private expectedOperand(token: Token, after: After): FilterSyntaxError {
    if (after !== null) return this.error(token, 'EXPECTED_FILTER', `expected a filter after ${after}`);
    if (token.type === ')') return this.error(token, 'UNMATCHED_PAREN', 'unmatched )');
    return this.error(token, 'EXPECTED_FILTER', `expected a filter before ${token.type}`);
  }

  private current(): Token {
    return this.token;
  }

  private advance(): void {
    this.token = this.lexer.next();
  }

  private error(token: Token, code: FilterErrorCode, message: string): FilterSyntaxError {
    return syntaxErrorAt(this.source, token.index, code, message);
  }
}

/** Tokens that begin an operand, so that two operands side by side mean `&`. */
function startsOperand(token: Token): boolean {
  return token.type === '!' || token.type === '(' || token.type === 'filter' || token.type === 'word';
}
