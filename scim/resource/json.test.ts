import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, parseJsonBody } from './json.ts';
import { expectScimError } from './test-helpers.ts';

const LIMIT = 1_000_000;
const parse = (text: string) => parseJsonBody(text, LIMIT);
const bad = (text: string) => expectScimError(() => parse(text), 400, 'invalidSyntax');

describe('parseJsonBody', () => {
  it('parses what JSON.parse parses, for objects', () => {
    const text = JSON.stringify({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'a\u00e9\ud83d\ude00"\\/\b\f\n\r\t',
      n: [0, -1, 1.5, 2e10, -3.25e-2],
      flags: [true, false, null],
      nested: { a: { b: [[], {}] } },
    });
    expect(parse(text)).toEqual(JSON.parse(text));
    expect(parse(' \n\t{ "a" : [ 1 , 2 ] } \r\n')).toEqual({ a: [1, 2] });
    expect(parse('{"e":"\\u00e9\\ud83d\\ude00"}')).toEqual({ e: '\u00e9\ud83d\ude00' });
  });

  it('accepts a leading byte order mark', () => {
    expect(parse('\ufeff{"a":1}')).toEqual({ a: 1 });
  });

  it('refuses a non-object top level', () => {
    for (const text of ['[]', '"x"', '1', 'null', 'true', '', '   ']) bad(text);
  });

  it('refuses truncated and malformed JSON', () => {
    for (const text of [
      '{',
      '{"userName":',
      '{"userName":"abc',
      '{"a":1,}',
      '{"a":[1,]}',
      '{"a":1 "b":2}',
      '{a:1}',
      "{'a':1}",
      '{"a":01}',
      '{"a":-}',
      '{"a":1.}',
      '{"a":tru}',
      '{"a":NaN}',
      '{"a":"\\x"}',
      '{"a":"\\u12"}',
      '{"a":"tab\there"}',
      '{"a":1}x',
      '{"a":1}{"b":2}',
    ]) {
      bad(text);
    }
  });

  it('refuses duplicate keys, also case variants, at any depth', () => {
    bad('{"userName":"a","userName":"b"}');
    bad('{"userName":"a","USERNAME":"b"}');
    bad('{"name":{"givenName":"a","givenname":"b"}}');
    bad('{"emails":[{"value":"a","Value":"b"}]}');
    expect(parse('{"a":{"x":1},"b":{"x":2}}')).toEqual({ a: { x: 1 }, b: { x: 2 } });
  });

  it('refuses __proto__, constructor and prototype keys anywhere', () => {
    bad('{"__proto__":{"isAdmin":true}}');
    bad('{"name":{"constructor":{"prototype":{"x":1}}}}');
    bad('{"emails":[{"prototype":1}]}');
    bad('{"a":{"__PROTO__":1}}');
    bad('{"\\u005f_proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('produces plain objects', () => {
    const out = parse('{"a":{"b":[{"c":1}]}}');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getPrototypeOf((out.a as Record<string, unknown>).b)).toBe(Array.prototype);
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and refuses more`, () => {
    const nest = (n: number) => `${'{"a":'.repeat(n - 1)}{}${'}'.repeat(n - 1)}`;
    expect(() => parse(nest(MAX_JSON_DEPTH))).not.toThrow();
    bad(nest(MAX_JSON_DEPTH + 1));
    bad(`{"a":${'['.repeat(40)}${']'.repeat(40)}}`);
    bad(`{"a":${'['.repeat(100_000)}`);
  });

  it('answers 413 for a body over the byte limit', () => {
    expectScimError(() => parseJsonBody(`{"a":"${'é'.repeat(60)}"}`, 100), 413, undefined);
    expect(parseJsonBody(`{"a":"${'e'.repeat(60)}"}`, 100)).toEqual({ a: 'e'.repeat(60) });
  });
});
