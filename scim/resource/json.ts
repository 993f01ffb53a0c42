import { badRequest, ScimError } from '../errors.ts';
import { isForbiddenKey } from './util.ts';

/** Deepest nesting of objects and arrays accepted in a request body. */
export const MAX_JSON_DEPTH = 32;

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * A strict single-pass JSON reader. Unlike JSON.parse it refuses duplicate keys (also case
 * variants: SCIM attribute names are case-insensitive, so `userName` and `USERNAME` would be
 * two values for one attribute), prototype-polluting keys and excessive nesting.
 */
class JsonReader {
  private i = 0;

  constructor(private readonly s: string) {}

  document(): unknown {
    if (this.s.charCodeAt(0) === 0xfeff) this.i = 1;
    this.ws();
    if (this.s[this.i] !== '{') throw this.fail('the body must be a JSON object');
    const value = this.value(0);
    this.ws();
    if (this.i < this.s.length) throw this.fail('unexpected content after the JSON value');
    return value;
  }

  private value(depth: number): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object(depth + 1);
    if (c === '[') return this.array(depth + 1);
    if (c === '"') return this.string();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    return this.number();
  }

  private object(depth: number): Record<string, unknown> {
    this.enter(depth);
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    if (this.peekAfterWs() === '}') return this.close(out);
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') throw this.fail('expected a quoted key');
      const at = this.i;
      const key = this.string();
      this.checkKey(key, seen, at);
      this.ws();
      if (this.s[this.i++] !== ':') throw this.fail("expected ':' after a key");
      out[key] = this.value(depth);
      if (this.endOfList('}')) return out;
    }
  }

  private array(depth: number): unknown[] {
    this.enter(depth);
    const out: unknown[] = [];
    if (this.peekAfterWs() === ']') return this.close(out);
    for (;;) {
      out.push(this.value(depth));
      if (this.endOfList(']')) return out;
    }
  }

  private checkKey(key: string, seen: Set<string>, at: number): void {
    if (isForbiddenKey(key)) throw this.fail(`the key "${key}" is not allowed`, at);
    const lower = key.toLowerCase();
    if (seen.has(lower)) throw this.fail(`duplicate key "${key}" (keys are case-insensitive)`, at);
    seen.add(lower);
  }

  private enter(depth: number): void {
    if (depth > MAX_JSON_DEPTH) throw this.fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    this.i++;
  }

  private close<T>(value: T): T {
    this.ws();
    this.i++;
    return value;
  }

  /** After a member or element: true on the closing bracket, false on a comma. */
  private endOfList(closer: '}' | ']'): boolean {
    this.ws();
    const c = this.s[this.i++];
    if (c === closer) return true;
    if (c === ',') return false;
    throw this.fail(`expected ',' or '${closer}'`, this.i - 1);
  }

  private string(): string {
    let out = '';
    let start = ++this.i;
    let escaped = false;
    for (;;) {
      const code = this.s.charCodeAt(this.i);
      if (Number.isNaN(code)) throw this.fail('unterminated string');
      if (code < 0x20) throw this.fail('unescaped control character in a string');
      if (code === 0x22) break;
      if (code === 0x5c) {
        escaped = true;
        out += this.s.slice(start, this.i) + this.escape();
        start = this.i;
      } else this.i++;
    }
    out += this.s.slice(start, this.i++);
    // Only \u escapes can produce what PostgreSQL text/jsonb cannot hold (it would be a 500).
    if (escaped && !storable(out)) {
      throw badRequest(
        'invalidValue',
        `U+0000 or an unpaired surrogate in a string before offset ${this.i}`,
      );
    }
    return out;
  }

  private escape(): string {
    const c = this.s[this.i + 1] ?? '';
    if (c === 'u') {
      const hex = this.s.slice(this.i + 2, this.i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.fail('invalid \\u escape');
      this.i += 6;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    const mapped = ESCAPES[c];
    if (mapped === undefined) throw this.fail('invalid escape');
    this.i += 2;
    return mapped;
  }

  private number(): number {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m)
      throw this.fail(this.i >= this.s.length ? 'unexpected end of input' : 'unexpected token');
    this.i += m[0].length;
    return Number(m[0]);
  }

  private literal<T>(word: string, value: T): T {
    if (!this.s.startsWith(word, this.i)) throw this.fail('unexpected token');
    this.i += word.length;
    return value;
  }

  private peekAfterWs(): string | undefined {
    const save = this.i;
    this.ws();
    const c = this.s[this.i];
    this.i = save;
    return c;
  }

  private ws(): void {
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }

  private fail(why: string, at = this.i): ScimError {
    const where = at >= this.s.length ? 'at end of input' : `at offset ${at}`;
    return badRequest('invalidSyntax', `Invalid JSON body ${where}: ${why}`);
  }
}

/** False for strings holding U+0000 or an unpaired UTF-16 surrogate. */
function storable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || (c >= 0xdc00 && c <= 0xdfff)) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

/**
 * Parses a SCIM request body. The top level must be an object; duplicate (also case-variant)
 * keys, the keys `__proto__` / `constructor` / `prototype`, and nesting deeper than
 * MAX_JSON_DEPTH are refused with 400 invalidSyntax; a body over `limitBytes` is a 413.
 */
export function parseJsonBody(text: string, limitBytes: number): Record<string, unknown> {
  if (Buffer.byteLength(text, 'utf8') > limitBytes) {
    throw new ScimError(413, undefined, `The request body exceeds ${limitBytes} bytes`);
  }
  return new JsonReader(text).document() as Record<string, unknown>;
}
