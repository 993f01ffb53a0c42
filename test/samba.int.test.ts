import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLdapConnector,
  type LdapConnector,
  type SearchParams,
} from '../agent/connectors/ldap/connector.ts';
import { normalizeDn } from '../agent/connectors/ldap/dn.ts';
import type { LdapEntry } from '../agent/connectors/ldap/entries.ts';
import { and, eq } from '../agent/connectors/ldap/filter.ts';
import { anchorOf, applyMapping, compileMapping, DEFAULT_MAPPINGS } from '../sync/mapping/index.ts';
import { seededUser, startSambaDc, type TestSambaDc } from './samba.ts';

const USERS = 2000;
const USER_ATTRIBUTES = [
  'sAMAccountName',
  'givenName',
  'sn',
  'displayName',
  'mail',
  'userPrincipalName',
  'userAccountControl',
  'objectGUID',
  'distinguishedName',
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let dc: TestSambaDc;
let ldap: LdapConnector;

beforeAll(async () => {
  dc = await startSambaDc({ users: USERS });
  ldap = createLdapConnector({
    url: dc.url,
    bindDn: dc.bindDn,
    password: dc.password,
    binaryAttributes: ['objectGUID', 'invocationId'],
  });
}, 240_000);
afterAll(async () => {
  await ldap?.close();
  await dc?.stop();
});

/** Every page of a caller-driven paged search. */
async function searchAll(params: Omit<SearchParams, 'cookie'>): Promise<LdapEntry[]> {
  const out: LdapEntry[] = [];
  let cookie: string | undefined;
  do {
    const page = await ldap.search({ ...params, ...(cookie ? { cookie } : {}) });
    out.push(...page.entries);
    cookie = page.cookie;
  } while (cookie);
  return out;
}

function text(entry: LdapEntry | undefined, attribute: string): string {
  const [value] = entry?.attributes[attribute] ?? [];
  if (typeof value !== 'string') throw new Error(`${attribute} is not text`);
  return value;
}

const mapping = (() => {
  const compiled = compileMapping(DEFAULT_MAPPINGS.activeDirectory);
  if (!compiled.ok) throw new Error(compiled.problems.join('\n'));
  return compiled.mapping;
})();

describe('LDAP connector against a Samba AD DC', () => {
  it('pages through every seeded user exactly once, with objectGUID anchors', async () => {
    const users = await searchAll({
      baseDn: dc.usersDn,
      scope: 'one',
      filter: eq('objectClass', 'user'),
      attributes: USER_ATTRIBUTES,
      pageSize: 300,
    });
    const names = users.map((u) => text(u, 'sAMAccountName'));
    expect(new Set(names).size).toBe(USERS);
    expect(names.sort()).toEqual(
      Array.from({ length: USERS }, (_, i) => seededUser(i + 1).sAMAccountName),
    );
    for (const u of users) {
      expect(u.attributes.objectGUID?.[0]).toEqual({ base64: expect.any(String) });
    }
    const anchors = users.map((u) => anchorOf(u, 'activeDirectory'));
    expect(anchors.every((a) => a !== undefined && UUID.test(a))).toBe(true);
    expect(new Set(anchors).size).toBe(USERS);
  });

  it('finds the disabled users with the bitwise-AND rule; the AD mapping sets active', async () => {
    const disabled = await searchAll({
      baseDn: dc.usersDn,
      filter: '(userAccountControl:1.2.840.113556.1.4.803:=2)',
      attributes: USER_ATTRIBUTES,
    });
    const every = dc.seed.disabledEvery;
    const expected = Array.from({ length: USERS / every }, (_, i) => seededUser((i + 1) * every));
    expect(disabled.map((u) => text(u, 'sAMAccountName')).sort()).toEqual(
      expected.map((u) => u.sAMAccountName),
    );

    const enabled = await ldap.search({
      baseDn: dc.usersDn,
      filter: and(eq('objectClass', 'user'), eq('sAMAccountName', seededUser(1).sAMAccountName)),
      attributes: USER_ATTRIBUTES,
    });
    const ctx = { baseDn: dc.baseDn };
    for (const [entries, active] of [
      [disabled, false],
      [enabled.entries, true],
    ] as const) {
      for (const entry of entries) {
        const result = applyMapping(mapping, entry, ctx);
        expect(result.ok && result.user.active).toBe(active);
        expect(result.ok && result.organizationPath).toEqual(['Staff']);
        expect(result.ok && result.user.externalId).toBe(anchorOf(entry, 'activeDirectory'));
      }
    }
    const first = applyMapping(mapping, enabled.entries[0]!, ctx);
    const u = seededUser(1);
    expect(first.ok && first.user).toMatchObject({
      userName: u.sAMAccountName,
      name: { givenName: u.givenName, familyName: u.sn },
      displayName: u.displayName,
      emails: [{ type: 'work', value: u.mail }],
    });
  });

  it('reads all members of a group above MaxValRange, following member;range=…', async () => {
    const read = async (attribute: string) => {
      const page = await ldap.search({
        baseDn: dc.seed.bigGroupDn,
        scope: 'base',
        attributes: [attribute],
      });
      return (page.entries[0]?.attributes.member ?? []).map(String);
    };
    const expected = Array.from({ length: dc.seed.bigGroupMembers }, (_, i) =>
      normalizeDn(seededUser(i + 1).dn),
    ).sort();
    // Samba answers a plain `member` in full (it does not enforce MaxValRange as Windows does);
    // asking for the first range makes it answer in ranges, which the connector follows.
    for (const attribute of ['member', 'member;range=0-1499']) {
      const members = await read(attribute);
      expect(members.map(normalizeDn).sort()).toEqual(expected);
    }
  });

  it('keeps nested groups: the in-chain rule finds a member through the inner group', async () => {
    const inChain = `(memberOf:1.2.840.113556.1.4.1941:=${dc.seed.outerGroupDn})`;
    const page = await ldap.search({ baseDn: dc.usersDn, filter: inChain, attributes: ['cn'] });
    expect(page.entries.map((e) => e.id)).toEqual([dc.seed.nestedUserDn]);
    const outer = await ldap.search({
      baseDn: dc.seed.outerGroupDn,
      scope: 'base',
      attributes: ['member'],
    });
    expect(outer.entries[0]?.attributes.member).toEqual([dc.seed.innerGroupDn]);
  });

  it('reads the rootDSE and finds exactly the changed user by uSNChanged', async () => {
    const root = await ldap.search({
      baseDn: '',
      scope: 'base',
      attributes: ['highestCommittedUSN', 'dsServiceName'],
    });
    const usn = Number(text(root.entries[0], 'highestCommittedUSN'));
    expect(usn).toBeGreaterThan(USERS);
    const ntds = await ldap.search({
      baseDn: text(root.entries[0], 'dsServiceName'),
      scope: 'base',
      attributes: ['invocationId'],
    });
    const invocationId = ntds.entries[0]?.attributes.invocationId?.[0];
    expect(invocationId).toEqual({ base64: expect.any(String) });
    expect(Buffer.from((invocationId as { base64: string }).base64, 'base64')).toHaveLength(16);

    const changed = seededUser(42);
    await dc.modify(`dn: ${changed.dn}\nchangetype: modify\nreplace: title\ntitle: Lead\n-\n`);
    // the whole domain: binds do not touch USNs on Samba, and no background task runs here
    const delta = await searchAll({
      baseDn: dc.baseDn,
      filter: `(uSNChanged>=${usn + 1})`,
      attributes: ['sAMAccountName', 'title', 'uSNChanged'],
    });
    expect(delta.map((e) => text(e, 'sAMAccountName'))).toEqual([changed.sAMAccountName]);
    expect(text(delta[0], 'title')).toBe('Lead');
    expect(Number(text(delta[0], 'uSNChanged'))).toBeGreaterThan(usn);
  });
});
