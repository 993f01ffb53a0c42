import { badRequest, type ScimError, type ScimType } from '../errors.ts';

/**
 * Lexical layer of the SCIM filter / PATCH path grammar (RFC 7644 §3.4.2.2, §3.5.2).
 * Words are attribute paths, operators and keywords alike; the parser decides which is which.
 */
export type Token =
  | { t: 'word'; v: string; pos: number; end: number }
  | { t: 'string'; v: string; pos: number; end: number }
  | { t: 'number'; v: number; pos: number; end: number }
  | { t: '(' | ')' | '[' | ']' | 'eof'; pos: number; end: number };

/** Longest filter or path text accepted; longer input is refused before any work is done. */
export const MAX_FILTER_LENGTH = 4096;

const WORD_CHAR = /[A-Za-z0-9_$:.-]/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** Builds the error every lexing/parsing failure ends in: a 400 with the 1-based position. */
export function syntaxError(code: ScimType, message: string, pos: number): ScimError {
  return badRequest(code, `${message} at position ${pos + 1}`);
}

class Lexer {
  private i = 0;
  readonly tokens: Token[] = [];

  constructor(
    private readonly text: string,
    private readonly code: ScimType,
  ) {}

  run(): Token[] {
    const { text } = this;
    while (this.i < text.length) {
      const c = text.charAt(this.i);
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.i++;
      else if (c === '(' || c === ')' || c === '[' || c === ']') this.punct(c);
      else if (c === '"') this.string();
      else if (isDigit(c) || (c === '-' && isDigit(text.charAt(this.i + 1)))) this.number();
      else if (WORD_CHAR.test(c)) this.word();
      else throw syntaxError(this.code, `Unexpected character '${c}'`, this.i);
    }
    this.tokens.push({ t: 'eof', pos: this.i, end: this.i });
    return this.tokens;
  }

  private punct(c: '(' | ')' | '[' | ']'): void {
    this.tokens.push({ t: c, pos: this.i, end: this.i + 1 });
    this.i++;
  }

  private word(): void {
    const start = this.i;
    while (this.i < this.text.length && WORD_CHAR.test(this.text.charAt(this.i))) this.i++;
    this.tokens.push({ t: 'word', v: this.text.slice(start, this.i), pos: start, end: this.i });
  }

  private number(): void {
    const start = this.i;
    NUMBER.lastIndex = start;
    const m = NUMBER.exec(this.text);
    const end = start + (m?.[0].length ?? 0);
    if (!m || WORD_CHAR.test(this.text.charAt(end))) {
      // Not a number but a bare word such as an unquoted date (2015-10-10T14:38:21-07:00):
      // the parser decides whether a bare word is acceptable where it stands.
      this.word();
      return;
    }
    this.tokens.push({ t: 'number', v: Number(m[0]), pos: start, end });
    this.i = end;
  }

  /** A JSON string literal (RFC 8259 §7): escapes decoded, raw control characters refused. */
  private string(): void {
    const start = this.i;
    let out = '';
    this.i++;
    for (;;) {
      if (this.i >= this.text.length) throw syntaxError(this.code, 'Unterminated string', start);
      const c = this.text.charAt(this.i);
      if (c === '"') break;
      if (c.charCodeAt(0) < 0x20) {
        throw syntaxError(this.code, 'Control character in string', this.i);
      }
      if (c === '\\') out += this.escape();
      else {
        out += c;
        this.i++;
      }
    }
    this.i++;
    // `\u0000` decodes to NUL, which PostgreSQL refuses in a bound text value (a 500).
    if (out.includes('\u0000')) throw syntaxError(this.code, 'NUL in string', start);
    this.tokens.push({ t: 'string', v: out, pos: start, end: this.i });
  }

  private escape(): string {
    const at = this.i;
    const e = this.text.charAt(at + 1);
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      this.i += 2;
      return simple;
    }
    const hex = this.text.slice(at + 2, at + 6);
    if (e === 'u' && HEX4.test(hex)) {
      this.i += 6;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    throw syntaxError(this.code, 'Invalid escape sequence in string', at);
  }
}

const isDigit = (c: string) => c >= '0' && c <= '9';

/**
 * Splits filter or path text into tokens. Enforces the length cap first so a huge input costs
 * nothing; `code` is the scimType errors carry (invalidFilter for filters, invalidPath for paths).
 */
export function tokenize(text: string, code: ScimType): Token[] {
  if (text.length > MAX_FILTER_LENGTH) {
    throw badRequest(code, `Longer than ${MAX_FILTER_LENGTH} characters`);
  }
  return new Lexer(text, code).run();
}
