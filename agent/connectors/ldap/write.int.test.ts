import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlapd, type TestSlapd } from '../../../test/slapd.ts';
import { createLdapConnector, type LdapConnector } from './connector.ts';
import { childDn, dnEquals } from './dn.ts';
import { LdapConnectorError } from './errors.ts';
import { ldapFilter } from './filter.ts';

let slapd: TestSlapd;
let ldap: LdapConnector;
const people = () => `ou=people,${slapd.baseDn}`;
// A JPEG header: not valid UTF-8, so it must travel as base64 both ways.
const PHOTO = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]);

beforeAll(async () => {
  slapd = await startSlapd();
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

async function read(dn: string, attributes = ['*']) {
  const page = await ldap.search({ baseDn: dn, scope: 'base', attributes });
  return page.entries[0]?.attributes;
}

function person(uid: string, extra: Record<string, string[]> = {}) {
  return {
    objectClass: ['inetOrgPerson'],
    uid: [uid],
    cn: [`${uid} Writer`],
    sn: ['Writer'],
    ...extra,
  };
}

describe('LDAP writes against slapd', () => {
  it('adds an entry with an escaped DN and a binary value, then refuses a duplicate (68)', async () => {
    const dn = childDn({ type: 'cn', value: 'Doe, Jane #2' }, people());
    await ldap.add(dn, { ...person('jdoe'), jpegPhoto: [{ base64: PHOTO.toString('base64') }] });
    const attrs = await read(dn, ['uid', 'jpegPhoto']);
    expect(attrs?.uid).toEqual(['jdoe']);
    expect(attrs?.jpegPhoto).toEqual([{ base64: PHOTO.toString('base64') }]);
    const dup = await error(ldap.add(dn, person('jdoe')));
    expect(dup.code).toBe('connector_error');
    expect(dup.remoteCode).toBe(68);
  });

  it('modifies with add, replace and delete changes', async () => {
    const dn = childDn({ type: 'uid', value: 'mod1' }, people());
    await ldap.add(dn, person('mod1', { mail: ['old@idhub.test'] }));
    await ldap.modify(dn, [
      { operation: 'replace', attribute: 'mail', values: ['new@idhub.test'] },
      { operation: 'add', attribute: 'description', values: ['a', 'b'] },
    ]);
    await ldap.modify(dn, [{ operation: 'delete', attribute: 'description', values: ['a'] }]);
    const attrs = await read(dn, ['mail', 'description']);
    expect(attrs?.mail).toEqual(['new@idhub.test']);
    expect(attrs?.description).toEqual(['b']);
  });

  it('renames with and without deleting the old RDN, and moves under a new superior', async () => {
    const dn = childDn({ type: 'uid', value: 'ren1' }, people());
    await ldap.add(dn, person('ren1'));
    await ldap.modrdn(dn, 'uid=ren2', false);
    const kept = childDn({ type: 'uid', value: 'ren2' }, people());
    expect((await read(kept, ['uid']))?.uid?.sort()).toEqual(['ren1', 'ren2']);
    const target = `ou=generated,${slapd.baseDn}`;
    await ldap.modrdn(kept, 'uid=ren3', true, target);
    const moved = childDn({ type: 'uid', value: 'ren3' }, target);
    const page = await ldap.search({ baseDn: moved, scope: 'base', attributes: ['uid'] });
    expect(dnEquals(page.entries[0]?.id ?? '', moved)).toBe(true);
    expect(page.entries[0]?.attributes.uid?.sort()).toEqual(['ren1', 'ren3']);
    expect((await error(read(kept))).code).toBe('not_found');
  });

  it('deletes, then reports not_found (32) for the gone entry', async () => {
    const dn = childDn({ type: 'uid', value: 'del1' }, people());
    await ldap.add(dn, person('del1'));
    await ldap.delete(dn);
    const gone = await error(ldap.delete(dn));
    expect(gone.code).toBe('not_found');
    expect(gone.remoteCode).toBe(32);
  });

  it('refuses malformed DNs and RDNs before sending them', async () => {
    expect((await error(ldap.delete('uid=x,,dc=idhub'))).code).toBe('refused');
    expect((await error(ldap.add('', person('x')))).code).toBe('refused');
    const dn = childDn({ type: 'uid', value: 'alice' }, people());
    expect((await error(ldap.modrdn(dn, `uid=a,${people()}`, true))).code).toBe('refused');
    expect((await error(ldap.search({ baseDn: 'not a dn' }))).code).toBe('refused');
  });

  it('stores an injection-looking value literally and finds it only by exact match', async () => {
    const value = '*)(uid=*';
    const dn = childDn({ type: 'uid', value: 'inj1' }, people());
    await ldap.add(dn, person('inj1', { description: [value] }));
    const exact = await ldap.search({
      baseDn: people(),
      filter: ldapFilter`(description=${value})`,
      attributes: ['uid'],
    });
    expect(exact.entries.map((e) => e.attributes.uid)).toEqual([['inj1']]);
    const asUid = await ldap.search({ baseDn: people(), filter: ldapFilter`(uid=${value})` });
    expect(asUid.entries).toEqual([]);
  });
});
