import { describe, expect, it } from 'vitest';
import {
  childDn,
  DnSyntaxError,
  dnEquals,
  escapeDnValue,
  formatDn,
  normalizeDn,
  parseDn,
  rdn,
} from './dn.ts';

describe('escapeDnValue', () => {
  it.each([
    ['Smith, John', 'Smith\\, John'],
    [' leading', '\\ leading'],
    ['trailing ', 'trailing\\ '],
    [' both ', '\\ both\\ '],
    ['#hash', '\\#hash'],
    ['mid#hash', 'mid#hash'],
    ['a+b', 'a\\+b'],
    ['say "hi"', 'say \\"hi\\"'],
    ['back\\slash', 'back\\\\slash'],
    ['<tag>', '\\<tag\\>'],
    ['semi;colon', 'semi\\;colon'],
    ['a=b', 'a\\=b'],
    ['nul\0byte', 'nul\\00byte'],
    ['Zoë Ångström', 'Zoë Ångström'],
    ['日本語', '日本語'],
    ['emoji 🎉', 'emoji 🎉'],
    [' ', '\\ '],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(escapeDnValue(input)).toBe(expected);
  });
});

describe('rdn / childDn', () => {
  it('builds escaped RDNs and child DNs', () => {
    expect(rdn({ type: 'cn', value: 'Smith, John' })).toBe('cn=Smith\\, John');
    expect(rdn({ type: 'cn', value: 'a+b' }, { type: 'uid', value: 'x' })).toBe('cn=a\\+b+uid=x');
    expect(childDn({ type: 'uid', value: 'u,1' }, 'ou=people,dc=x')).toBe(
      'uid=u\\,1,ou=people,dc=x',
    );
    expect(childDn({ type: 'dc', value: 'x' }, '')).toBe('dc=x');
  });

  it('refuses attribute types that could smuggle syntax', () => {
    expect(() => rdn({ type: 'cn=x,ou', value: 'y' })).toThrow(DnSyntaxError);
    expect(() => rdn({ type: '', value: 'y' })).toThrow(DnSyntaxError);
    expect(() => rdn()).toThrow(DnSyntaxError);
    expect(rdn({ type: '2.5.4.3', value: 'oid' })).toBe('2.5.4.3=oid');
  });
});

describe('parseDn', () => {
  it('splits on unescaped commas only', () => {
    expect(parseDn('cn=Smith\\, John,ou=people,dc=example,dc=com')).toEqual([
      [{ type: 'cn', value: 'Smith, John' }],
      [{ type: 'ou', value: 'people' }],
      [{ type: 'dc', value: 'example' }],
      [{ type: 'dc', value: 'com' }],
    ]);
  });

  it('decodes hex escapes, including multi-byte UTF-8 and the server form \\2C', () => {
    expect(parseDn('cn=Smith\\2C John,dc=x')[0]).toEqual([{ type: 'cn', value: 'Smith, John' }]);
    expect(parseDn('cn=Zo\\C3\\AB')[0]).toEqual([{ type: 'cn', value: 'Zoë' }]);
    expect(parseDn('cn=nul\\00byte')[0]).toEqual([{ type: 'cn', value: 'nul\0byte' }]);
  });

  it('handles multi-valued RDNs, spaces around separators and escaped spaces', () => {
    expect(parseDn('cn=a+uid=b , ou=x')).toEqual([
      [
        { type: 'cn', value: 'a' },
        { type: 'uid', value: 'b' },
      ],
      [{ type: 'ou', value: 'x' }],
    ]);
    expect(parseDn('cn=\\ lead\\ ,dc=x')[0]).toEqual([{ type: 'cn', value: ' lead ' }]);
  });

  it('keeps #hex values as written', () => {
    expect(parseDn('1.3.6.1.4.1.1466.0=#04024869,dc=x')[0]).toEqual([
      { type: '1.3.6.1.4.1.1466.0', value: '#04024869' },
    ]);
  });

  it('rejects malformed DNs', () => {
    for (const bad of ['cn', 'cn=a"b', 'cn=a\\', 'cn=a<b', 'cn=\\FF\\FE', 'cn=a=b']) {
      expect(() => parseDn(bad), bad).toThrow(DnSyntaxError);
    }
    expect(parseDn('')).toEqual([]);
  });

  it('round-trips every tricky value through escape → parse', () => {
    const values = [' x', 'x ', '#x', ',+"\\<>;=', 'nul\0', 'Ångström 🎉', 'a\\,b', '  '];
    for (const value of values) {
      const dn = childDn({ type: 'cn', value }, 'dc=example,dc=com');
      expect(parseDn(dn)[0], dn).toEqual([{ type: 'cn', value }]);
      expect(formatDn(parseDn(dn))).toBe(dn);
    }
  });
});

describe('dnEquals', () => {
  it('treats escape variants and type case as equal, values as exact', () => {
    expect(dnEquals('CN=Smith\\, John,DC=x', 'cn=Smith\\2C John,dc=x')).toBe(true);
    expect(dnEquals('cn=a+uid=b,dc=x', 'uid=b+cn=a,dc=x')).toBe(true);
    expect(dnEquals('cn=a,dc=x', 'cn=b,dc=x')).toBe(false);
    expect(normalizeDn('UID=u\\2c1, OU=p')).toBe('uid=u\\,1,ou=p');
  });
});
