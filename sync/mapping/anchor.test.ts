import { describe, expect, it } from 'vitest';
import { anchorOf, guidBytesToUuid } from './anchor.ts';
import { b64, mapOne, userOf } from './test-helpers.ts';

// Wire bytes 00 11 22 … ff. Data1 (4 bytes), Data2 and Data3 (2 bytes each) are little-endian
// and so reversed; the last 8 bytes stay in order. Derived by hand from the GUID layout.
const WIRE = '00112233445566778899aabbccddeeff';
const UUID = '33221100-5544-7766-8899-aabbccddeeff';

describe('objectGUID → UUID', () => {
  it('reverses the first three groups only', () => {
    expect(guidBytesToUuid(Buffer.from(WIRE, 'hex'))).toBe(UUID);
  });
  it('base64ToUuid maps the binary value; text and wrong lengths are problems', () => {
    const rule = { target: 'externalId', source: 'objectGUID', transform: 'base64ToUuid' };
    expect(userOf(mapOne(rule, { objectGUID: [b64(WIRE)] })).externalId).toBe(UUID);
    const text = mapOne(rule, { objectGUID: ['not-binary'] });
    expect(!text.ok && text.problems[0]).toMatch(/value is text, not binary/);
    const short = mapOne(rule, { objectGUID: [b64('0011')] });
    expect(!short.ok && short.problems).toEqual([
      'externalId: base64ToUuid: expected 16 bytes, got 2',
    ]);
  });
});

describe('anchorOf', () => {
  it('AD: objectGUID as a UUID, looked up case-insensitively', () => {
    expect(
      anchorOf({ id: 'CN=a', attributes: { objectguid: [b64(WIRE)] } }, 'activeDirectory'),
    ).toBe(UUID);
  });
  it('OpenLDAP: entryUUID text, lower-cased', () => {
    const id = '3F1C5E4A-0B7D-103F-8A2B-6F1E2D3C4B5A';
    expect(anchorOf({ id: 'uid=a', attributes: { entryUUID: [id] } }, 'openldap')).toBe(
      id.toLowerCase(),
    );
  });
  it('undefined when absent; an error when malformed', () => {
    expect(anchorOf({ id: 'uid=a', attributes: {} }, 'openldap')).toBeUndefined();
    expect(() => anchorOf({ id: 'uid=a', attributes: { entryUUID: ['x'] } }, 'openldap')).toThrow(
      /not a UUID/,
    );
  });
});
