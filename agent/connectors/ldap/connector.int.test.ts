import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlapd, type TestSlapd } from '../../../test/slapd.ts';
import { createLdapConnector, type LdapConnector } from './connector.ts';
import { childDn, dnEquals } from './dn.ts';
import { LdapConnectorError } from './errors.ts';
import { and, eq, ldapFilter } from './filter.ts';

const GENERATED = 2500;
let slapd: TestSlapd;
let ldap: LdapConnector;

beforeAll(async () => {
  slapd = await startSlapd({ generatedUsers: GENERATED });
  ldap = createLdapConnector({ url: slapd.url, bindDn: slapd.bindDn, password: slapd.password });
});
afterAll(async () => {
  await ldap?.close();
  await slapd?.stop();
});

async function error(p: Promise<unknown>): Promise<LdapConnectorError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LdapConnectorError);
  return e as LdapConnectorError;
}

describe('LDAP connector against slapd', () => {
  it('binds and tests the connection', async () => {
    const r = await ldap.testConnection();
    expect(r.ok).toBe(true);
    expect(r.namingContexts).toContain(slapd.baseDn);
  });

  it('maps a wrong password to auth_failure without echoing the secret', async () => {
    const bad = createLdapConnector({ url: slapd.url, bindDn: slapd.bindDn, password: 'nope-xyz' });
    const e = await error(bad.testConnection());
    expect(e.code).toBe('auth_failure');
    expect(e.remoteCode).toBe(49);
    expect(e.message).not.toContain('nope-xyz');
    await bad.close();
  });

  it('pages through every generated user exactly once, driven by the caller', async () => {
    const seen = new Map<string, number>();
    let cookie: string | undefined;
    let pages = 0;
    do {
      const page = await ldap.search({
        baseDn: `ou=generated,${slapd.baseDn}`,
        scope: 'one',
        filter: eq('objectClass', 'inetOrgPerson'),
        attributes: ['uid'],
        pageSize: 500,
        ...(cookie ? { cookie } : {}),
      });
      pages++;
      expect(page.entries.length).toBeLessThanOrEqual(500);
      for (const e of page.entries) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
      cookie = page.cookie;
    } while (cookie);
    expect(seen.size).toBe(GENERATED);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(pages).toBeGreaterThanOrEqual(GENERATED / 500);
  });

  it('keeps filter injection inert against the real server', async () => {
    const people = `ou=people,${slapd.baseDn}`;
    const injected = '*)(uid=*))(|(uid=*';
    for (const filter of [
      eq('uid', injected),
      ldapFilter`(&(objectClass=person)(uid=${injected}))`,
    ]) {
      const page = await ldap.search({ baseDn: people, filter, attributes: ['uid'] });
      expect(page.entries).toEqual([]);
    }
    const legit = await ldap.search({ baseDn: people, filter: ldapFilter`(uid=${'alice'})` });
    expect(legit.entries).toHaveLength(1);
  });

  it('finds entries whose DN needs escaping, built with the RFC 4514 escaper', async () => {
    const people = `ou=people,${slapd.baseDn}`;
    for (const cn of ['Smith, John', '#1 O"Brien <ops>', 'Zoë Ångström']) {
      const dn = childDn({ type: 'cn', value: cn }, people);
      const page = await ldap.search({ baseDn: dn, scope: 'base', attributes: ['cn', 'memberOf'] });
      expect(page.entries).toHaveLength(1);
      const entry = page.entries[0]!;
      expect(dnEquals(entry.id, dn)).toBe(true);
      expect(entry.attributes.cn).toEqual([cn]);
      expect(entry.attributes.memberOf).toEqual([`cn=staff,ou=groups,${slapd.baseDn}`]);
    }
  });

  it('returns entryUUID as text and binary values as base64', async () => {
    const page = await ldap.search({
      baseDn: `ou=people,${slapd.baseDn}`,
      filter: and(eq('objectClass', 'inetOrgPerson'), eq('uid', 'alice')),
      attributes: ['entryUUID', 'userPassword'],
    });
    const attrs = page.entries[0]?.attributes;
    expect(attrs?.entryUUID?.[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(attrs?.userPassword?.[0]).toEqual(expect.any(String));
  });

  it('lists attribute types and object classes from the subschema subentry', async () => {
    const attrs = await ldap.listAttributes();
    const cn = attrs.find((a) => a.name === 'cn');
    expect(cn?.aliases).toContain('commonName');
    expect(attrs.some((a) => a.name === 'entryUUID' && a.singleValue)).toBe(true);
    const classes = await ldap.listObjectClasses();
    const person = classes.find((c) => c.name === 'inetOrgPerson');
    expect(person?.kind).toBe('STRUCTURAL');
  });

  it('maps an unknown base to not_found', async () => {
    const e = await error(ldap.search({ baseDn: `ou=nowhere,${slapd.baseDn}` }));
    expect(e.code).toBe('not_found');
    expect(e.remoteCode).toBe(32);
  });

  it('re-binds after the connection drops', async () => {
    const other = createLdapConnector({
      url: slapd.url,
      bindDn: slapd.bindDn,
      password: slapd.password,
    });
    await other.testConnection();
    await other.close();
    const page = await other.search({ baseDn: slapd.baseDn, scope: 'base', attributes: ['dc'] });
    expect(page.entries).toHaveLength(1);
    await other.close();
  });
});
