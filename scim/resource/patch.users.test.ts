import { describe, expect, it } from 'vitest';
import { SCHEMA } from '../schemas/index.ts';
import { baseUser, patchUser } from './test-helpers.ts';

const ENT = SCHEMA.enterprise;
const base = baseUser;
const patch = patchUser;

describe('PATCH users — Entra ID legacy', () => {
  it('Replace active with the string "False"', () => {
    const out = patch(base(), [{ op: 'Replace', path: 'active', value: 'False' }]);
    expect(out.doc.active).toBe(false);
    expect(out.changed).toBe(true);
  });

  it('Add emails[type eq "work"].value on a user without emails creates the value', () => {
    const out = patch(base(), [{ op: 'Add', path: 'emails[type eq "work"].value', value: 'a@b' }]);
    expect(out.doc.emails).toEqual([{ type: 'work', value: 'a@b' }]);
  });

  it('same for phoneNumbers and addresses', () => {
    const out = patch(base(), [
      { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555' },
      { op: 'Add', path: 'addresses[type eq "work"].streetAddress', value: '1 Main St' },
      { op: 'Add', path: 'addresses[type eq "work"].locality', value: 'Springfield' },
    ]);
    expect(out.doc.phoneNumbers).toEqual([{ type: 'mobile', value: '+1 555' }]);
    expect(out.doc.addresses).toEqual([
      { type: 'work', streetAddress: '1 Main St', locality: 'Springfield' },
    ]);
  });

  it('Replace emails[type eq "work"].value updates the matching value only', () => {
    const doc = {
      ...base(),
      emails: [
        { type: 'work', value: 'old@x', primary: true },
        { type: 'home', value: 'h@x' },
      ],
    };
    const out = patch(doc, [
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
    ]);
    expect(out.doc.emails).toEqual([
      { type: 'work', value: 'updatedEmail@microsoft.com', primary: true },
      { type: 'home', value: 'h@x' },
    ]);
    expect(out.doc.name).toEqual({ givenName: 'Barbara', familyName: 'updatedFamilyName' });
  });

  it('Add manager with an array value, unqualified path', () => {
    const out = patch(base(), [
      {
        op: 'Add',
        path: 'manager',
        value: [{ $ref: 'https://hub/scim/v2/Users/m1', value: 'm1' }],
      },
    ]);
    expect(out.doc[ENT]).toEqual({
      manager: { $ref: 'https://hub/scim/v2/Users/m1', value: 'm1' },
    });
    expect(out.doc.schemas).toEqual([SCHEMA.user, ENT]);
  });

  it('Add with capitalised sub-attribute names and string booleans (entitlements)', () => {
    const out = patch(base(), [
      {
        op: 'Add',
        path: 'entitlements',
        value: [{ Primary: 'True', Type: 'WindowsAzureActiveDirectoryRole', Value: 'Admin' }],
      },
    ]);
    expect(out.doc.entitlements).toEqual([
      { primary: true, type: 'WindowsAzureActiveDirectoryRole', value: 'Admin' },
    ]);
  });

  it('refuses roles: they are computed from role assignments (400 mutability)', () => {
    const op = { op: 'Add', path: 'roles', value: [{ Value: 'Admin' }] };
    expect(() => patch(base(), [op])).toThrowError(
      expect.objectContaining({ status: 400, scimType: 'mutability' }),
    );
  });

  it('Replace userName renames (uniqueness is the caller’s job)', () => {
    const out = patch(base(), [
      { op: 'Replace', path: 'userName', value: '5b50642d@testuser.com' },
    ]);
    expect(out.doc.userName).toBe('5b50642d@testuser.com');
  });

  it('Add nickName (single-valued, with path)', () => {
    expect(patch(base(), [{ op: 'Add', path: 'nickName', value: 'Babs' }]).doc.nickName).toBe(
      'Babs',
    );
  });
});

describe('PATCH users — Entra ID current (aadOptscim062020)', () => {
  it('replace active with a boolean', () => {
    expect(patch(base(), [{ op: 'replace', path: 'active', value: false }]).doc.active).toBe(false);
  });

  it('no-path replace whose value keys are paths', () => {
    const out = patch(base(), [
      { op: 'replace', value: { 'name.givenName': 'A', [`${ENT}:department`]: 'X' } },
    ]);
    expect(out.doc.name).toEqual({ givenName: 'A', familyName: 'Jensen' });
    expect(out.doc[ENT]).toEqual({ department: 'X' });
    expect(out.doc.schemas).toEqual([SCHEMA.user, ENT]);
  });

  it('no-path add of a simple attribute', () => {
    expect(patch(base(), [{ op: 'add', value: { nickName: 'Babs' } }]).doc.nickName).toBe('Babs');
  });

  it('enterprise paths with a colon before the attribute, manager as a bare string', () => {
    const out = patch(base(), [
      { op: 'add', path: `${ENT}:department`, value: 'Sales' },
      { op: 'replace', path: `${ENT}:manager`, value: 'm2' },
      { op: 'add', path: `${ENT}:employeeNumber`, value: 42 },
    ]);
    expect(out.doc[ENT]).toEqual({
      department: 'Sales',
      manager: { value: 'm2' },
      employeeNumber: '42',
    });
  });

  it('remove of the manager and of the last extension attribute drops the extension', () => {
    const doc = { ...base(), schemas: [SCHEMA.user, ENT], [ENT]: { manager: { value: 'm' } } };
    const out = patch(doc, [{ op: 'remove', path: `${ENT}:manager` }]);
    expect(out.doc).not.toHaveProperty(ENT);
    expect(out.doc.schemas).toEqual([SCHEMA.user]);
  });

  it('remove emails[type eq "work"].value drops that email', () => {
    const doc = {
      ...base(),
      emails: [
        { type: 'work', value: 'w@x' },
        { type: 'home', value: 'h@x' },
      ],
    };
    const out = patch(doc, [{ op: 'remove', path: 'emails[type eq "work"].value' }]);
    expect(out.doc.emails).toEqual([{ type: 'home', value: 'h@x' }]);
  });
});

describe('PATCH users — Okta', () => {
  it('deactivation: no-path replace {active: false}', () => {
    const out = patch(base(), [{ op: 'replace', value: { active: false } }]);
    expect(out.doc.active).toBe(false);
  });

  it('password change via no-path replace: flagged, never stored', () => {
    const out = patch(base(), [{ op: 'replace', value: { password: 'n3wP@ss' } }]);
    expect(out.passwordSet).toBe(true);
    expect(out.changed).toBe(false);
    expect(JSON.stringify(out.doc)).not.toContain('n3wP@ss');
  });

  it('no-path replace of several profile attributes', () => {
    const out = patch(base(), [
      {
        op: 'replace',
        value: {
          name: { givenName: 'Another', middleName: 'Marie' },
          emails: [{ primary: true, value: 'a@okta.local', type: 'work' }],
          displayName: 'Another User',
        },
      },
    ]);
    expect(out.doc.name).toEqual({
      givenName: 'Another',
      middleName: 'Marie',
      familyName: 'Jensen',
    });
    expect(out.doc.emails).toEqual([{ primary: true, value: 'a@okta.local', type: 'work' }]);
  });
});

describe('PATCH users — OneLogin', () => {
  it('replace active with "true" and a filtered primary email', () => {
    const out = patch({ ...base(), active: false }, [
      { op: 'replace', path: 'active', value: 'true' },
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'jdoe@example.com' },
    ]);
    expect(out.doc.active).toBe(true);
    expect(out.doc.emails).toEqual([{ type: 'work', value: 'jdoe@example.com' }]);
  });
});
