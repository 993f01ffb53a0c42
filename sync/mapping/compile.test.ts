import { describe, expect, it } from 'vitest';
import { compileMapping } from './compile.ts';
import { problemsOf } from './test-helpers.ts';

const USER = { target: 'userName', source: 'uid' };
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const IDHUB = 'urn:idhub:params:scim:schemas:extension:idhub:2.0:User';

describe('compileMapping: targets', () => {
  it('accepts core, enterprise (with or without URN) and idhub targets', () => {
    const rules = [
      USER,
      { target: 'name.givenName', source: 'givenName' },
      { target: 'emails[type eq "work"].value', source: 'mail' },
      { target: 'addresses[type eq "work" and primary eq true].locality', source: 'l' },
      { target: `${ENT}:manager.value`, source: 'manager' },
      { target: 'costCenter', source: 'costCenter' },
      { target: `${IDHUB}:organization`, transform: 'dnToOrganization' },
    ];
    expect(compileMapping({ rules }).ok).toBe(true);
  });
  it('reports unknown, readOnly and writeOnly targets, every one at once', () => {
    const problems = problemsOf([
      USER,
      { target: 'foo', source: 'x' },
      { target: 'id', source: 'x' },
      { target: 'meta.lastModified', source: 'x' },
      { target: 'groups[type eq "direct"].value', source: 'memberOf' },
      { target: 'password', source: 'userPassword' },
      { target: `${ENT}:nope`, source: 'x' },
    ]);
    expect(problems).toEqual([
      'rules.1.target: unknown SCIM attribute "foo"',
      'rules.2.target: SCIM attribute "id" is readOnly; a mapping cannot set it',
      'rules.3.target: SCIM attribute "meta.lastModified" is readOnly; a mapping cannot set it',
      'rules.4.target: SCIM attribute "groups[type eq "direct"].value" is readOnly; a mapping cannot set it',
      'rules.5.target: SCIM attribute "password" is writeOnly; a mapping cannot set it',
      `rules.6.target: unknown SCIM attribute "${ENT}:nope"`,
    ]);
  });
  it('refuses shapes that name no single value', () => {
    const problems = problemsOf([
      USER,
      { target: 'name', source: 'cn' },
      { target: 'emails.value', source: 'mail' },
      { target: 'emails[type co "w"].value', source: 'mail' },
      { target: 'emails[type eq "work"].type', source: 'mail' },
      { target: `${IDHUB}:organization.value`, source: 'ou' },
    ]);
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/^rules.1.target: "name" is complex/);
    expect(problems[1]).toMatch(/^rules.2.target: .*select the values with a filter/);
    expect(problems[2]).toMatch(/"sub eq value" terms joined by "and"/);
    expect(problems[3]).toMatch(/the filter already sets "type"/);
    expect(problems[4]).toMatch(/with dnToOrganization/);
  });
  it('refuses the same target twice, however it is spelled', () => {
    expect(
      problemsOf([
        USER,
        { target: 'urn:ietf:params:scim:schemas:core:2.0:User:USERNAME', source: 'mail' },
      ]),
    ).toEqual([
      'rules.1.target: "urn:ietf:params:scim:schemas:core:2.0:User:USERNAME" is already mapped by rules.0',
    ]);
  });
  it('needs a userName rule', () => {
    expect(problemsOf([{ target: 'title', source: 'title' }])).toEqual([
      'rules: no rule maps userName, which every SCIM User needs',
    ]);
  });
});

describe('compileMapping: rules and transforms', () => {
  it('reports malformed rules and parameters with their path', () => {
    const problems = problemsOf([
      USER,
      { target: 'title', source: 'bad name' },
      { target: 'title', transform: 'bogus' },
      { target: 'title', source: 'a', transform: { name: 'join', separator: 1 } },
      { target: 'userType', transform: { name: 'constant' } },
      { target: 'title', source: 'a', sources: ['b'] },
      { target: 'title', source: 'a', extra: 1 },
    ]);
    expect(problems[0]).toBe('rules.1.source: not an LDAP attribute name');
    expect(problems[1]).toMatch(
      /^rules.2.transform.0.name: unknown transform; expected one of first/,
    );
    expect(problems[2]).toBe(
      'rules.3.transform.0.separator: Invalid input: expected string, received number',
    );
    expect(problems[3]).toBe('rules.4.transform.0.value: expected a non-empty string or a boolean');
    expect(problems[4]).toBe('rules.5.sources: give source or sources, not both');
    expect(problems[5]).toMatch(/^rules.6: Unrecognized key: "extra"/);
  });
  it('checks templates and DN bases when saved', () => {
    const problems = problemsOf([
      USER,
      { target: 'displayName', transform: { name: 'template', template: '{givenName' } },
      { target: 'title', transform: { name: 'template', template: 'a } b' } },
      { target: 'nickName', transform: { name: 'template', template: '{giv en}' } },
      { target: `${IDHUB}:organization`, transform: { name: 'dnToOrganization', base: 'dc' } },
    ]);
    expect(problems).toEqual([
      'rules.1.transform.0: unclosed "{" at position 0',
      'rules.2.transform.0: unmatched "}" at position 2 (write "}}" for a literal brace)',
      'rules.3.transform.0: "{giv en}" is not an LDAP attribute name',
      expect.stringMatching(
        /^rules.4.transform.0: dnToOrganization: the base "dc" is not a valid DN/,
      ),
    ]);
  });
  it('checks what a chain yields against the target type', () => {
    const problems = problemsOf([
      USER,
      { target: 'active', source: 'x' },
      { target: 'active', source: 'x', transform: 'lower' },
      { target: 'title', source: 'x', transform: 'boolean' },
      { target: `${IDHUB}:organization`, source: 'ou' },
      { target: 'title', transform: 'lower' },
      { target: 'title', source: 'x', transform: { name: 'constant', value: 'a' } },
      { target: 'title', source: 'x', transform: ['boolean', 'lower'] },
      { target: 'displayName' },
    ]);
    expect(problems).toEqual([
      'rules.1.transform: "active" takes a boolean, the rule yields LDAP values (end with boolean, adUserAccountControlDisabled + not, or a boolean constant)',
      'rules.2.transform: "active" takes a boolean, the rule yields LDAP values (end with boolean, adUserAccountControlDisabled + not, or a boolean constant)',
      'rules.3.transform: "title" takes text, the rule yields a boolean',
      'rules.4.transform: "urn:idhub:params:scim:schemas:extension:idhub:2.0:User:organization" takes an organisation path, the rule yields LDAP values (use dnToOrganization)',
      'rules.5.transform.0: lower: the rule has no source to read',
      'rules.6.transform.0: constant: it makes its own value, so it comes first in a rule without source',
      'rules.7.transform.1: lower: it cannot take a boolean',
      'rules.8: give a source, or a constant / template / dnToOrganization',
    ]);
  });
  it('refuses the disabled bit mapped straight to active (it would invert every account)', () => {
    expect(
      problemsOf([
        USER,
        {
          target: 'active',
          source: 'userAccountControl',
          transform: 'adUserAccountControlDisabled',
        },
      ]),
    ).toEqual([
      'rules.1.transform: adUserAccountControlDisabled is true for a disabled account; add "not" to map it to active',
    ]);
  });
  it('refuses a mapping that is not {rules: [...]}', () => {
    expect(compileMapping([USER])).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^\(root\): /)],
    });
    expect(compileMapping({ rules: [] })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^rules: /)],
    });
  });
});
