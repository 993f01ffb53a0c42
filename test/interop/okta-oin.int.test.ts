import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHarness } from '../harness.ts';
import {
  apiMemberIds,
  createGroup,
  createUser,
  expectError,
  filterQ,
  guard,
  memberIds,
  patchOp,
  snapshot,
  URN,
  uniq,
  userRow,
} from './helpers.ts';

/** Okta OIN SCIM 2.0 apps: create with POST, every change with PATCH, plain JSON media type. */
const h = guard(createHarness());
const JSON_TYPE = { 'Content-Type': 'application/json; charset=utf-8' };
const PASSWORD = 'Okta-Secret-1mz050nq';

function oktaUser(userName: string) {
  return {
    schemas: [URN.user],
    userName,
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: userName, type: 'work' }],
    displayName: 'Test User',
    locale: 'en-US',
    externalId: `00u${randomUUID().replace(/-/g, '').slice(0, 17)}`,
    groups: [],
    password: PASSWORD,
    active: true,
  };
}

async function expectNoPassword(tenantId: string, id: string) {
  const row = await userRow(h, id);
  expect(row?.doc).not.toHaveProperty('password');
  expect(JSON.stringify(row?.doc)).not.toContain(PASSWORD);
  const [dump] = await h.db.sql<{ text: string }[]>`select concat(
      (select string_agg(doc::text || user_name || coalesce(display_name, ''), '') from users
        where tenant_id = ${tenantId}),
      (select string_agg(coalesce(detail::text, ''), '') from outbox where tenant_id = ${tenantId})
    ) as text`;
  expect(dump?.text).not.toContain(PASSWORD);
}

describe('Okta OIN: users', () => {
  it('POST with password, groups: [] and application/json → 201; password never stored/returned', async () => {
    const t = await h.tenant();
    const userName = `test.user.${uniq()}@okta.local`;
    const res = await t.c.post('/Users', oktaUser(userName), JSON_TYPE);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(res.text).not.toContain(PASSWORD);
    expect(res.body).not.toHaveProperty('password');
    expect(res.body).not.toHaveProperty('groups');
    expect(res.body).toMatchObject({ userName, active: true, locale: 'en-US' });
    const got = await t.c.get(`/Users/${res.body.id}?attributes=password,userName`);
    expect(got.status).toBe(200);
    expect(got.text).not.toContain(PASSWORD);
    expect(got.body).not.toHaveProperty('password');
    await expectNoPassword(t.tenantId, res.body.id);
  });

  it('lookup before create: filter=userName eq "…"&startIndex=1&count=100', async () => {
    const t = await h.tenant();
    const userName = `test.user.${uniq()}@okta.local`;
    const q = `/Users?${filterQ(`userName eq "${userName}"`)}&startIndex=1&count=100`;
    const none = await t.c.get(q);
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ totalResults: 0, startIndex: 1 });
    const id = (await t.c.post('/Users', oktaUser(userName), JSON_TYPE)).body.id;
    const one = await t.c.get(q);
    expect(one.body).toMatchObject({ totalResults: 1, itemsPerPage: 1, startIndex: 1 });
    expect(one.body.Resources[0]).toMatchObject({ id, userName, active: true });
    expect(one.body.Resources[0].name).toEqual({ givenName: 'Test', familyName: 'User' });
    expect(one.body.Resources[0].emails[0].value).toBe(userName);
  });

  it('deactivates with {"op":"replace","value":{"active":false}} (no path), reactivates', async () => {
    const t = await h.tenant();
    const id = (await t.c.post('/Users', oktaUser(`${uniq()}@okta.local`), JSON_TYPE)).body.id;
    const off = await t.c.patch(
      `/Users/${id}`,
      patchOp({ op: 'replace', value: { active: false } }),
      JSON_TYPE,
    );
    expect(off.status).toBe(204);
    expect((await userRow(h, id))?.active).toBe(false);
    const got = await t.c.get(`/Users/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.active).toBe(false);
    const found = await t.c.get(`/Users?${filterQ(`id eq "${id}"`)}`);
    expect(found.body.Resources[0].active).toBe(false);
    await t.c.patch(`/Users/${id}`, patchOp({ op: 'replace', value: { active: true } }), JSON_TYPE);
    expect((await t.c.get(`/Users/${id}`)).body.active).toBe(true);
  });

  it('password sync PATCH {"op":"replace","value":{"password":"…"}} is accepted, never stored', async () => {
    const t = await h.tenant();
    const id = (await t.c.post('/Users', oktaUser(`${uniq()}@okta.local`), JSON_TYPE)).body.id;
    const res = await t.c.patch(
      `/Users/${id}`,
      patchOp({ op: 'replace', value: { password: `${PASSWORD}-2` } }),
      JSON_TYPE,
    );
    expect(res.status).toBe(204);
    const withBody = await t.c.patch(
      `/Users/${id}?attributes=userName`,
      patchOp({ op: 'replace', path: 'password', value: `${PASSWORD}-3` }),
    );
    expect(withBody.status).toBe(200);
    expect(withBody.text).not.toContain(PASSWORD);
    await expectNoPassword(t.tenantId, id);
  });

  it('profile update PATCH, then DELETE → 204 and 404', async () => {
    const t = await h.tenant();
    const id = (await t.c.post('/Users', oktaUser(`${uniq()}@okta.local`), JSON_TYPE)).body.id;
    const res = await t.c.patch(
      `/Users/${id}`,
      patchOp({ op: 'replace', value: { name: { givenName: 'Another' }, title: 'Dev' } }),
      JSON_TYPE,
    );
    expect(res.status).toBe(204);
    const got = (await t.c.get(`/Users/${id}`)).body;
    expect(got.name).toEqual({ givenName: 'Another', familyName: 'User' });
    expect(got.title).toBe('Dev');
    expect((await t.c.delete(`/Users/${id}`)).status).toBe(204);
    expectError(await t.c.get(`/Users/${id}`), 404);
  });
});

describe('Okta OIN: groups', () => {
  it('POST {displayName, members: []} → 201; a second one with the same name (any case) → 409', async () => {
    const t = await h.tenant();
    const name = `Test SCIMv2 ${uniq()}`;
    const body = { schemas: [URN.group], displayName: name, members: [] };
    const res = await t.c.post('/Groups', body, JSON_TYPE);
    expect(res.status).toBe(201);
    expect(res.body).not.toHaveProperty('members');
    expectError(await t.c.post('/Groups', body, JSON_TYPE), 409, 'uniqueness');
    expectError(
      await t.c.post('/Groups', { ...body, displayName: name.toUpperCase() }, JSON_TYPE),
      409,
      'uniqueness',
    );
    const other = await createGroup(t.c, uniq('g'));
    expectError(
      await t.c.patch(
        `/Groups/${other}`,
        patchOp({ op: 'replace', path: 'displayName', value: name }),
      ),
      409,
      'uniqueness',
    );
    const [count] = await h.db.sql<{ n: number }[]>`
      select count(*)::int as n from groups where tenant_id = ${t.tenantId}`;
    expect(count?.n).toBe(2);
    // another tenant may use the same name
    const t2 = await h.tenant();
    expect((await t2.c.post('/Groups', body, JSON_TYPE)).status).toBe(201);
  });

  it('filter=displayName eq "X" with startIndex/count, and excludedAttributes=members', async () => {
    const t = await h.tenant();
    const u = await createUser(t.c, uniq());
    const name = `Okta Group ${uniq()}`;
    const gid = await createGroup(t.c, name, [u]);
    const res = await t.c.get(
      `/Groups?${filterQ(`displayName eq "${name}"`)}&startIndex=1&count=100&excludedAttributes=members`,
    );
    expect(res.body).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(res.body.Resources[0]).toMatchObject({ id: gid, displayName: name });
    expect(res.body.Resources[0]).not.toHaveProperty('members');
    const single = await t.c.get(`/Groups/${gid}?excludedAttributes=members`);
    expect(single.status).toBe(200);
    expect(single.body).toMatchObject({ id: gid, displayName: name });
    expect(single.body).not.toHaveProperty('members');
    const full = await t.c.get(`/Groups/${gid}`);
    expect(full.body.members.map((m: { value: string }) => m.value)).toEqual([u]);
  });

  it('rename with {"op":"replace","value":{"id":"<same id>","displayName":"New"}}', async () => {
    const t = await h.tenant();
    const gid = await createGroup(t.c, uniq('g'));
    const res = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'replace', value: { id: gid, displayName: 'Test SCIMv2 New' } }),
      JSON_TYPE,
    );
    expect(res.status).toBe(204);
    expect((await t.c.get(`/Groups/${gid}`)).body.displayName).toBe('Test SCIMv2 New');
  });

  it('rename with a different id → 400 mutability, nothing changed', async () => {
    const t = await h.tenant();
    const gid = await createGroup(t.c, uniq('g'));
    const before = await snapshot(h, t.tenantId);
    const res = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'replace', value: { id: randomUUID(), displayName: 'Other' } }),
      JSON_TYPE,
    );
    expectError(res, 400, 'mutability');
    expect(await snapshot(h, t.tenantId)).toEqual(before);
  });

  it('add members with display labels; remove with members[value eq "id"] keeps the others', async () => {
    const t = await h.tenant();
    const a = await createUser(t.c, uniq());
    const b = await createUser(t.c, uniq());
    const c = await createUser(t.c, uniq());
    const gid = await createGroup(t.c, uniq('g'));
    const add = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({
        op: 'add',
        path: 'members',
        value: [
          { value: a, display: 'a@okta.local' },
          { value: b, display: 'b@okta.local' },
          { value: c, display: 'c@okta.local' },
        ],
      }),
      JSON_TYPE,
    );
    expect(add.status).toBe(204);
    const rm = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'remove', path: `members[value eq "${c}"]` }),
      JSON_TYPE,
    );
    expect(rm.status).toBe(204);
    expect(await memberIds(h, gid)).toEqual([a, b].sort());
    const got = await t.c.get(`/Groups/${gid}`);
    const labels = Object.fromEntries(
      got.body.members.map((m: { value: string; display: string }) => [m.value, m.display]),
    );
    expect(labels).toEqual({ [a]: 'a@okta.local', [b]: 'b@okta.local' });
  });

  it('remove + add in one request is ordered', async () => {
    const t = await h.tenant();
    const a = await createUser(t.c, uniq());
    const b = await createUser(t.c, uniq());
    const c = await createUser(t.c, uniq());
    const d = await createUser(t.c, uniq());
    const gid = await createGroup(t.c, uniq('g'), [a, b, c]);
    const res = await t.c.patch(
      `/Groups/${gid}`,
      patchOp(
        { op: 'remove', path: `members[value eq "${a}"]` },
        { op: 'add', path: 'members', value: [{ value: d, display: 'd@okta.local' }] },
        // order matters: b removed then re-added stays; c added then removed goes
        { op: 'remove', path: `members[value eq "${b}"]` },
        { op: 'add', path: 'members', value: [{ value: b }] },
        { op: 'add', path: 'members', value: [{ value: c }] },
        { op: 'remove', path: `members[value eq "${c}"]` },
      ),
      JSON_TYPE,
    );
    expect(res.status).toBe(204);
    expect(await memberIds(h, gid)).toEqual([b, d].sort());
    expect(await apiMemberIds(t.c, gid)).toEqual([b, d].sort());
  });

  it('remove + add in one request is atomic: an unknown id in the add keeps the removed member', async () => {
    const t = await h.tenant();
    const a = await createUser(t.c, uniq());
    const b = await createUser(t.c, uniq());
    const gid = await createGroup(t.c, uniq('g'), [a, b]);
    const before = await snapshot(h, t.tenantId);
    const res = await t.c.patch(
      `/Groups/${gid}`,
      patchOp(
        { op: 'remove', path: `members[value eq "${a}"]` },
        { op: 'add', path: 'members', value: [{ value: randomUUID() }] },
      ),
      JSON_TYPE,
    );
    expectError(res, 400);
    expect(await snapshot(h, t.tenantId)).toEqual(before);
    expect(await memberIds(h, gid)).toEqual([a, b].sort());
  });

  it('PATCH answers 204 by default and 200 with the resource when attributes are asked', async () => {
    const t = await h.tenant();
    const a = await createUser(t.c, uniq());
    const gid = await createGroup(t.c, uniq('g'));
    const add = patchOp({ op: 'add', path: 'members', value: [{ value: a }] });
    const plain = await t.c.patch(`/Groups/${gid}`, add);
    expect(plain.status).toBe(204);
    expect(plain.text).toBe('');
    expect(plain.headers.get('etag')).toBe('W/"2"');
    const named = await t.c.patch(
      `/Groups/${gid}?attributes=displayName`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Named' }),
    );
    expect(named.status).toBe(200);
    expect(named.body).toEqual({ schemas: [URN.group], id: gid, displayName: 'Named' });
    const excluded = await t.c.patch(`/Groups/${gid}?excludedAttributes=members`, add);
    expect(excluded.status).toBe(200);
    expect(excluded.body).toMatchObject({ id: gid, displayName: 'Named' });
    expect(excluded.body).not.toHaveProperty('members');
    const withMembers = await t.c.patch(`/Groups/${gid}?attributes=members`, add);
    expect(withMembers.status).toBe(200);
    expect(withMembers.body.members.map((m: { value: string }) => m.value)).toEqual([a]);
  });

  it('DELETE /Groups/{id} → 204, then 404', async () => {
    const t = await h.tenant();
    const gid = await createGroup(t.c, uniq('g'));
    expect((await t.c.delete(`/Groups/${gid}`)).status).toBe(204);
    expectError(await t.c.get(`/Groups/${gid}`), 404);
  });
});
