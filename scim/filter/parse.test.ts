import { describe, expect, it } from 'vitest';
import type { CompareOp } from './ast.ts';
import { MAX_FILTER_DEPTH, parseAttributeList, parseFilter, parsePatchPath } from './parse.ts';
import { and, cmp, not, or, pr, scimError, vp } from './test-helpers.ts';
import { MAX_FILTER_LENGTH } from './tokenize.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('parseFilter: attribute expressions', () => {
  const ops: CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];
  it.each(ops)('parses %s, in any case', (op) => {
    expect(parseFilter(`userName ${op} "x"`)).toEqual(cmp('userName', op, 'x'));
    expect(parseFilter(`userName ${op.toUpperCase()} "x"`)).toEqual(cmp('userName', op, 'x'));
    const mixed = `${op.charAt(0).toUpperCase()}${op.charAt(1)}`;
    expect(parseFilter(`userName ${mixed} "x"`)).toEqual(cmp('userName', op, 'x'));
  });

  it('parses pr in any case', () => {
    expect(parseFilter('title pr')).toEqual(pr('title'));
    expect(parseFilter('title PR')).toEqual(pr('title'));
  });

  it('parses every literal type', () => {
    expect(parseFilter('a eq 12')).toEqual(cmp('a', 'eq', 12));
    expect(parseFilter('a gt -1.5e3')).toEqual(cmp('a', 'gt', -1500));
    expect(parseFilter('a eq 0.25')).toEqual(cmp('a', 'eq', 0.25));
    expect(parseFilter('a eq true')).toEqual(cmp('a', 'eq', true));
    expect(parseFilter('a eq False')).toEqual(cmp('a', 'eq', false));
    expect(parseFilter('a eq NULL')).toEqual(cmp('a', 'eq', null));
  });

  it('decodes JSON string escapes, including escaped quotes', () => {
    expect(parseFilter('userName eq "a\\"b"')).toEqual(cmp('userName', 'eq', 'a"b'));
    expect(parseFilter('userName eq "back\\\\slash"')).toEqual(
      cmp('userName', 'eq', 'back\\slash'),
    );
    expect(parseFilter('userName eq "caf\\u00e9"')).toEqual(cmp('userName', 'eq', 'café'));
    expect(parseFilter('a eq "\\/\\b\\f\\n\\r\\t"')).toEqual(cmp('a', 'eq', '/\b\f\n\r\t'));
    expect(parseFilter('a eq "\\ud83d\\ude00"')).toEqual(cmp('a', 'eq', '😀'));
  });

  it('keeps operator words inside strings as data', () => {
    expect(parseFilter('userName eq "jeq@x.com and b or c"')).toEqual(
      cmp('userName', 'eq', 'jeq@x.com and b or c'),
    );
    expect(parseFilter('displayName eq "(x) [y]"')).toEqual(cmp('displayName', 'eq', '(x) [y]'));
  });

  it('parses sub-attributes and URN-prefixed paths as written', () => {
    expect(parseFilter('name.givenName sw "J"')).toEqual(cmp('name.givenName', 'sw', 'J'));
    expect(parseFilter('meta.lastModified gt "2024-01-01T00:00:00Z"')).toEqual(
      cmp('meta.lastModified', 'gt', '2024-01-01T00:00:00Z'),
    );
    expect(parseFilter(`${ENT}:employeeNumber eq "1"`)).toEqual(
      cmp(`${ENT}:employeeNumber`, 'eq', '1'),
    );
    expect(parseFilter(`${ENT}:manager.value eq "m"`)).toEqual(
      cmp(`${ENT}:manager.value`, 'eq', 'm'),
    );
    expect(parseFilter('$ref pr')).toEqual(pr('$ref'));
  });
});

describe('parseFilter: logic and precedence', () => {
  const [a, b, c] = [pr('a'), pr('b'), pr('c')];
  it('binds and tighter than or', () => {
    expect(parseFilter('a pr or b pr and c pr')).toEqual(or(a, and(b, c)));
    expect(parseFilter('a pr and b pr or c pr')).toEqual(or(and(a, b), c));
  });

  it('binds not tighter than and', () => {
    expect(parseFilter('not a pr and b pr')).toEqual(and(not(a), b));
    expect(parseFilter('a pr or not b pr and c pr')).toEqual(or(a, and(not(b), c)));
  });

  it('keeps not (a or b) as not(or(a, b))', () => {
    expect(parseFilter('not (a pr or b pr)')).toEqual(not(or(a, b)));
    expect(parseFilter('c pr and not(a pr or b pr)')).toEqual(and(c, not(or(a, b))));
  });

  it('is left-associative and honours parentheses', () => {
    expect(parseFilter('a pr and b pr and c pr')).toEqual(and(and(a, b), c));
    expect(parseFilter('a pr and (b pr or c pr)')).toEqual(and(a, or(b, c)));
    expect(parseFilter('((a pr))')).toEqual(a);
    expect(parseFilter('(a pr or (b pr and (not (c pr))))')).toEqual(or(a, and(b, not(c))));
  });

  it('accepts keywords in any case', () => {
    expect(parseFilter('a pr AND b pr Or NOT c pr')).toEqual(or(and(a, b), not(c)));
  });

  it('tells the keyword not from an attribute named not', () => {
    expect(parseFilter('not pr')).toEqual(pr('not'));
    expect(parseFilter('not eq "x"')).toEqual(cmp('not', 'eq', 'x'));
    expect(parseFilter('not eq pr')).toEqual(not(pr('eq')));
    expect(parseFilter('not not sw "A"')).toEqual(not(cmp('not', 'sw', 'A')));
    expect(parseFilter('a pr and and pr')).toEqual(and(a, pr('and')));
  });
});

describe('parseFilter: value paths', () => {
  it('parses a value filter', () => {
    expect(parseFilter('emails[type eq "work" and value co "@x"]')).toEqual(
      vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@x'))),
    );
  });

  it('turns attr[filter].sub op value into one value filter on the same element', () => {
    expect(parseFilter('emails[type eq "work"].value eq "a"')).toEqual(
      vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'eq', 'a'))),
    );
    expect(parseFilter('emails[type eq "w" or type eq "h"].value pr')).toEqual(
      vp('emails', and(or(cmp('type', 'eq', 'w'), cmp('type', 'eq', 'h')), pr('value'))),
    );
  });

  it('combines value paths with logic', () => {
    expect(parseFilter('not emails[type eq "work"] and members[value eq "1"]')).toEqual(
      and(not(vp('emails', cmp('type', 'eq', 'work'))), vp('members', cmp('value', 'eq', '1'))),
    );
    expect(parseFilter(`${ENT}:manager[value eq "m"]`)).toEqual(
      vp(`${ENT}:manager`, cmp('value', 'eq', 'm')),
    );
  });
});

describe('parseFilter: unquoted values (Microsoft reference dialect)', () => {
  it.each([
    ['userName sw O', cmp('userName', 'sw', 'O')],
    ['value eq 123abc', cmp('value', 'eq', '123abc')],
    [
      'meta.Created gt 2015-10-10T14:38:21.8617979-07:00',
      cmp('meta.Created', 'gt', '2015-10-10T14:38:21.8617979-07:00'),
    ],
    ['name.FamilyName eq Employee', cmp('name.FamilyName', 'eq', 'Employee')],
  ])('reads %j with a bare-word string value', (text, tree) => {
    expect(parseFilter(text)).toEqual(tree);
  });

  it('still reads true, false, null and numbers as such', () => {
    expect(parseFilter('active eq True')).toEqual(cmp('active', 'eq', true));
    expect(parseFilter('x eq 12')).toEqual(cmp('x', 'eq', 12));
  });
});

describe('parseFilter: errors', () => {
  const bad = (text: string) => scimError(() => parseFilter(text), 400, 'invalidFilter').detail;

  it.each([
    ['', /Expected an attribute path.*position 1/],
    ['userName', /Expected an operator after 'userName'.*end of input/],
    ['userName eq', /Expected a value/],
    ['userName zz "x"', /Expected an operator after 'userName' but found 'zz' at position 10/],
    ['userName eq "open', /Unterminated string at position 13/],
    ['a eq "\\x"', /Invalid escape/],
    ['a eq "\\u12"', /Invalid escape/],
    ['a eq "tab\there"', /Control character/],
    ['(a pr', /Expected '\)' but found end of input/],
    ['a pr)', /Unexpected '\)'/],
    ['a pr b pr', /Unexpected 'b' at position 6/],
    ['a pr and', /Expected an attribute path/],
    ['a pr or or', /Expected an operator after 'or'/],
    ['emails[type eq "w"', /Expected '\]'/],
    ['emails[]', /Expected an attribute path/],
    ['emails[type eq "w"] .value eq "x"', /Unexpected '\.value'/],
    ['emails[type eq "w"].value', /Expected an operator after 'value'/],
    ['emails[type eq "w"] pr', /Unexpected 'pr'/],
    ['emails[a[b pr]]', /cannot be nested/],
    ['emails[type eq "w"].x.y eq "1"', /Invalid sub-attribute/],
    ['a eq "x" ; drop table users', /Unexpected character ';'/],
    ['a.b.c pr', /Invalid attribute path 'a\.b\.c'/],
    ['__proto__ pr', /Invalid attribute path '__proto__'/],
    ['constructor.__proto__ eq 1', /Invalid attribute path/],
    ['valid$Name eq null', /Invalid attribute path/],
    ['1abc pr', /Invalid attribute path '1abc'/],
    ['a:b pr', /Invalid attribute path 'a:b'/],
    ['urn::x pr', /Invalid attribute path/],
  ])('rejects %j', (text, message) => {
    expect(bad(text)).toMatch(message);
  });

  it('caps the length', () => {
    const long = `userName eq "${'x'.repeat(MAX_FILTER_LENGTH)}"`;
    expect(bad(long)).toMatch(/Longer than 4096/);
    const atCap = `a eq "${'x'.repeat(MAX_FILTER_LENGTH - 7)}"`;
    expect(atCap.length).toBe(MAX_FILTER_LENGTH);
    expect(parseFilter(atCap)).toEqual(cmp('a', 'eq', 'x'.repeat(MAX_FILTER_LENGTH - 7)));
  });

  it('caps the nesting depth of parentheses, not and value paths', () => {
    const parens = (n: number) => `${'('.repeat(n)}a pr${')'.repeat(n)}`;
    expect(parseFilter(parens(MAX_FILTER_DEPTH))).toEqual(pr('a'));
    expect(bad(parens(MAX_FILTER_DEPTH + 1))).toMatch(/deeper than 32/);
    const nots = (n: number) => `${'not '.repeat(n)}a pr`;
    expect(() => parseFilter(nots(MAX_FILTER_DEPTH))).not.toThrow();
    expect(bad(nots(MAX_FILTER_DEPTH + 1))).toMatch(/deeper than 32/);
    const mixed = `${'('.repeat(MAX_FILTER_DEPTH - 1)}emails[type pr]${')'.repeat(MAX_FILTER_DEPTH - 1)}`;
    expect(() => parseFilter(mixed)).not.toThrow();
    expect(bad(`(${mixed})`)).toMatch(/deeper than 32/);
  });

  it('survives a pathological input without a stack overflow', () => {
    expect(bad('('.repeat(4000))).toMatch(/deeper than 32/);
    expect(bad('not '.repeat(1000))).toMatch(/deeper than 32/);
  });
});

describe('parsePatchPath', () => {
  it.each([
    ['members', { path: 'members' }],
    ['name.givenName', { path: 'name.givenName' }],
    [`${ENT}:department`, { path: `${ENT}:department` }],
    [`${ENT}:manager.value`, { path: `${ENT}:manager.value` }],
    ['members[value eq "id"]', { path: 'members', filter: cmp('value', 'eq', 'id') }],
    [
      'emails[type eq "work"].value',
      { path: 'emails', filter: cmp('type', 'eq', 'work'), subAttr: 'value' },
    ],
    [
      'addresses[type eq "work" and primary eq true].streetAddress',
      {
        path: 'addresses',
        filter: and(cmp('type', 'eq', 'work'), cmp('primary', 'eq', true)),
        subAttr: 'streetAddress',
      },
    ],
    ['members[value eq "a\\"b"]', { path: 'members', filter: cmp('value', 'eq', 'a"b') }],
  ])('parses %s', (text, expected) => {
    expect(parsePatchPath(text)).toEqual(expected);
  });

  it.each([
    '',
    '__proto__',
    'constructor.prototype.x',
    'emails[type eq "work"',
    'emails[type eq]',
    'emails[type eq "work"]value',
    'emails[type eq "work"].value.x',
    'emails[type eq "work"] .value',
    'members[value eq "a"] extra',
    'emails[a[b pr]]',
    'a b',
    'name..givenName',
    '.value',
    'emails]',
  ])('rejects %j with invalidPath', (text) => {
    scimError(() => parsePatchPath(text), 400, 'invalidPath');
  });

  it('applies the length and depth caps with invalidPath', () => {
    scimError(() => parsePatchPath('a'.repeat(MAX_FILTER_LENGTH + 1)), 400, 'invalidPath');
    const deep = `emails[${'('.repeat(MAX_FILTER_DEPTH)}type pr${')'.repeat(MAX_FILTER_DEPTH)}]`;
    scimError(() => parsePatchPath(deep), 400, 'invalidPath');
  });
});

describe('parseAttributeList', () => {
  it('splits, trims and keeps paths as written', () => {
    expect(parseAttributeList('userName, name.givenName ,emails')).toEqual([
      'userName',
      'name.givenName',
      'emails',
    ]);
    expect(parseAttributeList(`${ENT}:manager.value,members`)).toEqual([
      `${ENT}:manager.value`,
      'members',
    ]);
    expect(parseAttributeList('')).toEqual([]);
    expect(parseAttributeList('  ')).toEqual([]);
  });

  it('reads a value-filtered entry as the attribute it filters (Microsoft dialect)', () => {
    expect(parseAttributeList('emails[type eq "work"],userName')).toEqual(['emails', 'userName']);
    expect(parseAttributeList('emails[value eq "a,b"].value')).toEqual(['emails.value']);
    scimError(() => parseAttributeList('emails[type eq]'), 400, 'invalidPath');
  });

  it.each(['a,,b', 'a,', 'name.givenName.x', '__proto__', 'a b'])(
    'rejects %j with invalidValue',
    (text) => {
      scimError(() => parseAttributeList(text), 400, 'invalidValue');
    },
  );
});
