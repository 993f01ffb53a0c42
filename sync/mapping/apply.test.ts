import { describe, expect, it } from 'vitest';
import type { Entry } from '../../agent/protocol.ts';
import { applyMapping } from './apply.ts';
import { compileMapping } from './compile.ts';
import { DEFAULT_MAPPINGS } from './defaults.ts';
import { b64, compiled } from './test-helpers.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';

function defaults(kind: keyof typeof DEFAULT_MAPPINGS) {
  const result = compileMapping(DEFAULT_MAPPINGS[kind]);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.mapping;
}

const openldapEntry: Entry = {
  id: 'uid=jdoe,ou=People,dc=example,dc=com',
  attributes: {
    objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
    uid: ['jdoe'],
    cn: ['John Doe', 'Johnny Doe'],
    givenName: ['John'],
    sn: ['Doe'],
    mail: ['john.doe@example.com'],
    telephoneNumber: ['+1 555 0100'],
    title: ['Engineer'],
    employeeNumber: ['1001'],
    departmentNumber: ['R&D'],
    entryUUID: ['5b2a7c1e-1d4f-103f-9a0b-2f3e4d5c6b7a'],
  },
};

const adEntry: Entry = {
  id: 'CN=Ann Lee,OU=Sales,OU=EMEA,DC=corp,DC=example',
  attributes: {
    sAMAccountName: ['alee'],
    givenName: ['Ann'],
    sn: ['Lee'],
    displayName: ['Ann Lee'],
    mail: ['ann.lee@corp.example'],
    title: ['Account Manager'],
    department: ['Sales'],
    employeeID: ['E-042'],
    userAccountControl: ['514'],
    objectGUID: [b64('00112233445566778899aabbccddeeff')],
    distinguishedName: ['CN=Ann Lee,OU=Sales,OU=EMEA,DC=corp,DC=example'],
  },
};

describe('DEFAULT_MAPPINGS', () => {
  it('both validate', () => {
    expect(compileMapping(DEFAULT_MAPPINGS.openldap).ok).toBe(true);
    expect(compileMapping(DEFAULT_MAPPINGS.activeDirectory).ok).toBe(true);
  });

  it('maps an inetOrgPerson entry', () => {
    const result = applyMapping(defaults('openldap'), openldapEntry);
    expect(result).toMatchObject({ ok: true, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(result.ok && result.organizationPath).toBeUndefined();
    expect(result.ok && result.user).toEqual({
      schemas: [CORE, ENT],
      userName: 'jdoe',
      name: { givenName: 'John', familyName: 'Doe' },
      displayName: 'John Doe',
      emails: [{ type: 'work', value: 'john.doe@example.com' }],
      phoneNumbers: [{ type: 'work', value: '+1 555 0100' }],
      title: 'Engineer',
      [ENT]: { employeeNumber: '1001', department: 'R&D' },
      externalId: '5b2a7c1e-1d4f-103f-9a0b-2f3e4d5c6b7a',
    });
  });

  it('maps an AD user: disabled bit, GUID byte order, OU path below the base', () => {
    const result = applyMapping(defaults('activeDirectory'), adEntry, {
      baseDn: 'DC=corp,DC=example',
    });
    expect(result.ok && result.organizationPath).toEqual(['EMEA', 'Sales']);
    expect(result.ok && result.user).toEqual({
      schemas: [CORE, ENT],
      userName: 'alee',
      name: { givenName: 'Ann', familyName: 'Lee' },
      displayName: 'Ann Lee',
      emails: [{ type: 'work', value: 'ann.lee@corp.example' }],
      title: 'Account Manager',
      [ENT]: { department: 'Sales', employeeNumber: 'E-042' },
      active: false,
      externalId: '33221100-5544-7766-8899-aabbccddeeff',
    });
  });

  it('fails an entry without the required userName, with every problem', () => {
    const { sAMAccountName: _, ...rest } = adEntry.attributes;
    const broken = { ...adEntry, attributes: { ...rest, userAccountControl: ['x'] } };
    expect(applyMapping(defaults('activeDirectory'), broken)).toEqual({
      ok: false,
      problems: [
        'userName: required, but LDAP attribute "sAMAccountName" is missing or empty',
        'active: adUserAccountControlDisabled: "x" is not an integer',
      ],
    });
  });
});

describe('element targets', () => {
  it('rules with the same filter fill one element; other filters make their own', () => {
    const mapping = compiled([
      { target: 'userName', source: 'uid' },
      { target: 'addresses[type eq "work"].locality', source: 'l' },
      { target: 'addresses[type eq "work"].postalCode', source: 'postalCode' },
      { target: 'addresses[type eq "home"].locality', source: 'homeCity' },
      { target: 'phoneNumbers[type eq "mobile"].value', source: 'mobile' },
    ]);
    const entry = {
      id: 'uid=a',
      attributes: { uid: ['a'], l: ['Oslo'], postalCode: ['0150'], homeCity: ['Bergen'] },
    };
    const result = applyMapping(mapping, entry);
    expect(result.ok && result.user.addresses).toEqual([
      { type: 'work', locality: 'Oslo', postalCode: '0150' },
      { type: 'home', locality: 'Bergen' },
    ]);
    expect(result.ok && 'phoneNumbers' in result.user).toBe(false);
  });
});
