import { describe, expect, it } from 'vitest';
import { SCHEMA, userKind } from '../schemas/index.ts';
import { applyPatch, parsePatchRequest } from './patch.ts';
import { expectScimError } from './test-helpers.ts';
import type { ScimDoc } from './types.ts';

const ENT = SCHEMA.enterprise;
const ID = '2819c223-7f76-453a-919d-413861904646';

const base = (): ScimDoc => ({
  schemas: [SCHEMA.user],
  userName: 'bjensen@example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  active: true,
});

/** Runs a PatchOp body exactly as a client sends it. */
const patch = (doc: ScimDoc, Operations: unknown[]) =>
  applyPatch(
    userKind,
    { id: ID, doc },
    parsePatchRequest({ schemas: [SCHEMA.patchOp], Operations }),
  );

const fails = (doc: ScimDoc, ops: unknown[], scimType: Parameters<typeof expectScimError>[2]) =>
  expectScimError(() => patch(doc, ops), 400, scimType);

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

  it('Add with capitalised sub-attribute names and string booleans (roles)', () => {
    const out = patch(base(), [
      {
        op: 'Add',
        path: 'roles',
        value: [{ Primary: 'True', Type: 'WindowsAzureActiveDirectoryRole', Value: 'Admin' }],
      },
    ]);
    expect(out.doc.roles).toEqual([
      { primary: true, type: 'WindowsAzureActiveDirectoryRole', value: 'Admin' },
    ]);
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

describe('PATCH users — generic RFC 7644 semantics', () => {
  it('add to a multi-valued attribute appends and skips identical values', () => {
    const doc = { ...base(), emails: [{ type: 'work', value: 'w@x' }] };
    const out = patch(doc, [
      {
        op: 'add',
        path: 'emails',
        value: [
          { type: 'work', value: 'w@x' },
          { type: 'home', value: 'h@x' },
        ],
      },
    ]);
    expect(out.doc.emails).toEqual([
      { type: 'work', value: 'w@x' },
      { type: 'home', value: 'h@x' },
    ]);
  });

  it('replace of a multi-valued attribute replaces the whole list', () => {
    const doc = { ...base(), emails: [{ type: 'work', value: 'w@x' }] };
    const out = patch(doc, [
      { op: 'replace', path: 'emails', value: [{ type: 'home', value: 'h@x' }] },
    ]);
    expect(out.doc.emails).toEqual([{ type: 'home', value: 'h@x' }]);
  });

  it('replace of a complex singular replaces the given sub-attributes and keeps the others', () => {
    const out = patch(base(), [
      { op: 'replace', path: 'name', value: { givenName: 'B', formatted: 'B J' } },
    ]);
    expect(out.doc.name).toEqual({ givenName: 'B', familyName: 'Jensen', formatted: 'B J' });
  });

  it('adding a primary value makes the others non-primary', () => {
    const doc = { ...base(), emails: [{ type: 'work', value: 'w@x', primary: true }] };
    const out = patch(doc, [
      { op: 'add', path: 'emails', value: [{ type: 'home', value: 'h@x', primary: true }] },
    ]);
    expect(out.doc.emails).toEqual([
      { type: 'work', value: 'w@x' },
      { type: 'home', value: 'h@x', primary: true },
    ]);
    const viaFilter = patch(out.doc, [
      { op: 'replace', path: 'emails[type eq "work"].primary', value: true },
    ]);
    expect(viaFilter.doc.emails).toEqual([
      { type: 'work', value: 'w@x', primary: true },
      { type: 'home', value: 'h@x' },
    ]);
  });

  it('null unassigns; changed is false when nothing changes', () => {
    const doc = { ...base(), title: 'CEO' };
    expect(patch(doc, [{ op: 'replace', path: 'title', value: null }]).doc).not.toHaveProperty(
      'title',
    );
    const same = patch(base(), [{ op: 'replace', path: 'active', value: 'True' }]);
    expect(same.changed).toBe(false);
    expect(patch(base(), [{ op: 'remove', path: 'title' }]).changed).toBe(false);
  });

  it('does not mutate the input document', () => {
    const doc = { ...base(), emails: [{ type: 'work', value: 'w@x' }] };
    const snapshot = structuredClone(doc);
    patch(doc, [
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'n@x' },
      { op: 'replace', path: 'name.givenName', value: 'Z' },
    ]);
    expect(doc).toEqual(snapshot);
  });

  it('is atomic: a failing op leaves nothing applied', () => {
    const doc = base();
    const snapshot = structuredClone(doc);
    fails(
      doc,
      [
        { op: 'replace', path: 'nickName', value: 'x' },
        { op: 'replace', path: 'meta.created', value: 'y' },
      ],
      'mutability',
    );
    expect(doc).toEqual(snapshot);
  });

  it('remove with a filter that matches nothing is noTarget (RFC 7644 §3.5.2.2)', () => {
    fails(base(), [{ op: 'remove', path: 'emails[type eq "work"]' }], 'noTarget');
  });

  it('a no-match filter that cannot describe a new value is noTarget', () => {
    fails(base(), [{ op: 'add', path: 'emails[type ne "work"].value', value: 'a@b' }], 'noTarget');
    fails(
      base(),
      [{ op: 'add', path: 'emails[type eq "a" or type eq "b"].value', value: 'a@b' }],
      'noTarget',
    );
  });

  it('no-path add/replace: readOnly keys are a mutability error, unknown keys are ignored', () => {
    fails(base(), [{ op: 'replace', value: { id: 'someone-else' } }], 'mutability');
    fails(base(), [{ op: 'replace', value: { meta: { created: 'x' } } }], 'mutability');
    fails(base(), [{ op: 'add', value: { groups: [{ value: 'g' }] } }], 'mutability');
    const out = patch(base(), [
      { op: 'replace', value: { id: ID, unknownThing: 1, nickName: 'N' } },
    ]);
    expect(out.doc.nickName).toBe('N');
    expect(out.doc).not.toHaveProperty('unknownThing');
    fails(base(), [{ op: 'replace', value: 'x' }], 'invalidValue');
  });
});

describe('PATCH users — bad input', () => {
  it('readOnly targets are a mutability error', () => {
    for (const path of [
      'id',
      'meta',
      'meta.created',
      'groups',
      'meta.lastModified',
      `${ENT}:manager.displayName`,
    ]) {
      fails(base(), [{ op: 'replace', path, value: 'x' }], 'mutability');
    }
    fails(base(), [{ op: 'remove', path: 'groups' }], 'mutability');
  });

  it('unknown attributes and forbidden names are invalidPath', () => {
    for (const path of [
      'nope',
      'name.nope',
      'emails[type eq "work"].nope',
      'constructor',
      'prototype',
      'name.constructor',
      'urn:x:y:z:nope',
    ]) {
      fails(base(), [{ op: 'add', path, value: 'x' }], 'invalidPath');
    }
    fails(base(), [{ op: 'remove', path: 'nope' }], 'invalidPath');
    fails(base(), [{ op: 'add', path: 'name[givenName eq "x"]', value: 'x' }], 'invalidPath');
    fails(base(), [{ op: 'add', path: 'emails.value', value: 'x' }], 'invalidPath');
  });

  it('unknown attributes inside a value filter are invalidFilter', () => {
    fails(base(), [{ op: 'remove', path: 'emails[nope eq "x"]' }], 'invalidFilter');
  });

  it('required attributes cannot be removed or emptied', () => {
    fails(base(), [{ op: 'remove', path: 'userName' }], 'mutability');
    fails(base(), [{ op: 'replace', path: 'userName', value: null }], 'invalidValue');
    fails(base(), [{ op: 'replace', path: 'userName', value: '  ' }], 'invalidValue');
    fails(base(), [{ op: 'replace', path: 'userName', value: 'a\u0000' }], 'invalidValue');
    fails(base(), [{ op: 'replace', value: { userName: 'x'.repeat(257) } }], 'invalidValue');
  });

  it('type confusion and two primaries are invalidValue', () => {
    fails(base(), [{ op: 'replace', path: 'emails', value: 'x' }], 'invalidValue');
    fails(base(), [{ op: 'replace', path: 'name', value: 'x' }], 'invalidValue');
    fails(base(), [{ op: 'replace', path: 'active', value: 'maybe' }], 'invalidValue');
    fails(base(), [{ op: 'replace', path: 'emails', value: {} }], 'invalidValue');
    fails(
      base(),
      [
        {
          op: 'add',
          path: 'emails',
          value: [
            { value: 'a', primary: true },
            { value: 'b', primary: true },
          ],
        },
      ],
      'invalidValue',
    );
  });
});
