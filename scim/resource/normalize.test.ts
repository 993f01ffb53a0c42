import { describe, expect, it } from 'vitest';
import { groupKind, resolveAttribute, SCHEMA, userKind } from '../schemas/index.ts';
import { normalizeAttributeValue, normalizeResource } from './normalize.ts';
import { expectScimError } from './test-helpers.ts';

const ENT = SCHEMA.enterprise;
const create = (body: unknown) => normalizeResource(userKind, body, 'create');
const createGroup = (body: unknown) => normalizeResource(groupKind, body, 'create');
const user = (extra: Record<string, unknown>) => ({
  schemas: [SCHEMA.user],
  userName: 'bjensen',
  ...extra,
});
const invalidValue = (body: unknown) => expectScimError(() => create(body), 400, 'invalidValue');

describe('normalizeResource — Entra ID', () => {
  it('POST user with meta, roles: [], explicit nulls, the enterprise schema and a bare manager', () => {
    const body = {
      schemas: [SCHEMA.user, ENT],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
      active: true,
      displayName: null,
      emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@testuser.com' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      [ENT]: { department: 'Sales', employeeNumber: null, manager: '123' },
    };
    expect(create(body)).toEqual({
      hasPassword: false,
      doc: {
        schemas: [SCHEMA.user, ENT],
        externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
        userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
        active: true,
        emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@testuser.com' }],
        name: {
          formatted: 'givenName familyName',
          familyName: 'familyName',
          givenName: 'givenName',
        },
        [ENT]: { department: 'Sales', manager: { value: '123' } },
      },
    });
  });

  it('legacy: active "True" / "False" as strings, capitalised sub-attributes', () => {
    const out = create(
      user({ active: 'False', emails: [{ Primary: 'True', Type: 'work', Value: 'b@x.com' }] }),
    );
    expect(out.doc.active).toBe(false);
    expect(out.doc.emails).toEqual([{ primary: true, type: 'work', value: 'b@x.com' }]);
    expect(create(user({ active: 'TRUE' })).doc.active).toBe(true);
    invalidValue(user({ active: 'yes' }));
    invalidValue(user({ active: 1 }));
  });

  it('manager as a one-element array, a bare string, or unqualified at top level', () => {
    const arr = create(user({ [ENT]: { manager: [{ $ref: 'https://x/Users/9', value: '9' }] } }));
    expect(arr.doc[ENT]).toEqual({ manager: { $ref: 'https://x/Users/9', value: '9' } });
    expect(create(user({ manager: '7' })).doc[ENT]).toEqual({ manager: { value: '7' } });
    expect(create(user({ [ENT]: { manager: '' } })).doc[ENT]).toBeUndefined();
    invalidValue(user({ [ENT]: { manager: [{ value: '1' }, { value: '2' }] } }));
  });

  it('extension attributes as top-level URN-qualified keys', () => {
    const out = create(user({ [`${ENT}:department`]: 'X', [`${ENT}:manager`]: { value: 'm' } }));
    expect(out.doc[ENT]).toEqual({ department: 'X', manager: { value: 'm' } });
    expect(out.doc.schemas).toEqual([SCHEMA.user, ENT]);
  });

  it('POST group with the extra ADSCIM schema URN', () => {
    const body = {
      schemas: [
        SCHEMA.group,
        'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group',
      ],
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'displayName',
      meta: { resourceType: 'Group' },
    };
    expect(createGroup(body)).toEqual({
      hasPassword: false,
      doc: {
        schemas: [SCHEMA.group],
        externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
        displayName: 'displayName',
      },
    });
  });
});

describe('normalizeResource — Okta', () => {
  const oktaUser = {
    schemas: [SCHEMA.user],
    userName: 'test.user@okta.local',
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
    displayName: 'Test User',
    locale: 'en-US',
    externalId: '00ujl29u0le5T6Aj10h7',
    groups: [],
    password: '1mz050nq',
    active: true,
  };

  it('POST user with password and groups: [] — password flagged, never stored', () => {
    const out = create(oktaUser);
    expect(out.hasPassword).toBe(true);
    expect(out.doc).toEqual({
      schemas: [SCHEMA.user],
      userName: 'test.user@okta.local',
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      active: true,
    });
    expect(JSON.stringify(out)).not.toContain('1mz050nq');
  });

  it('PUT with id, meta and groups, without active: keeps the current active', () => {
    const { active: _a, ...withoutActive } = oktaUser;
    const body = {
      ...withoutActive,
      id: '23a35c27-23d3-4c03-b4c5-6443c09e7173',
      groups: [{ value: 'g1', display: 'Group 1' }],
      meta: { resourceType: 'User', created: '2024-01-01T00:00:00Z' },
    };
    const current = { id: 'other-id', doc: { userName: 'x', active: false } };
    const out = normalizeResource(userKind, body, 'replace', current);
    expect(out.doc.active).toBe(false);
    expect(out.doc).not.toHaveProperty('id');
    expect(out.doc).not.toHaveProperty('meta');
    expect(out.doc).not.toHaveProperty('groups');
    const explicit = normalizeResource(userKind, { ...body, active: true }, 'replace', current);
    expect(explicit.doc.active).toBe(true);
  });

  it('POST group with members: [] and with members (display label kept)', () => {
    const empty = createGroup({ schemas: [SCHEMA.group], displayName: 'Test SCIMv2', members: [] });
    expect(empty).toEqual({
      doc: { schemas: [SCHEMA.group], displayName: 'Test SCIMv2' },
      members: [],
      hasPassword: false,
    });
    const out = createGroup({
      schemas: [SCHEMA.group],
      displayName: 'G',
      members: [
        { value: 'u1', display: 'a@x' },
        { value: 'g2', type: 'group', $ref: null },
        { value: 'u1' },
      ],
    });
    expect(out.members).toEqual([
      { value: 'u1', display: 'a@x' },
      { value: 'g2', type: 'Group' },
    ]);
    expect(out.doc).not.toHaveProperty('members');
  });
});

describe('normalizeResource — OneLogin', () => {
  it('rendered template with active "true" and the enterprise extension', () => {
    const out = create({
      schemas: [SCHEMA.user, ENT],
      userName: 'jdoe@example.com',
      name: { familyName: 'Doe', givenName: 'Jane' },
      emails: [{ value: 'jdoe@example.com', type: 'work', primary: true }],
      active: 'true',
      title: '',
      [ENT]: { department: 'R&D', manager: { value: 'm-1', displayName: 'Boss' } },
    });
    expect(out.doc).toEqual({
      schemas: [SCHEMA.user, ENT],
      userName: 'jdoe@example.com',
      name: { familyName: 'Doe', givenName: 'Jane' },
      emails: [{ value: 'jdoe@example.com', type: 'work', primary: true }],
      active: true,
      [ENT]: { department: 'R&D', manager: { value: 'm-1' } },
    });
  });
});

describe('normalizeAttributeValue', () => {
  it('coerces a PATCH value for a resolved path', () => {
    const active = resolveAttribute(userKind, 'active')!;
    expect(normalizeAttributeValue(userKind, active, 'False')).toBe(false);
    const given = resolveAttribute(userKind, 'name.givenName')!;
    expect(normalizeAttributeValue(userKind, given, 'A')).toBe('A');
    const emails = resolveAttribute(userKind, 'emails')!;
    expect(
      normalizeAttributeValue(userKind, emails, { Value: 'a@x' }, { wrapObject: true }),
    ).toEqual([{ value: 'a@x' }]);
    expect(normalizeAttributeValue(userKind, emails, null)).toBeUndefined();
  });
});
