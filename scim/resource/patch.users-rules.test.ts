import { describe, expect, it } from 'vitest';
import { SCHEMA } from '../schemas/index.ts';
import { baseUser, patchUser, patchUserFails, USER_ID } from './test-helpers.ts';

const ENT = SCHEMA.enterprise;
const ID = USER_ID;
const base = baseUser;
const patch = patchUser;
const fails = patchUserFails;

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

describe('PATCH users — decisions beyond the RFC', () => {
  it('a new manager value drops the old $ref; the same value merges', () => {
    const doc = { ...base(), [ENT]: { manager: { value: 'm1', $ref: 'https://hub/Users/m1' } } };
    const changed = patch(doc, [{ op: 'replace', path: `${ENT}:manager`, value: { value: 'm2' } }]);
    expect(changed.doc[ENT]).toEqual({ manager: { value: 'm2' } });
    const viaSub = patch(doc, [{ op: 'replace', path: `${ENT}:manager.value`, value: 'm3' }]);
    expect(viaSub.doc[ENT]).toEqual({ manager: { value: 'm3' } });
    const same = patch(doc, [{ op: 'add', path: 'manager', value: [{ value: 'm1' }] }]);
    expect(same.changed).toBe(false);
  });

  it('add path password sets the flag and stores nothing', () => {
    const out = patch(base(), [{ op: 'add', path: 'password', value: '1234' }]);
    expect(out).toMatchObject({ passwordSet: true, changed: false });
    expect(out.doc).not.toHaveProperty('password');
    fails(base(), [{ op: 'replace', path: 'password', value: 1234 }], 'invalidValue');
  });

  it('remove path emails with a value removes the values that match it', () => {
    const doc = {
      ...base(),
      emails: [
        { type: 'work', value: 'w@x' },
        { type: 'home', value: 'h@x' },
      ],
    };
    const out = patch(doc, [{ op: 'remove', path: 'emails', value: [{ Value: 'W@X' }] }]);
    expect(out.doc.emails).toEqual([{ type: 'home', value: 'h@x' }]);
  });

  it('replace with a filter and no match creates the value (Entra), not noTarget', () => {
    const out = patch(base(), [
      { op: 'replace', path: 'emails[type eq "work"]', value: { value: 'w@x' } },
    ]);
    expect(out.doc.emails).toEqual([{ type: 'work', value: 'w@x' }]);
  });

  it('an untouched userName imported before the rules is not re-checked', () => {
    const legacy = { ...base(), userName: 'x'.repeat(300) };
    expect(patch(legacy, [{ op: 'replace', path: 'title', value: 'T' }]).doc.title).toBe('T');
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

  it('__proto__ keys in a no-path value are invalidPath', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"nickName":"N"}');
    fails(base(), [{ op: 'add', value }], 'invalidPath');
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
