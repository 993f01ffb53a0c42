import { EqualityFilter, SubstringFilter } from 'ldapts';
import { describe, expect, it } from 'vitest';
import {
  and,
  contains,
  eq,
  escapeFilter,
  FilterSyntaxError,
  ldapFilter,
  not,
  or,
  parseFilter,
  present,
  startsWith,
} from './filter.ts';

const INJECTION = '*)(uid=*))(|(uid=*';

describe('escapeFilter', () => {
  it('escapes the RFC 4515 specials and leaves everything else', () => {
    expect(escapeFilter('a*b(c)d\\e\0f')).toBe('a\\2ab\\28c\\29d\\5ce\\00f');
    expect(escapeFilter('Zoë, O"Brien <x>=y;')).toBe('Zoë, O"Brien <x>=y;');
    expect(escapeFilter(Buffer.from([0x00, 0x2a, 0xff]))).toBe('\\00\\2a\\ff');
  });
});

describe('filter objects', () => {
  it('compose with and/or/not/present', () => {
    const f = and(eq('objectClass', 'person'), or(eq('uid', 'a'), not(present('mail'))));
    expect(f.toString()).toBe('(&(objectClass=person)(|(uid=a)(!(mail=*))))');
  });

  it('keep an injection attempt as one literal equality value', () => {
    const f = eq('uid', INJECTION);
    expect(f).toBeInstanceOf(EqualityFilter);
    const reparsed = parseFilter(f.toString());
    expect(reparsed).toBeInstanceOf(EqualityFilter);
    expect((reparsed as EqualityFilter).value).toBe(INJECTION);
  });

  it('treat * in substring parts as data', () => {
    const f = startsWith('cn', 'a*b');
    expect(f.toString()).toBe('(cn=a\\2ab*)');
    expect(contains('cn', ')(x').toString()).toBe('(cn=*\\29\\28x*)');
    expect(parseFilter(f.toString())).toBeInstanceOf(SubstringFilter);
  });

  it('refuse attribute names that are not attribute descriptions', () => {
    for (const bad of ['uid=*)(cn', '', 'a b', '(uid']) {
      expect(() => eq(bad, 'x'), bad).toThrow(FilterSyntaxError);
    }
    expect(eq('member;range=0-1499', 'x').toString()).toBe('(member;range=0-1499=x)');
  });
});

describe('ldapFilter template', () => {
  it('escapes interpolations so injections are inert', () => {
    const f = ldapFilter`(&(objectClass=person)(uid=${INJECTION}))`;
    expect(f.toString()).toBe(
      '(&(objectClass=person)(uid=\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a))',
    );
    const uid = (parseFilter(f.toString()) as unknown as { filters: EqualityFilter[] }).filters[1];
    expect(uid?.value).toBe(INJECTION);
  });

  it('keeps binary values intact in filter objects', () => {
    const guid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    expect((eq('objectGUID', guid) as EqualityFilter).value).toEqual(guid);
  });

  it('reports invalid trusted filter text as FilterSyntaxError', () => {
    for (const bad of ['(&(uid=a)', '(uid=a', '(uid=a))', 'no equals', '(=a)']) {
      expect(() => parseFilter(bad), bad).toThrow(FilterSyntaxError);
    }
  });
});
