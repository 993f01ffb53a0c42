import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHarness } from '../harness.ts';
import {
  apiMemberIds,
  createGroup,
  createUser,
  filterQ,
  guard,
  memberIds,
  patchOp,
  URN,
  uniq,
  userRow,
} from './helpers.ts';

/**
 * Microsoft Entra ID provisioning with the `aadOptscim062020` flag off: capitalised op names,
 * `"False"` strings, members removed by value array, `manager` as a bare string or an array.
 */
const h = guard(createHarness());

/** The create-user body of Entra's SCIM validator, with the shapes seen from legacy jobs. */
function entraUser(userName: string, extra: Record<string, unknown> = {}) {
  return {
    schemas: [URN.user, URN.ent],
    externalId: randomUUID(),
    userName,
    active: true,
    displayName: 'givenName familyName',
    emails: [{ primary: true, type: 'work', value: userName }],
    meta: { resourceType: 'User' },
    name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    roles: [],
    title: null,
    preferredLanguage: null,
    [URN.ent]: { department: 'Sales', employeeNumber: null, manager: 'mgr-123' },
    ...extra,
  };
}

describe('Entra legacy: users', () => {
  it('test connection: filter on a random guid is 200 with an empty ListResponse', async () => {
    const { c } = await h.tenant();
    const res = await c.get(`/Users?${filterQ(`userName eq "${randomUUID()}"`)}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ schemas: [URN.list], totalResults: 0 });
    expect(res.body.Resources ?? []).toEqual([]);
  });

  it('POST with meta, roles: [], explicit nulls, enterprise schema and a bare manager → 201', async () => {
    const t = await h.tenant();
    const userName = `Test_User_${randomUUID()}@testuser.com`;
    const body = entraUser(userName, {
      id: 'client-chosen-id',
      meta: { resourceType: 'User', created: '2001-01-01T00:00:00Z', version: 'W/"999"' },
      groups: [{ value: randomUUID() }],
    });
    const res = await t.c.post('/Users', body);
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`http://hub.test/scim/v2/Users/${res.body.id}`);
    expect(res.body.id).not.toBe('client-chosen-id');
    expect(res.body.meta.created).not.toBe('2001-01-01T00:00:00Z');
    expect(res.body.meta.version).toBe('W/"1"');
    expect(res.body.userName).toBe(userName);
    expect(res.body.externalId).toBe(body.externalId);
    expect(res.body.schemas).toEqual([URN.user, URN.ent]);
    expect(res.body[URN.ent]).toEqual({ department: 'Sales', manager: { value: 'mgr-123' } });
    // null means unassigned: nothing null, nothing empty comes back
    expect(res.body).not.toHaveProperty('title');
    expect(res.body).not.toHaveProperty('preferredLanguage');
    expect(res.body).not.toHaveProperty('roles');
    expect(res.body).not.toHaveProperty('groups');
    expect(res.text).not.toContain('null');
    const row = await userRow(h, res.body.id);
    expect(row?.doc).not.toHaveProperty('id');
    expect(row?.doc).not.toHaveProperty('meta');
    expect(row?.doc).not.toHaveProperty('groups');
    expect(row?.doc).not.toHaveProperty('roles');
    const got = await t.c.get(`/Users/${res.body.id}`);
    expect(got.body).toEqual(res.body);
  });

  it('get user by query: filter=userName eq (case-insensitive), then by externalId', async () => {
    const { c } = await h.tenant();
    const userName = `Test_User_${randomUUID()}@testuser.com`;
    const body = entraUser(userName);
    const id = (await c.post('/Users', body)).body.id;
    const res = await c.get(`/Users?${filterQ(`userName eq "${userName.toUpperCase()}"`)}`);
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0].id).toBe(id);
    const byExt = await c.get(`/Users?${filterQ(`externalId eq "${body.externalId}"`)}`);
    expect(byExt.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
  });

  it('deactivates with {"op":"Replace","path":"active","value":"False"}; still readable', async () => {
    const t = await h.tenant();
    const id = (await t.c.post('/Users', entraUser(`${uniq()}@x.test`))).body.id;
    const res = await t.c.patch(
      `/Users/${id}`,
      patchOp({ op: 'Replace', path: 'active', value: 'False' }),
    );
    expect(res.status).toBe(204);
    const row = await userRow(h, id);
    expect(row?.active).toBe(false);
    expect(row?.doc.active).toBe(false);
    const got = await t.c.get(`/Users/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.active).toBe(false);
    const listed = await t.c.get(`/Users?${filterQ('active eq false')}`);
    expect(listed.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
    const back = await t.c.patch(
      `/Users/${id}`,
      patchOp({ op: 'Replace', path: 'active', value: 'True' }),
    );
    expect(back.status).toBe(204);
    expect((await t.c.get(`/Users/${id}`)).body.active).toBe(true);
  });

  it('multi-valued and single-valued Replace in one request (validator shapes)', async () => {
    const t = await h.tenant();
    const id = (await t.c.post('/Users', entraUser(`${uniq()}@x.test`))).body.id;
    const res = await t.c.patch(
      `/Users/${id}`,
      patchOp(
        {
          op: 'Replace',
          path: 'emails[type eq "work"].value',
          value: 'updatedEmail@microsoft.com',
        },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
      ),
    );
    expect(res.status).toBe(204);
    const got = (await t.c.get(`/Users/${id}`)).body;
    expect(got.emails).toEqual([
      { value: 'updatedEmail@microsoft.com', type: 'work', primary: true },
    ]);
    expect(got.name.familyName).toBe('updatedFamilyName');
    expect(got.name.givenName).toBe('givenName');
  });

  it('Replace userName renames in place; the new name is found by filter, the old is not', async () => {
    const t = await h.tenant();
    const oldName = `${uniq()}@testuser.com`;
    const id = (await t.c.post('/Users', entraUser(oldName))).body.id;
    const newName = `${randomUUID()}@testuser.com`;
    const res = await t.c.patch(
      `/Users/${id}`,
      patchOp({ op: 'Replace', path: 'userName', value: newName }),
    );
    expect(res.status).toBe(204);
    const found = await t.c.get(`/Users?${filterQ(`userName eq "${newName}"`)}`);
    expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
    const old = await t.c.get(`/Users?${filterQ(`userName eq "${oldName}"`)}`);
    expect(old.body.totalResults).toBe(0);
    // a rename is one update of the same resource downstream, never delete + create
    const events = await h.db.sql<{ operation: string; resource_id: string }[]>`
      select operation, resource_id::text from outbox where tenant_id = ${t.tenantId} order by id`;
    expect(events).toEqual([
      { operation: 'create', resource_id: id },
      { operation: 'update', resource_id: id },
    ]);
    // the old name is free again
    expect((await t.c.post('/Users', entraUser(oldName))).status).toBe(201);
  });

  it('Add on emails[type eq "work"].value creates the email on a user without emails', async () => {
    const t = await h.tenant();
    const id = await createUser(t.c, `${uniq()}@x.test`);
    const res = await t.c.patch(
      `/Users/${id}`,
      patchOp({ op: 'Add', path: 'emails[type eq "work"].value', value: 'a@b.test' }),
    );
    expect(res.status).toBe(204);
    expect((await t.c.get(`/Users/${id}`)).body.emails).toEqual([
      { type: 'work', value: 'a@b.test' },
    ]);
  });

  it('Add manager as an array for a singular attribute sets the manager', async () => {
    const t = await h.tenant();
    const boss = await createUser(t.c, `${uniq()}@x.test`);
    const id = await createUser(t.c, `${uniq()}@x.test`);
    const res = await t.c.patch(
      `/Users/${id}`,
      patchOp({
        op: 'Add',
        path: 'manager',
        value: [{ $ref: `http://hub.test/scim/v2/Users/${boss}`, value: boss }],
      }),
    );
    expect(res.status).toBe(204);
    const got = (await t.c.get(`/Users/${id}`)).body;
    expect(got.schemas).toEqual([URN.user, URN.ent]);
    expect(got[URN.ent].manager.value).toBe(boss);
    const other = await createUser(t.c, `${uniq()}@x.test`);
    await t.c.patch(
      `/Users/${id}`,
      patchOp({ op: 'Add', path: 'manager', value: [{ $ref: null, value: other }] }),
    );
    expect((await t.c.get(`/Users/${id}`)).body[URN.ent].manager).toEqual({ value: other });
  });

  it('capitalised Add / Remove on plain attributes', async () => {
    const t = await h.tenant();
    const id = await createUser(t.c, `${uniq()}@x.test`);
    await t.c.patch(`/Users/${id}`, patchOp({ op: 'Add', path: 'nickName', value: 'Babs' }));
    expect((await t.c.get(`/Users/${id}`)).body.nickName).toBe('Babs');
    await t.c.patch(`/Users/${id}`, patchOp({ op: 'Remove', path: 'nickName' }));
    expect((await t.c.get(`/Users/${id}`)).body).not.toHaveProperty('nickName');
    await t.c.patch(`/Users/${id}`, patchOp({ op: 'REPLACE', path: 'title', value: 'Boss' }));
    expect((await t.c.get(`/Users/${id}`)).body.title).toBe('Boss');
  });
});

describe('Entra legacy: groups', () => {
  it('POST with the ADSCIM schema URN and meta → 201, only the core schema returned', async () => {
    const t = await h.tenant();
    const body = {
      schemas: [URN.group, URN.adscimGroup],
      externalId: randomUUID(),
      displayName: `displayName-${randomUUID()}`,
      meta: { resourceType: 'Group' },
    };
    const res = await t.c.post('/Groups', body);
    expect(res.status).toBe(201);
    expect(res.body.schemas).toEqual([URN.group]);
    expect(res.body.displayName).toBe(body.displayName);
    expect(res.body.externalId).toBe(body.externalId);
    expect(res.headers.get('location')).toBe(`http://hub.test/scim/v2/Groups/${res.body.id}`);
  });

  it('GET /Groups?excludedAttributes=members&filter=displayName eq "X"', async () => {
    const t = await h.tenant();
    const u = await createUser(t.c, `${uniq()}@x.test`);
    const name = `Group ${uniq()}`;
    const gid = await createGroup(t.c, name, [u]);
    await createGroup(t.c, `${name} other`, [u]);
    const res = await t.c.get(
      `/Groups?excludedAttributes=members&${filterQ(`displayName eq "${name.toLowerCase()}"`)}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0].id).toBe(gid);
    expect(res.body.Resources[0].displayName).toBe(name);
    expect(res.body.Resources[0]).not.toHaveProperty('members');
  });

  it('Add members with $ref: null, idempotently', async () => {
    const t = await h.tenant();
    const [a, b] = [await createUser(t.c, uniq()), await createUser(t.c, uniq())];
    const gid = await createGroup(t.c, uniq('g'));
    const body = patchOp({
      op: 'Add',
      path: 'members',
      value: [{ value: a }, { value: b, $ref: null }],
    });
    expect((await t.c.patch(`/Groups/${gid}`, body)).status).toBe(204);
    expect((await t.c.patch(`/Groups/${gid}`, body)).status).toBe(204);
    expect(await memberIds(h, gid)).toEqual([a, b].sort());
    expect(await apiMemberIds(t.c, gid)).toEqual([a, b].sort());
  });

  it('Remove with a value array removes only the listed members of a 3-member group', async () => {
    const t = await h.tenant();
    const ids = [await createUser(t.c, uniq()), await createUser(t.c, uniq())];
    ids.push(await createUser(t.c, uniq()));
    const [a, b, c] = ids as [string, string, string];
    const gid = await createGroup(t.c, uniq('g'), [a, b, c]);
    const res = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'Remove', path: 'members', value: [{ $ref: null, value: b }] }),
    );
    expect(res.status).toBe(204);
    expect(await memberIds(h, gid)).toEqual([a, c].sort());
    expect(await apiMemberIds(t.c, gid)).toEqual([a, c].sort());
  });

  it('Replace displayName renames the group', async () => {
    const t = await h.tenant();
    const gid = await createGroup(t.c, uniq('g'));
    const name = `${randomUUID()}updatedDisplayName`;
    const res = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'Replace', path: 'displayName', value: name }),
    );
    expect(res.status).toBe(204);
    expect((await t.c.get(`/Groups/${gid}`)).body.displayName).toBe(name);
  });

  it('DELETE /Groups/{id} → 204, then 404', async () => {
    const t = await h.tenant();
    const u = await createUser(t.c, uniq());
    const gid = await createGroup(t.c, uniq('g'), [u]);
    expect((await t.c.delete(`/Groups/${gid}`)).status).toBe(204);
    expect((await t.c.get(`/Groups/${gid}`)).status).toBe(404);
    expect(await memberIds(h, gid)).toEqual([]);
    expect((await t.c.get(`/Users/${u}`)).status).toBe(200);
  });
});
