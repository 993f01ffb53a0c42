import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHarness } from '../harness.ts';
import {
  createGroup,
  createUser,
  expectError,
  guard,
  memberIds,
  snapshot,
  URN,
  uniq,
  userRow,
} from './helpers.ts';

/**
 * Okta App Integration Wizard apps: updates are a PUT of the whole object Okta last read,
 * id, meta and groups included; a PUT without `active` must not deactivate.
 */
const h = guard(createHarness());
const JSON_TYPE = { 'Content-Type': 'application/json' };
const PASSWORD = 'Aiw-Pa55word-t1ght';

type Body = Record<string, unknown>;

async function created(t: Awaited<ReturnType<typeof h.tenant>>, userName: string) {
  const res = await t.c.post(
    '/Users',
    {
      schemas: [URN.user],
      userName,
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: userName, type: 'work' }],
      displayName: 'Test User',
      groups: [],
      password: PASSWORD,
      active: true,
    },
    JSON_TYPE,
  );
  expect(res.status).toBe(201);
  return res.body as Body & { id: string };
}

/** What Okta PUTs back: the object it read, edited, with id, meta, groups and a password. */
function putBody(read: Body, changes: Body): Body {
  return { ...read, groups: [], password: PASSWORD, ...changes };
}

describe('Okta AIW: users (PUT)', () => {
  it('PUT of the whole object with id, meta, groups and password → 200, password never kept', async () => {
    const t = await h.tenant();
    const user = await created(t, `${uniq()}@okta.local`);
    const body = putBody(user, {
      name: { givenName: 'Another', middleName: 'Test', familyName: 'User' },
      title: 'Engineer',
    });
    const res = await t.c.put(`/Users/${user.id}`, body, JSON_TYPE);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('W/"2"');
    expect(res.body).toMatchObject({
      id: user.id,
      userName: user.userName,
      name: { givenName: 'Another', middleName: 'Test', familyName: 'User' },
      title: 'Engineer',
      active: true,
    });
    expect(res.body.meta.created).toBe((user.meta as Body).created);
    expect(res.body.meta.version).toBe('W/"2"');
    expect(res.text).not.toContain(PASSWORD);
    const row = await userRow(h, user.id);
    expect(row?.doc).not.toHaveProperty('password');
    expect(row?.doc).not.toHaveProperty('id');
    expect(row?.doc).not.toHaveProperty('meta');
    expect(row?.doc).not.toHaveProperty('groups');
    expect(JSON.stringify(row?.doc)).not.toContain(PASSWORD);
    const [outbox] = await h.db.sql<{ text: string }[]>`
      select coalesce(string_agg(detail::text, ''), '') as text from outbox
      where tenant_id = ${t.tenantId}`;
    expect(outbox?.text).not.toContain(PASSWORD);
    expect((await t.c.get(`/Users/${user.id}`)).body).toEqual(res.body);
  });

  it('a PUT without active keeps the user active (and keeps an inactive user inactive)', async () => {
    const t = await h.tenant();
    const user = await created(t, `${uniq()}@okta.local`);
    const { active: _a, ...noActive } = putBody(user, { title: 'No active here' });
    const res = await t.c.put(`/Users/${user.id}`, noActive, JSON_TYPE);
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(true);
    expect((await userRow(h, user.id))?.active).toBe(true);

    const off = await t.c.put(`/Users/${user.id}`, putBody(user, { active: false }), JSON_TYPE);
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    const again = await t.c.put(`/Users/${user.id}`, noActive, JSON_TYPE);
    expect(again.status).toBe(200);
    expect(again.body.active).toBe(false);
    expect((await userRow(h, user.id))?.active).toBe(false);
  });

  it('deactivation by PUT active:false; the user stays readable and listable', async () => {
    const t = await h.tenant();
    const user = await created(t, `${uniq()}@okta.local`);
    await t.c.put(`/Users/${user.id}`, putBody(user, { active: false }), JSON_TYPE);
    const got = await t.c.get(`/Users/${user.id}`);
    expect(got.status).toBe(200);
    expect(got.body.active).toBe(false);
    const list = await t.c.get('/Users?startIndex=1&count=100');
    expect(list.body.Resources.map((r: Body) => [r.id, r.active])).toEqual([[user.id, false]]);
  });

  it('PUT replaces: attributes left out are removed, groups in the body are ignored', async () => {
    const t = await h.tenant();
    const user = await created(t, `${uniq()}@okta.local`);
    const gid = await createGroup(t.c, uniq('g'), [user.id]);
    const {
      emails: _e,
      displayName: _d,
      ...rest
    } = putBody(user, {
      groups: [{ value: randomUUID(), display: 'Nope' }],
    });
    const res = await t.c.put(`/Users/${user.id}`, rest, JSON_TYPE);
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('emails');
    expect(res.body).not.toHaveProperty('displayName');
    const read = await t.c.get(`/Users/${user.id}?attributes=groups`);
    expect(read.body.groups.map((g: Body) => g.value)).toEqual([gid]);
    expect(await memberIds(h, gid)).toEqual([user.id]);
  });

  it('an unchanged PUT keeps the version', async () => {
    const t = await h.tenant();
    const user = await created(t, `${uniq()}@okta.local`);
    const res = await t.c.put(`/Users/${user.id}`, putBody(user, {}), JSON_TYPE);
    expect(res.status).toBe(200);
    expect(res.body.meta.version).toBe('W/"1"');
  });

  it('PUT renaming onto another user (case variant) → 409 uniqueness, nothing changed', async () => {
    const t = await h.tenant();
    const a = await created(t, `${uniq()}@okta.local`);
    const b = await created(t, `${uniq()}@okta.local`);
    const before = await snapshot(h, t.tenantId);
    const res = await t.c.put(
      `/Users/${b.id}`,
      putBody(b, { userName: String(a.userName).toUpperCase() }),
      JSON_TYPE,
    );
    expectError(res, 409, 'uniqueness');
    expect(await snapshot(h, t.tenantId)).toEqual(before);
  });

  it('PUT of an unknown id → 404', async () => {
    const t = await h.tenant();
    const user = await created(t, `${uniq()}@okta.local`);
    const id = randomUUID();
    expectError(await t.c.put(`/Users/${id}`, putBody(user, { id }), JSON_TYPE), 404);
  });
});

describe('Okta AIW: groups (PUT)', () => {
  it('PUT with id, meta and members replaces the membership', async () => {
    const t = await h.tenant();
    const a = await createUser(t.c, uniq());
    const b = await createUser(t.c, uniq());
    const c = await createUser(t.c, uniq());
    const gid = await createGroup(t.c, uniq('g'), [a, b]);
    const read = (await t.c.get(`/Groups/${gid}`)).body;
    const res = await t.c.put(
      `/Groups/${gid}`,
      {
        ...read,
        displayName: 'Renamed by PUT',
        members: [{ value: b }, { value: c, display: 'c' }],
      },
      JSON_TYPE,
    );
    expect(res.status).toBe(200);
    expect(res.body.displayName).toBe('Renamed by PUT');
    expect(await memberIds(h, gid)).toEqual([b, c].sort());
  });

  it('PUT without members leaves the membership; members: [] clears it', async () => {
    const t = await h.tenant();
    const a = await createUser(t.c, uniq());
    const gid = await createGroup(t.c, uniq('g'), [a]);
    const name = uniq('g');
    const res = await t.c.put(
      `/Groups/${gid}`,
      { schemas: [URN.group], id: gid, displayName: name },
      JSON_TYPE,
    );
    expect(res.status).toBe(200);
    expect(await memberIds(h, gid)).toEqual([a]);
    const cleared = await t.c.put(
      `/Groups/${gid}`,
      { schemas: [URN.group], id: gid, displayName: name, members: [] },
      JSON_TYPE,
    );
    expect(cleared.status).toBe(200);
    expect(await memberIds(h, gid)).toEqual([]);
  });

  it('PUT with an unknown member id → 400, membership and name unchanged', async () => {
    const t = await h.tenant();
    const a = await createUser(t.c, uniq());
    const gid = await createGroup(t.c, uniq('g'), [a]);
    const before = await snapshot(h, t.tenantId);
    const res = await t.c.put(
      `/Groups/${gid}`,
      { schemas: [URN.group], id: gid, displayName: 'X', members: [{ value: randomUUID() }] },
      JSON_TYPE,
    );
    expectError(res, 400);
    expect(await snapshot(h, t.tenantId)).toEqual(before);
  });
});
