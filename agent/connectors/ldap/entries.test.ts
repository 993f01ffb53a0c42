import { ResultCodeError } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { binarySet, encodeValue, followRanges, isBinaryAttribute, parseRange } from './entries.ts';
import { toLdapError } from './errors.ts';
import { parseSchemaItem } from './schema.ts';

describe('binary values', () => {
  const set = binarySet(['myBlob']);
  it('base64-encodes known binary attributes and invalid UTF-8, keeps text as text', () => {
    const guid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    expect(encodeValue(isBinaryAttribute('objectGUID', set), guid)).toEqual({
      base64: guid.toString('base64'),
    });
    expect(encodeValue(false, Buffer.from([0xff, 0xfe]))).toEqual({ base64: '//4=' });
    expect(encodeValue(false, Buffer.from('Zoë', 'utf8'))).toBe('Zoë');
    expect(isBinaryAttribute('userCertificate;binary', new Set())).toBe(true);
    expect(isBinaryAttribute('MYBLOB', set)).toBe(true);
    expect(isBinaryAttribute('entryUUID', set)).toBe(false);
  });
});

describe('AD range retrieval', () => {
  it('parses range options', () => {
    expect(parseRange('member;range=0-1499')).toEqual({ name: 'member', next: 1500 });
    expect(parseRange('member;range=1500-*')).toEqual({ name: 'member' });
    expect(parseRange('member')).toBeUndefined();
  });

  it('follows ranges until the server answers *', async () => {
    const all = Array.from({ length: 3200 }, (_, i) => `cn=m${i}`);
    const asked: string[] = [];
    const entry = {
      id: 'cn=big,dc=x',
      attributes: { cn: ['big'], 'member;range=0-1499': all.slice(0, 1500) },
    };
    const result = await followRanges(entry, async (dn, attribute) => {
      asked.push(attribute);
      const start = Number(/range=(\d+)/.exec(attribute)?.[1]);
      const end = Math.min(start + 1499, all.length - 1);
      const last = end === all.length - 1;
      return {
        id: dn,
        attributes: { [`member;range=${start}-${last ? '*' : end}`]: all.slice(start, end + 1) },
      };
    });
    expect(asked).toEqual(['member;range=1500-*', 'member;range=3000-*']);
    expect(result.attributes.member).toEqual(all);
    expect(result.attributes.cn).toEqual(['big']);
  });
});

describe('schema descriptions', () => {
  it('reads names, aliases, syntax, single-value and object class kind', () => {
    expect(
      parseSchemaItem(
        "( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s)' SUP name )",
      ),
    ).toEqual({ oid: '2.5.4.3', name: 'cn', aliases: ['commonName'] });
    expect(
      parseSchemaItem(
        "( 1.3.6.1.1.16.4 NAME 'entryUUID' EQUALITY UUIDMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )",
      ),
    ).toMatchObject({ name: 'entryUUID', singleValue: true, syntax: '1.3.6.1.1.16.1' });
    expect(
      parseSchemaItem(
        "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ seeAlso ) )",
      ),
    ).toMatchObject({
      name: 'person',
      kind: 'STRUCTURAL',
      must: ['sn', 'cn'],
      may: ['userPassword', 'seeAlso'],
    });
  });
});

describe('toLdapError', () => {
  const rc = (code: number) =>
    Object.assign(Object.create(ResultCodeError.prototype) as ResultCodeError, {
      code,
      message: `rc ${code}`,
    });
  it('maps result codes and socket failures to protocol error codes', () => {
    expect(toLdapError(rc(49))).toMatchObject({ code: 'auth_failure', remoteCode: 49 });
    expect(toLdapError(rc(32))).toMatchObject({ code: 'not_found', remoteCode: 32 });
    expect(toLdapError(rc(3))).toMatchObject({ code: 'timeout' });
    expect(toLdapError(rc(50))).toMatchObject({ code: 'connector_error', remoteCode: 50 });
    expect(toLdapError(new Error('SearchRequest: Operation timed out'))).toMatchObject({
      code: 'timeout',
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(toLdapError(refused)).toMatchObject({
      code: 'connector_error',
      remoteCode: 'ECONNREFUSED',
    });
  });
});
