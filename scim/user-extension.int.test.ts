import { describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';
import {
  checkedClient,
  createUser,
  patchBody,
  type ScimClient,
  userBody,
} from '../test/scim-helpers.ts';

const h = createHarness();
const ORG = 'urn:idhub:params:scim:schemas:core:2.0:Organization';
const IDHUB = 'urn:idhub:params:scim:schemas:extension:idhub:2.0:User';
const q = (filter: string) => `/Users?filter=${encodeURIComponent(filter)}`;

async function fresh(): Promise<{ c: ScimClient; tenantId: string }> {
  const t = await h.tenant();
  return { c: checkedClient(h, t.scimToken), tenantId: t.tenantId };
}

async function createOrg(c: ScimClient, name: string, parent?: string): Promise<string> {
  const res = await c.post('/Organizations', {
    schemas: [ORG],
    displayName: name,
    ...(parent ? { parent: { value: parent } } : {}),
  });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

/** Seeds roles, credentials, certificates and accounts the way the identity model stores them. */
async function seed(tenantId: string, userId: string): Promise<void> {
  const sql = h.db.sql;
  const [admin] = await sql`insert into roles (tenant_id, name, name_key)
    values (${tenantId}, 'Admin', 'admin') returning id`;
  const [auditor] = await sql`insert into roles (tenant_id, name, name_key)
    values (${tenantId}, 'Auditor', 'auditor') returning id`;
  await sql`insert into role_assignments (tenant_id, role_id, user_id, state, granted_by)
    values (${tenantId}, ${admin!.id}, ${userId}, 'granted', 'test'),
           (${tenantId}, ${auditor!.id}, ${userId}, 'withdrawn', 'test')`;
  const [card] = await sql`insert into credentials (tenant_id, user_id, type, serial, state)
    values (${tenantId}, ${userId}, 'card', 'C-1', 'active') returning id`;
  await sql`insert into credentials (tenant_id, user_id, type, serial, state)
    values (${tenantId}, ${userId}, 'soft_token', 'S-9', 'locked')`;
  await sql`insert into certificates
      (tenant_id, credential_id, serial, subject_dn, issuer_dn, not_before, not_after, der_base64, state)
    values
      (${tenantId}, ${card!.id}, '01', 'CN=Ann,O=Acme', 'CN=CA', '2024-01-01', '2030-01-01', 'MIIBAAA=', 'active'),
      (${tenantId}, ${card!.id}, '02', 'CN=Ann old,O=Acme', 'CN=CA', '2023-01-01', '2030-01-01', 'MIIBBBB=', 'revoked'),
      (${tenantId}, ${card!.id}, '03', 'CN=Ann held,O=Acme', 'CN=CA', '2023-06-01', '2030-01-01', null, 'on_hold'),
      (${tenantId}, ${card!.id}, '04', 'CN=Ann nodre,O=Acme', 'CN=CA', '2025-01-01', '2030-01-01', null, 'active')`;
  await sql`insert into accounts (tenant_id, user_id, system_id, external_key, dn, state)
    values (${tenantId}, ${userId}, 'ad', 'guid-1', 'CN=Ann,DC=acme', 'active')`;
}

describe('User: roles and x509Certificates from the identity model', () => {
  it('shows granted roles and active certificates only, everywhere a user is read', async () => {
    const { c, tenantId } = await fresh();
    const id = await createUser(c, 'ann@acme');
    const plain = await createUser(c, 'bob@acme');
    await seed(tenantId, id);
    const plainGet = await c.get(`/Users/${id}`);
    expect(plainGet.body).not.toHaveProperty('roles');
    expect(plainGet.body).not.toHaveProperty('x509Certificates');
    const got = await c.get(`/Users/${id}?attributes=roles,x509Certificates`);
    expect(got.body.roles).toEqual([{ value: 'Admin', display: 'Admin' }]);
    expect(got.body.x509Certificates).toEqual([
      { value: 'MIIBAAA=', display: 'CN=Ann,O=Acme' },
      { display: 'CN=Ann nodre,O=Acme' },
    ]);
    const bob = await c.get(`/Users/${plain}?attributes=roles,x509Certificates,userName`);
    expect(bob.body).not.toHaveProperty('roles');
    expect(bob.body).not.toHaveProperty('x509Certificates');
    const list = await c.get(`${q('userName eq "ANN@acme"')}&attributes=roles`);
    expect(list.body.Resources[0].roles).toEqual([{ value: 'Admin', display: 'Admin' }]);
    const filtered = await c.get(q('roles.value eq "admin"'));
    expect(filtered.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
    expect((await c.get(q('roles eq "Auditor"'))).body.totalResults).toBe(0);
    expect((await c.get(q('x509Certificates.display co "nodre"'))).body.totalResults).toBe(1);
    const whole = await c.post('/Users/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      attributes: ['x509Certificates.display'],
    });
    expect(whole.body.Resources[0].x509Certificates).toHaveLength(2);
    // A write answers with them when asked.
    const put = await c.put(
      `/Users/${id}?attributes=roles`,
      userBody('ann@acme', { displayName: 'Ann' }),
    );
    expect(put.body.roles).toHaveLength(1);
  });

  it('ignores roles and certificates in POST/PUT and refuses them as PATCH targets', async () => {
    const { c, tenantId } = await fresh();
    const res = await c.post(
      '/Users',
      userBody('cy@acme', { roles: [{ value: 'Boss' }], x509Certificates: [{ value: 'AAAA' }] }),
    );
    expect(res.status).toBe(201);
    expect(res.body).not.toHaveProperty('roles');
    const [row] = await h.db.sql`select doc from users where id = ${res.body.id}`;
    expect(row?.doc).not.toHaveProperty('roles');
    for (const path of ['roles', 'x509Certificates', 'roles[value eq "x"].display']) {
      const p = await c.patch(
        `/Users/${res.body.id}`,
        patchBody({ op: 'add', path, value: [{ value: 'x' }] }),
      );
      expect(p.status, path).toBe(400);
      expect(p.body.scimType).toBe('mutability');
    }
    const [n] = await h.db
      .sql`select count(*)::int as n from role_assignments where tenant_id = ${tenantId}`;
    expect(n?.n).toBe(0);
  });
});

describe('idhub User extension', () => {
  it('assigns an organisation on POST, PUT and PATCH, stored in the column', async () => {
    const { c, tenantId } = await fresh();
    const acme = await createOrg(c, 'Acme');
    const sales = await createOrg(c, 'Sales', acme);
    const res = await c.post(
      '/Users',
      userBody('ann@acme', { [IDHUB]: { organization: { value: sales } } }),
    );
    expect(res.status).toBe(201);
    expect(res.body.schemas).toContain(IDHUB);
    expect(res.body[IDHUB].organization).toEqual({
      value: sales,
      $ref: `http://hub.test/scim/v2/Organizations/${sales}`,
      display: 'Sales',
      path: 'Acme/Sales',
    });
    const id = res.body.id as string;
    const [row] = await h.db.sql`select organization_id, doc from users where id = ${id}`;
    expect(row?.organization_id).toBe(sales);
    expect(JSON.stringify(row?.doc)).not.toContain(sales);

    // PUT without the extension keeps it; null clears it.
    const put = await c.put(`/Users/${id}`, userBody('ann@acme', { displayName: 'Ann' }));
    expect(put.body[IDHUB].organization.value).toBe(sales);
    const cleared = await c.put(
      `/Users/${id}`,
      userBody('ann@acme', { [IDHUB]: { organization: null } }),
    );
    expect(cleared.body).not.toHaveProperty(IDHUB);
    expect(cleared.body.schemas).not.toContain(IDHUB);

    const patched = await c.patch(
      `/Users/${id}`,
      patchBody({ op: 'replace', path: `${IDHUB}:organization.value`, value: acme }),
    );
    expect(patched.status).toBe(204);
    expect((await c.get(`/Users/${id}`)).body[IDHUB].organization.display).toBe('Acme');
    const noPath = await c.patch(
      `/Users/${id}`,
      patchBody({ op: 'replace', value: { [IDHUB]: { organization: { value: sales } } } }),
    );
    expect(noPath.status).toBe(204);
    const ro = await c.patch(
      `/Users/${id}`,
      patchBody({ op: 'replace', path: `${IDHUB}:organization.display`, value: 'x' }),
    );
    expect(ro.status).toBe(400);
    const events = await h.db.sql`select operation from outbox
      where tenant_id = ${tenantId} and resource_id = ${id} order by id`;
    expect(events.map((e) => e.operation)).toEqual([
      'create',
      'update',
      'update',
      'update',
      'update',
    ]);
    // The bare enterprise `organization` still means the enterprise attribute.
    const ent = await c.post('/Users', userBody('eve@acme', { organization: 'Contoso' }));
    expect(ent.body['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']).toEqual({
      organization: 'Contoso',
    });
  });

  it('filters on organization.value through the column, and on display', async () => {
    const { c } = await fresh();
    const acme = await createOrg(c, 'Acme');
    const other = await createOrg(c, 'Other');
    const ann = await createUser(c, 'ann@acme', { [IDHUB]: { organization: { value: acme } } });
    await createUser(c, 'bob@acme', { [IDHUB]: { organization: { value: other } } });
    const none = await createUser(c, 'cy@acme');
    const ids = async (f: string) =>
      (await c.get(q(f))).body.Resources?.map((r: { id: string }) => r.id) ?? [];
    expect(await ids(`${IDHUB}:organization.value eq "${acme}"`)).toEqual([ann]);
    expect(await ids(`${IDHUB}:organization.display eq "acme"`)).toEqual([ann]);
    expect(await ids(`not (${IDHUB}:organization pr)`)).toEqual([none]);
    expect(await ids(`${IDHUB}:organization.value eq "nope"`)).toEqual([]);
    const sorted = await c.get(`/Users?sortBy=${IDHUB}:organization.display&count=2`);
    expect(sorted.body.Resources.map((r: { id: string }) => r.id)).toEqual([
      ann,
      expect.any(String),
    ]);
  });

  it('refuses organisations that are unknown or of another tenant (400), changing nothing', async () => {
    const one = await fresh();
    const two = await fresh();
    const theirs = await createOrg(one.c, 'Theirs');
    const post = await two.c.post(
      '/Users',
      userBody('x@y', { [IDHUB]: { organization: { value: theirs } } }),
    );
    expect(post.status).toBe(400);
    expect(post.body.scimType).toBe('invalidValue');
    const id = await createUser(two.c, 'z@y');
    for (const value of [theirs, 'not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      const p = await two.c.patch(
        `/Users/${id}`,
        patchBody({ op: 'add', path: `${IDHUB}:organization`, value: { value } }),
      );
      expect(p.status, value).toBe(400);
    }
    const [row] = await h.db.sql`select organization_id, version from users where id = ${id}`;
    expect(row).toMatchObject({ organization_id: null, version: 1 });
    const [count] = await h.db
      .sql`select count(*)::int as n from users where tenant_id = ${two.tenantId}`;
    expect(count?.n).toBe(1);
    // Filtering on a foreign organisation finds nothing.
    const f = await two.c.get(q(`${IDHUB}:organization.value eq "${theirs}"`));
    expect(f.body.totalResults).toBe(0);
  });

  it('returns accounts and credentials only when asked for', async () => {
    const { c, tenantId } = await fresh();
    const id = await createUser(c, 'ann@acme');
    await seed(tenantId, id);
    const plain = await c.get(`/Users/${id}`);
    expect(plain.body).not.toHaveProperty(IDHUB);
    const asked = await c.get(`/Users/${id}?attributes=${IDHUB}:accounts,${IDHUB}:credentials`);
    expect(asked.body[IDHUB]).toEqual({
      accounts: [{ systemId: 'ad', externalKey: 'guid-1', dn: 'CN=Ann,DC=acme', state: 'active' }],
      credentials: [
        { type: 'card', serial: 'C-1', state: 'active' },
        { type: 'soft_token', serial: 'S-9', state: 'locked' },
      ],
    });
    const whole = await c.get(
      `/Users?attributes=${IDHUB}&filter=${encodeURIComponent('userName eq "ann@acme"')}`,
    );
    expect(whole.body.Resources[0][IDHUB].accounts).toHaveLength(1);
    const filtered = await c.get(q(`${IDHUB}:credentials[type eq "card" and state eq "active"]`));
    expect(filtered.body.totalResults).toBe(1);
    const ro = await c.patch(
      `/Users/${id}`,
      patchBody({ op: 'add', path: `${IDHUB}:accounts`, value: [{ systemId: 'x' }] }),
    );
    expect(ro.status).toBe(400);
    expect(ro.body.scimType).toBe('mutability');
  });
});
