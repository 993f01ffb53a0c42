import { describe, expect, it } from 'vitest';
import type { Entry } from '../../agent/protocol.ts';
import { applyMapping } from './apply.ts';
import { compiled } from './test-helpers.ts';

const mapping = compiled([
  { target: 'userName', source: 'uid' },
  { target: 'displayName', source: 'cn' },
  { target: 'title', source: 'ou', transform: { name: 'join', separator: ', ' } },
  { target: 'emails[type eq "work"].value', source: 'mail' },
]);
const hashOf = (entry: Entry) => {
  const r = applyMapping(mapping, entry);
  if (!r.ok) throw new Error(r.problems.join());
  return r.hash;
};
const base: Entry = {
  id: 'uid=a,dc=x',
  attributes: {
    uid: ['a'],
    cn: ['A'],
    ou: ['x', 'y'],
    mail: ['a@x'],
    objectClass: ['top', 'person'],
  },
};

describe('hash', () => {
  it('is independent of attribute order, name case, and of the DN when no rule reads it', () => {
    const reordered: Entry = {
      id: 'UID=a, DC=x',
      attributes: {
        objectClass: ['person', 'top'],
        mail: ['a@x'],
        ou: ['x', 'y'],
        CN: ['A'],
        uid: ['a'],
      },
    };
    expect(hashOf(reordered)).toBe(hashOf(base));
  });
  it('ignores attributes and values the mapping does not use', () => {
    const extra = {
      ...base,
      attributes: { ...base.attributes, description: ['new'], cn: ['A', 'Alias'] },
    };
    expect(hashOf(extra)).toBe(hashOf(base));
  });
  it('changes when a mapped value changes, including the order of joined values', () => {
    // Values are not sorted: the mapped document itself differs, so the stored one is stale.
    const moved = { ...base, attributes: { ...base.attributes, ou: ['y', 'x'] } };
    expect(hashOf(moved)).not.toBe(hashOf(base));
    const renamed = { ...base, attributes: { ...base.attributes, mail: ['b@x'] } };
    expect(hashOf(renamed)).not.toBe(hashOf(base));
  });
  it('covers the organisation path', () => {
    const org = compiled([
      { target: 'userName', source: 'uid' },
      {
        target: 'urn:idhub:params:scim:schemas:extension:idhub:2.0:User:organization',
        transform: 'dnToOrganization',
      },
    ]);
    const a = applyMapping(org, { id: 'uid=a,ou=S,dc=x', attributes: { uid: ['a'] } });
    const b = applyMapping(org, { id: 'uid=a,ou=T,dc=x', attributes: { uid: ['a'] } });
    expect(a.ok && b.ok && a.hash !== b.hash).toBe(true);
  });
});
