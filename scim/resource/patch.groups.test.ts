import { describe, expect, it } from 'vitest';
import { groupKind, SCHEMA } from '../schemas/index.ts';
import { applyPatch, parsePatchRequest } from './patch.ts';
import { expectScimError } from './test-helpers.ts';
import type { ScimDoc } from './types.ts';

const ID = 'abf4dd94-a4c0-4f67-89c9-76b03340cb9b';
const base = (): ScimDoc => ({ schemas: [SCHEMA.group], displayName: 'Test SCIMv2' });

/** Runs a PatchOp body exactly as a client sends it. */
const patch = (Operations: unknown[], doc = base()) =>
  applyPatch(
    groupKind,
    { id: ID, doc },
    parsePatchRequest({ schemas: [SCHEMA.patchOp], Operations }),
  );

const fails = (ops: unknown[], scimType: Parameters<typeof expectScimError>[2]) =>
  expectScimError(() => patch(ops), 400, scimType);

describe('PATCH groups — Entra ID legacy', () => {
  it('Add members with $ref: null', () => {
    const out = patch([
      { op: 'Add', path: 'members', value: [{ value: 'id1' }, { value: 'id2', $ref: null }] },
    ]);
    expect(out.members).toEqual([{ kind: 'add', members: [{ value: 'id1' }, { value: 'id2' }] }]);
    expect(out.doc).toEqual(base());
    expect(out.changed).toBe(false);
  });

  it('Remove path members with a value removes only the listed members', () => {
    const out = patch([
      { op: 'Remove', path: 'members', value: [{ $ref: null, value: 'a2a0d3d4b9fa4d6a8f3e' }] },
    ]);
    expect(out.members).toEqual([{ kind: 'remove', ids: ['a2a0d3d4b9fa4d6a8f3e'] }]);
  });

  it('Replace displayName', () => {
    const out = patch([
      { op: 'Replace', path: 'displayName', value: '1879db59updatedDisplayName' },
    ]);
    expect(out.doc.displayName).toBe('1879db59updatedDisplayName');
    expect(out.changed).toBe(true);
    expect(out.members).toEqual([]);
  });
});

describe('PATCH groups — Entra ID current', () => {
  it('remove members[value eq "id"]', () => {
    const out = patch([
      { op: 'remove', path: 'members[value eq "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]' },
    ]);
    expect(out.members).toEqual([
      { kind: 'remove', ids: ['7f4bc1a3-285e-48ae-8202-5accb43efb0e'] },
    ]);
  });

  it('no-path replace of displayName and externalId', () => {
    const out = patch([{ op: 'replace', value: { displayName: 'New', externalId: 'ext-1' } }]);
    expect(out.doc).toEqual({ schemas: [SCHEMA.group], displayName: 'New', externalId: 'ext-1' });
  });
});

describe('PATCH groups — Okta', () => {
  it('rename with the readOnly id equal to the current id', () => {
    const out = patch([{ op: 'replace', value: { id: ID, displayName: 'Renamed' } }]);
    expect(out.doc.displayName).toBe('Renamed');
  });

  it('rename with a different id is a mutability error', () => {
    fails([{ op: 'replace', value: { id: 'another-id', displayName: 'Renamed' } }], 'mutability');
  });

  it('add members with a display label (kept, shown back)', () => {
    const out = patch([
      {
        op: 'add',
        path: 'members',
        value: [{ value: '23a35c27-23d3-4c03-b4c5-6443c09e7173', display: 'test.user@okta.local' }],
      },
    ]);
    expect(out.members).toEqual([
      {
        kind: 'add',
        members: [
          { value: '23a35c27-23d3-4c03-b4c5-6443c09e7173', display: 'test.user@okta.local' },
        ],
      },
    ]);
  });

  it('remove + add in one request, in order', () => {
    const out = patch([
      { op: 'remove', path: 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]' },
      {
        op: 'add',
        path: 'members',
        value: [{ value: '19fc4f7e-ba46-4ab9-8d4d-a4b7b1b8e0b0', display: 'x@okta.local' }],
      },
    ]);
    expect(out.members).toEqual([
      { kind: 'remove', ids: ['89bb1940-b905-4575-9e7f-6f887cfb368e'] },
      {
        kind: 'add',
        members: [{ value: '19fc4f7e-ba46-4ab9-8d4d-a4b7b1b8e0b0', display: 'x@okta.local' }],
      },
    ]);
  });
});

describe('PATCH groups — OneLogin', () => {
  it('add members, then remove one with a value filter', () => {
    const out = patch([
      { op: 'add', path: 'members', value: [{ value: 'u-1' }, { value: 'u-2' }] },
      { op: 'remove', path: 'members[value eq "u-1"]' },
    ]);
    expect(out.members).toEqual([
      { kind: 'add', members: [{ value: 'u-1' }, { value: 'u-2' }] },
      { kind: 'remove', ids: ['u-1'] },
    ]);
  });
});

describe('PATCH groups — generic', () => {
  it('replace path members replaces; remove path members clears', () => {
    expect(
      patch([{ op: 'replace', path: 'members', value: [{ value: 'a', type: 'User' }] }]).members,
    ).toEqual([{ kind: 'replace', members: [{ value: 'a', type: 'User' }] }]);
    expect(patch([{ op: 'replace', path: 'members', value: [] }]).members).toEqual([
      { kind: 'clear' },
    ]);
    expect(patch([{ op: 'remove', path: 'members' }]).members).toEqual([{ kind: 'clear' }]);
  });

  it('no-path add/replace with a members key behaves like path members', () => {
    const out = patch([
      { op: 'add', value: { members: [{ value: 'a' }] } },
      { op: 'replace', value: { displayName: 'D', members: [{ value: 'b' }] } },
    ]);
    expect(out.members).toEqual([
      { kind: 'add', members: [{ value: 'a' }] },
      { kind: 'replace', members: [{ value: 'b' }] },
    ]);
    expect(out.doc.displayName).toBe('D');
  });

  it('value eq joined by or removes several; duplicates collapse', () => {
    const out = patch([
      { op: 'remove', path: 'members[value eq "a" or value eq "b" or value eq "a"]' },
    ]);
    expect(out.members).toEqual([{ kind: 'remove', ids: ['a', 'b'] }]);
  });

  it('an empty add is no member op at all', () => {
    expect(patch([{ op: 'add', path: 'members', value: [] }]).members).toEqual([]);
  });
});

describe('PATCH groups — bad input', () => {
  it('members filters other than value eq … or … are invalidFilter', () => {
    for (const path of [
      'members[value ne "a"]',
      'members[type eq "User"]',
      'members[value eq "a" and type eq "User"]',
      'members[not (value eq "a")]',
      'members[value sw "a"]',
    ]) {
      fails([{ op: 'remove', path }], 'invalidFilter');
    }
  });

  it('member sub-attributes cannot be modified', () => {
    fails([{ op: 'replace', path: 'members[value eq "a"].display', value: 'x' }], 'mutability');
    fails([{ op: 'add', path: 'members[value eq "a"]', value: { value: 'a' } }], 'mutability');
    fails([{ op: 'replace', path: 'members.value', value: 'x' }], 'mutability');
  });

  it('type confusion in members is invalidValue', () => {
    for (const value of ['x', {}, [1], [{ display: 'no value' }], [{ value: 5 }]]) {
      fails([{ op: 'add', path: 'members', value }], 'invalidValue');
    }
  });

  it('displayName cannot be removed or blanked; id and meta are readOnly', () => {
    fails([{ op: 'remove', path: 'displayName' }], 'mutability');
    fails([{ op: 'replace', path: 'displayName', value: '' }], 'invalidValue');
    fails([{ op: 'replace', path: 'displayName', value: 'a\u001fb' }], 'invalidValue');
    fails([{ op: 'replace', path: 'id', value: ID }], 'mutability');
    fails([{ op: 'add', path: 'meta.version', value: 'W/"1"' }], 'mutability');
  });

  it('a failing op after member ops discards everything (throws)', () => {
    fails(
      [
        { op: 'add', path: 'members', value: [{ value: 'a' }] },
        { op: 'replace', path: 'displayName', value: null },
      ],
      'invalidValue',
    );
  });
});
