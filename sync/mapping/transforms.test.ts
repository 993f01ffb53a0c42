import { describe, expect, it } from 'vitest';
import { mapOne, userOf } from './test-helpers.ts';

const text = (transform: unknown, values: string[], source = 'x') =>
  userOf(mapOne({ target: 'title', source, transform }, { [source]: values })).title;
const bool = (transform: unknown, values: string[]) =>
  userOf(mapOne({ target: 'active', source: 'x', transform }, { x: values })).active;
const problems = (rule: Record<string, unknown>, attrs: Record<string, string[]>) => {
  const r = mapOne(rule, attrs);
  return r.ok ? [] : r.problems;
};

describe('text transforms', () => {
  it('first is the default for a single-valued target', () => {
    expect(text(undefined, ['a', 'b'])).toBe('a');
    expect(text('first', ['a', 'b'])).toBe('a');
  });
  it('join uses the separator, a space by default', () => {
    expect(text({ name: 'join', separator: ', ' }, ['a', 'b'])).toBe('a, b');
    expect(text({ name: 'join' }, ['a', 'b'])).toBe('a b');
  });
  it('lower / upper / trim apply to every value and chain', () => {
    expect(text('lower', ['AbC'])).toBe('abc');
    expect(text('upper', ['AbC'])).toBe('ABC');
    expect(text(['trim', 'upper'], ['  ab '])).toBe('AB');
    expect(text(['lower', { name: 'join', separator: '+' }], ['A', 'B'])).toBe('a+b');
  });
  it('an empty result counts as missing', () => {
    expect(text('trim', ['   '])).toBeUndefined();
  });
  it('constant needs no source', () => {
    const user = userOf(
      mapOne({ target: 'userType', transform: { name: 'constant', value: 'Employee' } }, {}),
    );
    expect(user.userType).toBe('Employee');
    expect(
      userOf(mapOne({ target: 'active', transform: { name: 'constant', value: true } }, {})).active,
    ).toBe(true);
  });
});

describe('template', () => {
  const rule = (required = false) => ({
    target: 'displayName',
    transform: { name: 'template', template: '{givenName} {SN} {{x}}' },
    required,
  });
  it('fills placeholders with first values, case-insensitively, with literal braces', () => {
    const user = userOf(mapOne(rule(), { givenName: ['Ann', 'Annie'], sn: ['Lee'] }));
    expect(user.displayName).toBe('Ann Lee {x}');
  });
  it('a missing attribute is empty, or a problem when the rule is required', () => {
    expect(userOf(mapOne(rule(), { sn: ['Lee'] })).displayName).toBe(' Lee {x}');
    expect(problems(rule(true), { sn: ['Lee'] })).toEqual([
      'displayName: template: LDAP attribute "givenName" is missing',
    ]);
  });
});

describe('boolean transforms', () => {
  it('boolean reads TRUE/FALSE/1/0 in any case', () => {
    expect(bool('boolean', ['TRUE'])).toBe(true);
    expect(bool('boolean', ['false'])).toBe(false);
    expect(bool('boolean', ['1'])).toBe(true);
    expect(bool('boolean', ['0'])).toBe(false);
  });
  it('boolean refuses anything else', () => {
    expect(
      problems({ target: 'active', source: 'x', transform: 'boolean' }, { x: ['yes'] }),
    ).toEqual(['active: boolean: "yes" is not TRUE, FALSE, 1 or 0']);
  });
  it('adUserAccountControlDisabled reads bit 0x2; not turns it into active', () => {
    const active = (uac: string) => bool(['adUserAccountControlDisabled', 'not'], [uac]);
    expect(active('512')).toBe(true); // NORMAL_ACCOUNT
    expect(active('514')).toBe(false); // NORMAL_ACCOUNT | ACCOUNTDISABLE
    expect(active('66050')).toBe(false); // + DONT_EXPIRE_PASSWORD
    expect(active('66048')).toBe(true);
    expect(active('-2147483646')).toBe(false); // printed signed, bit 0x2 set
  });
  it('adUserAccountControlDisabled refuses a non-integer', () => {
    const rule = {
      target: 'active',
      source: 'x',
      transform: ['adUserAccountControlDisabled', 'not'],
    };
    expect(problems(rule, { x: ['0x202'] })).toEqual([
      'active: adUserAccountControlDisabled: "0x202" is not an integer',
    ]);
  });
});

describe('binary values', () => {
  it('are refused by join and templates too', () => {
    const join = mapOne(
      { target: 'title', source: 'photo', transform: 'join' },
      { photo: [{ base64: 'AAE=' }] },
    );
    expect(!join.ok && join.problems).toEqual([
      'title: join: the value is binary; use base64ToUuid or map another attribute',
    ]);
    const template = { target: 'title', transform: { name: 'template', template: '{photo}' } };
    expect(mapOne(template, { photo: [{ base64: 'AAE=' }] }).ok).toBe(false);
  });
  it('are refused by text transforms', () => {
    const r = mapOne({ target: 'title', source: 'photo' }, { photo: [{ base64: 'AAE=' }] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems[0]).toMatch(/^title: first: the value is binary/);
  });
});

describe('sources', () => {
  it('are read case-insensitively and concatenated in order (first = fallback)', () => {
    const rule = { target: 'title', sources: ['TITLE', 'description'] };
    expect(userOf(mapOne(rule, { description: ['d'] })).title).toBe('d');
    expect(userOf(mapOne(rule, { Title: ['t'], description: ['d'] })).title).toBe('t');
    const joined = { ...rule, transform: { name: 'join', separator: '|' } };
    expect(userOf(mapOne(joined, { Title: ['t'], description: ['d'] })).title).toBe('t|d');
  });
  it('a missing source leaves the target out unless required', () => {
    expect(userOf(mapOne({ target: 'title', source: 'title' }, {})).title).toBeUndefined();
    expect(problems({ target: 'title', source: 'title', required: true }, {})).toEqual([
      'title: required, but LDAP attribute "title" is missing or empty',
    ]);
  });
});
