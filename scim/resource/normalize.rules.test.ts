import { describe, expect, it } from 'vitest';
import { groupKind, SCHEMA, userKind } from '../schemas/index.ts';
import { normalizeResource } from './normalize.ts';
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

describe('normalizeResource — generic rules', () => {
  it('matches attribute names case-insensitively and writes canonical case', () => {
    const out = create({
      SCHEMAS: [SCHEMA.user.toUpperCase()],
      USERNAME: 'a',
      Name: { GIVENNAME: 'A' },
      phonenumbers: [{ VALUE: '+1', TYPE: 'mobile' }],
      [ENT.toLowerCase()]: { Department: 'D' },
    });
    expect(out.doc).toEqual({
      schemas: [SCHEMA.user, ENT],
      userName: 'a',
      name: { givenName: 'A' },
      phoneNumbers: [{ value: '+1', type: 'mobile' }],
      [ENT]: { department: 'D' },
    });
  });

  it('drops unknown attributes, unknown sub-attributes and readOnly sub-attributes', () => {
    const out = create(
      user({ nonsense: 1, name: { givenName: 'A', nope: 2 }, 'urn:example:ext:1.0:User:x': 'y' }),
    );
    expect(out.doc).toEqual({
      schemas: [SCHEMA.user],
      userName: 'bjensen',
      name: { givenName: 'A' },
    });
  });

  it('refuses prototype keys even in objects that did not come from parseJsonBody', () => {
    const body = JSON.parse(`{"schemas":["${SCHEMA.user}"],"userName":"a","__proto__":{"x":1}}`);
    expectScimError(() => create(body), 400, 'invalidSyntax');
    const nested = JSON.parse(
      `{"schemas":["${SCHEMA.user}"],"userName":"a","name":{"__proto__":{"x":1}}}`,
    );
    expect(create(nested).doc).not.toHaveProperty('name');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('requires the core schema URN in schemas', () => {
    for (const schemas of [undefined, [], [ENT], 'x', [SCHEMA.group], [1]]) {
      expectScimError(() => create({ schemas, userName: 'a' }), 400, 'invalidSyntax');
    }
    expectScimError(() => create([]), 400, 'invalidSyntax');
  });

  it('refuses the same attribute given twice in different spellings', () => {
    expectScimError(
      () => create(user({ [ENT]: { department: 'a' }, [`${ENT}:department`]: 'b' })),
      400,
      'invalidSyntax',
    );
    expectScimError(
      () => create(user({ name: { givenName: 'a' }, 'name.givenName': 'b' })),
      400,
      'invalidSyntax',
    );
  });

  it('coerces numbers to strings only for string attributes', () => {
    expect(create(user({ [ENT]: { employeeNumber: 1234 } })).doc[ENT]).toEqual({
      employeeNumber: '1234',
    });
    invalidValue(user({ displayName: true }));
    invalidValue(user({ profileUrl: 5 }));
    invalidValue(user({ displayName: { a: 1 } }));
  });

  it('accepts roles: [] and entitlements with string booleans', () => {
    const out = create(user({ roles: [], entitlements: [{ value: 'e', primary: 'True' }] }));
    expect(out.doc).not.toHaveProperty('roles');
    expect(out.doc.entitlements).toEqual([{ value: 'e', primary: true }]);
  });

  it('refuses type confusion', () => {
    invalidValue(user({ emails: 'x' }));
    invalidValue(user({ emails: { value: 'x' } }));
    invalidValue(user({ emails: ['x'] }));
    invalidValue(user({ name: 'x' }));
    invalidValue(user({ name: ['x'] }));
    invalidValue(user({ [ENT]: 'Sales' }));
    for (const members of [{}, 'x', [1], [{}], [{ value: '' }], [{ value: 'a', type: 'Robot' }]]) {
      expectScimError(
        () => createGroup({ schemas: [SCHEMA.group], displayName: 'G', members }),
        400,
        'invalidValue',
      );
    }
  });

  it('refuses more than one primary value', () => {
    invalidValue(
      user({
        emails: [
          { value: 'a@x', primary: true },
          { value: 'b@x', primary: 'true' },
        ],
      }),
    );
  });

  it('checks userName: required, not blank, at most 256 characters, no control characters', () => {
    for (const userName of [
      undefined,
      null,
      '',
      '   ',
      'a'.repeat(257),
      'a\u0000b',
      'a\nb',
      'a\u007fb',
      'a\u0085b',
    ]) {
      invalidValue({ schemas: [SCHEMA.user], userName });
    }
    expect(create(user({ userName: '😀'.repeat(256) })).doc.userName).toBe('😀'.repeat(256));
    expect(create(user({ userName: 'Zoë Ünïcode' })).doc.userName).toBe('Zoë Ünïcode');
  });

  it('checks group displayName the same way', () => {
    for (const displayName of [undefined, '', ' \t ', 'x'.repeat(257), 'a\u0001']) {
      expectScimError(
        () => createGroup({ schemas: [SCHEMA.group], displayName }),
        400,
        'invalidValue',
      );
    }
  });

  it('validates dateTime values', () => {
    const kind = {
      ...userKind,
      core: {
        ...userKind.core,
        attributes: [
          ...userKind.core.attributes,
          {
            ...userKind.core.attributes[0]!,
            name: 'hired',
            type: 'dateTime' as const,
            required: false,
          },
        ],
      },
    };
    const out = normalizeResource(kind, user({ hired: '2024-02-29T10:00:00Z' }), 'create');
    expect(out.doc.hired).toBe('2024-02-29T10:00:00Z');
    for (const hired of ['yesterday', '2024-13-01T00:00:00Z', 5]) {
      expectScimError(
        () => normalizeResource(kind, user({ hired }), 'create'),
        400,
        'invalidValue',
      );
    }
  });
});
