import { describe, expect, it } from 'vitest';
import { parseBase, dnToOrganizationPath as path } from './organization.ts';

const dnToOrganizationPath = (dn: string, base?: string) =>
  path(dn, base === undefined ? undefined : parseBase(base));

import { mapOne } from './test-helpers.ts';

const ORG = 'urn:idhub:params:scim:schemas:extension:idhub:2.0:User:organization';

describe('dnToOrganizationPath', () => {
  it('takes the OU chain root first', () => {
    expect(dnToOrganizationPath('ou=Sales,ou=EMEA,dc=corp,dc=example')).toEqual(['EMEA', 'Sales']);
    expect(dnToOrganizationPath('CN=Ann Lee,OU=Sales,OU=EMEA,DC=corp,DC=example')).toEqual([
      'EMEA',
      'Sales',
    ]);
  });
  it('skips containers and the entry itself', () => {
    expect(dnToOrganizationPath('CN=Ann,CN=Users,DC=corp,DC=example')).toEqual([]);
  });
  it('decodes escaped values', () => {
    expect(dnToOrganizationPath('cn=x,ou=R\\2CD\\, Labs,ou=M\\C3\\BCnchen\\+Co,dc=ex')).toEqual([
      'München+Co',
      'R,D, Labs',
    ]);
  });
  it('counts only OUs below the base, compared as DNs', () => {
    const dn = 'cn=x,ou=Sales,ou=EMEA,dc=corp,dc=example';
    expect(dnToOrganizationPath(dn, 'OU=emea, DC=corp,DC=example')).toEqual(['Sales']);
  });
  it('refuses a DN outside the base and malformed DNs', () => {
    expect(() => dnToOrganizationPath('cn=x,ou=A,dc=other', 'dc=corp')).toThrow(/not under/);
    expect(() => dnToOrganizationPath('cn=x,ou')).toThrow(/not a valid DN/);
  });
});

describe('dnToOrganization in a mapping', () => {
  const dn = 'uid=ann,ou=Sales,ou=EMEA,dc=corp,dc=example';
  it('reads the entry DN without source and the context base', () => {
    const r = mapOne(
      { target: ORG, transform: 'dnToOrganization' },
      {},
      { dn, ctx: { baseDn: 'ou=EMEA,dc=corp,dc=example' } },
    );
    expect(r.ok && r.organizationPath).toEqual(['Sales']);
    // The path is not an Organization id: the document does not carry the idhub extension.
    expect(r.ok && r.user.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:User']);
  });
  it('reads a DN-valued attribute; the transform base overrides the context', () => {
    const rule = {
      target: ORG,
      source: 'distinguishedName',
      transform: { name: 'dnToOrganization', base: 'dc=corp,dc=example' },
    };
    const r = mapOne(
      rule,
      { distinguishedName: [dn] },
      { ctx: { baseDn: 'ou=EMEA,dc=corp,dc=example' } },
    );
    expect(r.ok && r.organizationPath).toEqual(['EMEA', 'Sales']);
  });
  it('a missing source attribute means no organisation, not the entry DN', () => {
    const r = mapOne(
      { target: ORG, source: 'distinguishedName', transform: 'dnToOrganization' },
      {},
      { dn },
    );
    expect(r.ok && r.organizationPath).toBeUndefined();
  });
});
