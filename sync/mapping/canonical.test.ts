import { describe, expect, it } from 'vitest';
import type { Entry } from '../../agent/protocol.ts';
import { normalizeResource } from '../../scim/resource/normalize.ts';
import { SCHEMA, userKind } from '../../scim/schemas/index.ts';
import { applyMapping } from './apply.ts';
import { compileMapping } from './compile.ts';
import { DEFAULT_MAPPINGS } from './defaults.ts';
import { compiled, problemsOf } from './test-helpers.ts';

/**
 * The sync engine stores a mapping's output without running it through SCIM normalisation
 * again: the compiler only admits targets resolved against the schemas, values are typed and
 * never empty, and at most one element of an attribute can be primary. These tests hold the
 * output to exactly what normalisation would make of it.
 */
const rich = compiled([
  { target: 'userName', source: 'uid', transform: 'lower' },
  { target: 'name.givenName', source: 'givenName' },
  { target: 'name.familyName', source: 'sn' },
  { target: 'name.formatted', transform: { name: 'template', template: '{givenName} {sn}' } },
  { target: 'displayName', sources: ['displayName', 'cn'], transform: 'first' },
  { target: 'emails[type eq "work" and primary eq true].value', source: 'mail' },
  { target: 'emails[type eq "home"].value', source: 'homeMail' },
  { target: 'phoneNumbers[type eq "work"].value', source: 'telephoneNumber' },
  { target: 'phoneNumbers[type eq "mobile"].value', source: 'mobile' },
  { target: 'addresses[type eq "work"].locality', source: 'l' },
  { target: 'addresses[type eq "work"].postalCode', source: 'postalCode' },
  { target: 'title', source: 'title', transform: 'upper' },
  { target: 'profileUrl', source: 'labeledURI' },
  {
    target: 'active',
    source: 'userAccountControl',
    transform: ['adUserAccountControlDisabled', 'not'],
  },
  { target: `${SCHEMA.enterprise}:employeeNumber`, source: 'employeeNumber' },
  {
    target: `${SCHEMA.enterprise}:department`,
    source: 'ou',
    transform: { name: 'join', separator: ' / ' },
  },
  { target: `${SCHEMA.enterprise}:costCenter`, transform: { name: 'constant', value: 'CC-1' } },
]);

function entry(i: number): Entry {
  const odd = i % 2 === 1;
  return {
    id: `uid=u${i},ou=people,dc=example,dc=com`,
    attributes: {
      uid: [`U${i}`],
      givenName: [odd ? 'Zoë' : 'Ada'],
      sn: ['Ångström'],
      cn: [`Ada ${i}`],
      ...(odd ? { displayName: ['Dr. Zoë'] } : {}),
      mail: [`u${i}@example.com`, `alias${i}@example.com`],
      ...(odd ? { homeMail: [`home${i}@example.org`] } : {}),
      telephoneNumber: ['+1 555 0100'],
      ...(i % 3 === 0 ? { mobile: ['+1 555 0199'] } : {}),
      l: ['Berlin'],
      ...(odd ? { postalCode: ['10115'] } : {}),
      title: ['engineer'],
      labeledURI: ['https://example.com/~u'],
      userAccountControl: [odd ? '514' : '512'],
      employeeNumber: [String(i)],
      ou: ['R&D', 'Platform'],
      objectGUID: [{ base64: 'AAECAwQFBgcICQoLDA0ODw==' }],
      distinguishedName: [`CN=User ${i},OU=Staff,DC=example,DC=com`],
      sAMAccountName: [`user${i}`],
      entryUUID: ['3ff15a70-806f-1041-936e-eddb09123b96'],
    },
  };
}

describe('mapping output is SCIM-canonical', () => {
  const mappings = {
    rich,
    openldap: compileMapping(DEFAULT_MAPPINGS.openldap),
    activeDirectory: compileMapping(DEFAULT_MAPPINGS.activeDirectory),
  };
  for (const [name, c] of Object.entries(mappings)) {
    it(`${name}: normalisation changes nothing`, () => {
      const mapping = 'rules' in c ? c : c.ok ? c.mapping : undefined;
      if (!mapping) throw new Error(`${name} does not compile`);
      for (let i = 0; i < 40; i++) {
        const r = applyMapping(mapping, entry(i), { baseDn: 'dc=example,dc=com' });
        if (!r.ok) throw new Error(r.problems.join('; '));
        expect(normalizeResource(userKind, r.user, 'create').doc).toEqual(r.user);
      }
    });
  }

  it('refuses two rules that could each make a value of one attribute primary', () => {
    const problems = problemsOf([
      { target: 'userName', source: 'uid' },
      { target: 'emails[type eq "work" and primary eq true].value', source: 'mail' },
      { target: 'emails[type eq "home" and primary eq true].value', source: 'homeMail' },
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/^rules\.2\.target: .*emails.*primary.*rules\.1/),
    ]);
    // Two sub-attributes of the one primary element are fine.
    compiled([
      { target: 'userName', source: 'uid' },
      { target: 'emails[type eq "work" and primary eq true].value', source: 'mail' },
      { target: 'emails[primary eq true and type eq "work"].display', source: 'cn' },
    ]);
  });
});
