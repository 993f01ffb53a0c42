import type { ScimType } from '../errors.ts';
import type { CompareOp, FilterNode, FilterValue, PatchPath } from './ast.ts';
import { isAttrName, isAttrPath, parseAttributeList as parseAttributeListSyntax } from './path.ts';
import { syntaxError, type Token, tokenize } from './tokenize.ts';

/** Deepest nesting of "(", "[" and "not" accepted; deeper input is refused, not recursed into. */
export const MAX_FILTER_DEPTH = 32;

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const isOperatorWord = (w: string) => {
  const l = w.toLowerCase();
  return l === 'pr' || COMPARE_OPS.has(l);
};

const describe = (tok: Token) =>
  tok.t === 'eof'
    ? 'end of input'
    : tok.t === 'string'
      ? 'a string'
      : tok.t === 'number'
        ? `'${tok.v}'`
        : tok.t === 'word'
          ? `'${tok.v}'`
          : `'${tok.t}'`;

/**
 * Recursive descent over RFC 7644 §3.4.2.2 with precedence not > and > or. Keywords and
 * operators are case-insensitive. `not` may prefix a parenthesised group or a single
 * attribute expression (common practice beyond the strict ABNF).
 */
class Parser {
  private i = 0;
  private depth = 0;
  private inValuePath = false;

  constructor(
    private readonly tokens: Token[],
    private readonly code: ScimType,
  ) {}

  filter(): FilterNode {
    const node = this.or();
    this.expectEnd();
    return node;
  }

  patchPath(): PatchPath {
    const pathTok = this.attrPathToken();
    if (this.peek().t !== '[') {
      this.expectEnd();
      return { path: pathTok.v };
    }
    const filter = this.bracket();
    const sub = this.subAttrAfterBracket();
    this.expectEnd();
    return { path: pathTok.v, filter, ...(sub !== undefined && { subAttr: sub }) };
  }

  private or(): FilterNode {
    let left = this.and();
    while (this.isKeyword(this.peek(), 'or')) {
      this.i++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): FilterNode {
    let left = this.unary();
    while (this.isKeyword(this.peek(), 'and')) {
      this.i++;
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): FilterNode {
    const tok = this.peek();
    if (tok.t === '(') {
      this.i++;
      const inner = this.nested(tok, () => this.or());
      this.expect(')', "')'");
      return inner;
    }
    if (this.isNotKeyword()) {
      this.i++;
      return { kind: 'not', filter: this.nested(tok, () => this.unary()) };
    }
    if (tok.t === 'word') return this.attrExp();
    throw this.error(`Expected an attribute path, '(' or 'not' but found ${describe(tok)}`, tok);
  }

  /** attrPath (pr | op value), or attrPath "[" valFilter "]" [".sub" (pr | op value)]. */
  private attrExp(): FilterNode {
    const pathTok = this.attrPathToken();
    if (this.peek().t !== '[') return this.operation(pathTok.v);
    if (this.inValuePath) throw this.error('Value paths cannot be nested', this.peek());
    const filter = this.bracket();
    const sub = this.subAttrAfterBracket();
    if (!sub) return { kind: 'valuePath', path: pathTok.v, filter };
    // `emails[type eq "work"].value eq "x"` (Entra): the same element must satisfy both.
    const tail = this.operation(sub);
    return {
      kind: 'valuePath',
      path: pathTok.v,
      filter: { kind: 'and', left: filter, right: tail },
    };
  }

  private bracket(): FilterNode {
    const open = this.expect('[', "'['");
    this.inValuePath = true;
    const inner = this.nested(open, () => this.or());
    this.inValuePath = false;
    this.expect(']', "']'");
    return inner;
  }

  /** A ".sub" word glued to the closing bracket, if present. */
  private subAttrAfterBracket(): string | undefined {
    const tok = this.peek();
    const close = this.tokens[this.i - 1];
    if (tok.t !== 'word' || !tok.v.startsWith('.') || tok.pos !== close?.end) return undefined;
    const name = tok.v.slice(1);
    if (!isAttrName(name)) throw this.error(`Invalid sub-attribute '${tok.v}'`, tok);
    this.i++;
    return name;
  }

  private operation(path: string): FilterNode {
    const opTok = this.peek();
    const op = opTok.t === 'word' ? opTok.v.toLowerCase() : '';
    if (op === 'pr') {
      this.i++;
      return { kind: 'present', path };
    }
    if (!COMPARE_OPS.has(op)) {
      throw this.error(`Expected an operator after '${path}' but found ${describe(opTok)}`, opTok);
    }
    this.i++;
    return { kind: 'compare', path, op: op as CompareOp, value: this.value() };
  }

  private value(): FilterValue {
    const tok = this.peek();
    this.i++;
    if (tok.t === 'string' || tok.t === 'number') return tok.v;
    const word = tok.t === 'word' ? tok.v.toLowerCase() : '';
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    // Lenient: an unquoted value is read as a string (`userName sw O`, unquoted dates), as
    // Microsoft's SCIM reference collection sends them. Anything not a word is still an error.
    if (tok.t === 'word') return tok.v;
    throw this.error(
      `Expected a value (quoted string, number, true, false or null) but found ${describe(tok)}`,
      tok,
    );
  }

  private attrPathToken(): Token & { t: 'word' } {
    const tok = this.peek();
    if (tok.t !== 'word') {
      throw this.error(`Expected an attribute path but found ${describe(tok)}`, tok);
    }
    if (!isAttrPath(tok.v)) throw this.error(`Invalid attribute path '${tok.v}'`, tok);
    this.i++;
    return tok;
  }

  /**
   * `not` is the negation keyword unless it is itself an attribute name in an attribute
   * expression: "not pr", "not eq \"x\"" name an attribute called "not"; "not eq pr" negates.
   */
  private isNotKeyword(): boolean {
    if (!this.isKeyword(this.peek(), 'not')) return false;
    const next = this.tokens[this.i + 1];
    if (next?.t === '(') return true;
    if (next?.t !== 'word') return false;
    if (!isOperatorWord(next.v)) return true;
    const after = this.tokens[this.i + 2];
    return after?.t === '[' || (after?.t === 'word' && isOperatorWord(after.v));
  }

  private nested<T>(at: Token, body: () => T): T {
    if (++this.depth > MAX_FILTER_DEPTH) {
      throw this.error(`Nested deeper than ${MAX_FILTER_DEPTH} levels`, at);
    }
    const result = body();
    this.depth--;
    return result;
  }

  private isKeyword(tok: Token, word: string): boolean {
    return tok.t === 'word' && tok.v.toLowerCase() === word;
  }

  private peek(): Token {
    // The token list always ends with eof and the parser never advances past it.
    return this.tokens[Math.min(this.i, this.tokens.length - 1)]!;
  }

  private expect(t: Token['t'], label: string): Token {
    const tok = this.peek();
    if (tok.t !== t) throw this.error(`Expected ${label} but found ${describe(tok)}`, tok);
    this.i++;
    return tok;
  }

  private expectEnd(): void {
    const tok = this.peek();
    if (tok.t !== 'eof') throw this.error(`Unexpected ${describe(tok)}`, tok);
  }

  private error(message: string, tok: Token) {
    return syntaxError(this.code, message, tok.pos);
  }
}

/**
 * Parses a `filter` query parameter (or SearchRequest filter) into a tree, once, so nothing
 * downstream ever looks at filter text again. Malformed or over-cap input → 400 invalidFilter.
 */
export function parseFilter(text: string): FilterNode {
  return new Parser(tokenize(text, 'invalidFilter'), 'invalidFilter').filter();
}

/**
 * Parses a PATCH operation path (RFC 7644 §3.5.2: attrPath / valuePath [subAttr]).
 * Any malformation, including inside the value filter → 400 invalidPath.
 */
export function parsePatchPath(text: string): PatchPath {
  return new Parser(tokenize(text, 'invalidPath'), 'invalidPath').patchPath();
}

/**
 * Parses `attributes` / `excludedAttributes`. An entry with a value filter
 * (`emails[type eq "work"]`, which Microsoft's reference collection sends) is outside RFC 7644
 * §3.9; it is read leniently as the attribute it filters (`emails`), never as "everything".
 */
export function parseAttributeList(text: string): string[] {
  return parseAttributeListSyntax(text, (entry) => {
    const p = parsePatchPath(entry);
    return p.subAttr ? `${p.path}.${p.subAttr}` : p.path;
  });
}
