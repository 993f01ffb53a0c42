import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHarness, type ScimResponse } from './harness.ts';
import {
  BULK_REQUEST,
  checkedClient,
  createGroup,
  createUser,
  groupBody,
  patchBody,
  type ScimClient,
  SEARCH,
  userBody,
} from './scim-helpers.ts';

/**
 * Tenant isolation for every SCIM route: the tenant comes only from the token, so another
 * tenant's ids must answer exactly like ids that do not exist, and must change nothing there.
 * Each route in the table runs as tenant A against tenant B's resources and against unknown
 * ones; the two answers are compared after masking the ids.
 */

const h = createHarness();

/** What a route is aimed at: the victim's resources, or made-up ones. */
interface Target {
  user: string;
  group: string;
  userName: string;
  groupName: string;
}

/** Per run: A's own group, for routes that add members to it. */
interface Own {
  group: string;
  user: string;
}

interface Route {
  name: string;
  /** The status both a foreign and an unknown target must get. */
  status: number;
  run: (c: ScimClient, t: Target, own: Own) => Promise<ScimResponse>;
}

const q = (f: string) => encodeURIComponent(f);
const bulk = (c: ScimClient, Operations: Record<string, unknown>[]) =>
  c.post('/Bulk', { schemas: [BULK_REQUEST], Operations });
const search = (c: ScimClient, path: string, filter: string) =>
  c.post(path, { schemas: [SEARCH], filter });

const routes: Route[] = [
  { name: 'GET /Users/:id', status: 404, run: (c, t) => c.get(`/Users/${t.user}`) },
  { name: 'GET /Groups/:id', status: 404, run: (c, t) => c.get(`/Groups/${t.group}`) },
  {
    name: 'GET /Users/:id with If-None-Match *',
    status: 404,
    run: (c, t) => c.get(`/Users/${t.user}`, { 'If-None-Match': '*' }),
  },
  {
    name: 'GET /Groups/:id?excludedAttributes=members',
    status: 404,
    run: (c, t) => c.get(`/Groups/${t.group}?excludedAttributes=members`),
  },
  {
    name: 'PUT /Users/:id',
    status: 404,
    run: (c, t) => c.put(`/Users/${t.user}`, userBody('hijacked', { active: false })),
  },
  {
    name: 'PUT /Users/:id with If-Match *',
    status: 404,
    run: (c, t) => c.put(`/Users/${t.user}`, userBody('hijacked'), { 'If-Match': '*' }),
  },
  {
    name: 'PUT /Groups/:id',
    status: 404,
    run: (c, t) => c.put(`/Groups/${t.group}`, groupBody('hijacked')),
  },
  {
    name: 'PATCH /Users/:id',
    status: 404,
    run: (c, t) =>
      c.patch(`/Users/${t.user}`, patchBody({ op: 'replace', path: 'active', value: false })),
  },
  {
    name: 'PATCH /Users/:id with If-Match *',
    status: 404,
    run: (c, t) =>
      c.patch(`/Users/${t.user}`, patchBody({ op: 'replace', value: { title: 'x' } }), {
        'If-Match': '*',
      }),
  },
  {
    name: 'PATCH /Groups/:id remove all members',
    status: 404,
    run: (c, t) => c.patch(`/Groups/${t.group}`, patchBody({ op: 'remove', path: 'members' })),
  },
  {
    name: 'PATCH /Groups/:id add a member',
    status: 404,
    run: (c, t, own) =>
      c.patch(
        `/Groups/${t.group}`,
        patchBody({ op: 'add', path: 'members', value: [{ value: own.user }] }),
      ),
  },
  { name: 'DELETE /Users/:id', status: 404, run: (c, t) => c.delete(`/Users/${t.user}`) },
  { name: 'DELETE /Groups/:id', status: 404, run: (c, t) => c.delete(`/Groups/${t.group}`) },
  {
    name: 'GET /Users?filter=id eq',
    status: 200,
    run: (c, t) => c.get(`/Users?filter=${q(`id eq "${t.user}"`)}`),
  },
  {
    name: 'GET /Users?filter=userName eq',
    status: 200,
    run: (c, t) => c.get(`/Users?filter=${q(`userName eq "${t.userName}"`)}`),
  },
  {
    name: 'GET /Users?filter=groups.value eq',
    status: 200,
    run: (c, t) => c.get(`/Users?filter=${q(`groups.value eq "${t.group}"`)}`),
  },
  {
    name: 'GET /Users?filter=id eq or userName eq, count=0',
    status: 200,
    run: (c, t) =>
      c.get(`/Users?count=0&filter=${q(`id eq "${t.user}" or userName eq "${t.userName}"`)}`),
  },
  {
    name: 'GET /Groups?filter=id eq',
    status: 200,
    run: (c, t) => c.get(`/Groups?filter=${q(`id eq "${t.group}"`)}`),
  },
  {
    name: 'GET /Groups?filter=displayName eq&excludedAttributes=members',
    status: 200,
    run: (c, t) =>
      c.get(`/Groups?filter=${q(`displayName eq "${t.groupName}"`)}&excludedAttributes=members`),
  },
  {
    name: 'GET /Groups?filter=members.value eq',
    status: 200,
    run: (c, t) => c.get(`/Groups?filter=${q(`members[value eq "${t.user}"]`)}`),
  },
  {
    name: 'GET /Users?filter=id eq with a cursor',
    status: 200,
    run: (c, t) => c.get(`/Users?cursor=&count=10&filter=${q(`id eq "${t.user}"`)}`),
  },
  {
    name: 'POST /Users/.search',
    status: 200,
    run: (c, t) => search(c, '/Users/.search', `id eq "${t.user}"`),
  },
  {
    name: 'POST /Groups/.search',
    status: 200,
    run: (c, t) => search(c, '/Groups/.search', `id eq "${t.group}"`),
  },
  {
    name: 'POST /.search',
    status: 200,
    run: (c, t) => search(c, '/.search', `id eq "${t.user}" or id eq "${t.group}"`),
  },
  {
    name: 'POST /Bulk PUT, PATCH, DELETE on the ids',
    status: 200,
    run: (c, t) =>
      bulk(c, [
        { method: 'PUT', path: `/Users/${t.user}`, data: userBody('hijacked') },
        {
          method: 'PATCH',
          path: `/Users/${t.user}`,
          data: patchBody({ op: 'replace', path: 'active', value: false }),
        },
        {
          method: 'PATCH',
          path: `/Groups/${t.group}`,
          data: patchBody({ op: 'remove', path: 'members' }),
        },
        { method: 'PUT', path: `/Groups/${t.group}`, data: groupBody('hijacked') },
        { method: 'DELETE', path: `/Users/${t.user}`, version: '*' },
        { method: 'DELETE', path: `/Groups/${t.group}` },
      ]),
  },
  {
    name: 'POST /Bulk creating a group with the user as member',
    status: 200,
    run: (c, t) =>
      bulk(c, [
        { method: 'POST', path: '/Groups', bulkId: 'g', data: groupBody('bulk-g', [t.user]) },
      ]),
  },
  {
    name: 'PATCH own group: add the user as member',
    status: 400,
    run: (c, t, own) =>
      c.patch(
        `/Groups/${own.group}`,
        patchBody({ op: 'add', path: 'members', value: [{ value: t.user }] }),
      ),
  },
  {
    name: 'PATCH own group: add the group as member',
    status: 400,
    run: (c, t, own) =>
      c.patch(
        `/Groups/${own.group}`,
        patchBody({ op: 'add', path: 'members', value: [{ value: t.group, type: 'Group' }] }),
      ),
  },
  {
    name: 'PATCH own group: replace members with the user',
    status: 400,
    run: (c, t, own) =>
      c.patch(
        `/Groups/${own.group}`,
        patchBody({ op: 'replace', path: 'members', value: [{ value: t.user }] }),
      ),
  },
  {
    name: 'PUT own group with the user as member',
    status: 400,
    run: (c, t, own) => c.put(`/Groups/${own.group}`, groupBody('own', [t.user])),
  },
  {
    name: 'POST /Groups with the user as member',
    status: 400,
    run: (c, t) => c.post('/Groups', groupBody('new-with-foreign', [t.user])),
  },
  {
    name: 'PATCH own group: remove the user (a no-op, like any non-member)',
    status: 204,
    run: (c, t, own) =>
      c.patch(
        `/Groups/${own.group}`,
        patchBody({ op: 'remove', path: `members[value eq "${t.user}"]` }),
      ),
  },
];

/** Everything tenant B owns, to prove nothing changed. */
async function snapshot(tenantId: string) {
  const users = await h.db.sql`select id, user_name, active, doc, version, updated_at
    from users where tenant_id = ${tenantId} order by id`;
  const groups = await h.db.sql`select id, display_name, doc, version, updated_at
    from groups where tenant_id = ${tenantId} order by id`;
  const members = await h.db.sql`select group_id, member_id, member_type, tenant_id
    from group_members where group_id in (select id from groups where tenant_id = ${tenantId})
       or member_id in (select id from users where tenant_id = ${tenantId})
       or member_id in (select id from groups where tenant_id = ${tenantId})
    order by group_id, member_id`;
  const outbox = await h.db
    .sql`select count(*)::int as n from outbox where tenant_id = ${tenantId}`;
  return { users, groups, members, outbox: outbox[0]?.n };
}

/** An answer with the target's ids and names masked, so foreign and unknown can be compared. */
function masked(res: ScimResponse, t: Target, ownGroup: string): unknown {
  let text = res.text;
  for (const [k, v] of Object.entries(t)) text = text.split(v).join(`<${k}>`);
  // Ids the server made up for this call (bulk-created groups) differ between runs.
  text = text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) =>
    id === ownGroup ? '<own>' : '<new>',
  );
  // Versions of the attacker's own resources move between the two calls.
  text = text.replace(/W\/\\?"\d+\\?"/g, '<version>');
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('tenant isolation: another tenant’s ids answer like unknown ids', () => {
  for (const route of routes) {
    it(route.name, async () => {
      const [a, b] = await Promise.all([h.tenant(), h.tenant()]);
      const attacker = checkedClient(h, a.scimToken);
      const victim = checkedClient(h, b.scimToken);
      const vUserName = `victim-${randomUUID().slice(0, 8)}`;
      const vUser = await createUser(victim, vUserName, { title: 'keep me' });
      const vGroupName = `victim-group-${randomUUID().slice(0, 8)}`;
      const vGroup = await createGroup(victim, vGroupName, [vUser]);
      const ownUser = await createUser(attacker, 'attacker');
      const ownGroup = await createGroup(attacker, 'own');
      const own = { group: ownGroup, user: ownUser };
      const foreign: Target = {
        user: vUser,
        group: vGroup,
        userName: vUserName,
        groupName: vGroupName,
      };
      const unknown: Target = {
        user: randomUUID(),
        group: randomUUID(),
        userName: `nobody-${randomUUID().slice(0, 8)}`,
        groupName: `no-group-${randomUUID().slice(0, 8)}`,
      };
      const before = await snapshot(b.tenantId);

      const fRes = await route.run(attacker, foreign, own);
      const uRes = await route.run(attacker, unknown, own);
      expect(fRes.status, fRes.text).toBe(route.status);
      expect(masked(fRes, foreign, ownGroup)).toEqual(masked(uRes, unknown, ownGroup));
      if (route.status === 200 && fRes.body.totalResults !== undefined) {
        expect(fRes.body.totalResults).toBe(0);
      }
      if (route.status === 200 && Array.isArray(fRes.body.Operations)) {
        for (const op of fRes.body.Operations) expect(['400', '404']).toContain(op.status);
      }
      expect(await snapshot(b.tenantId)).toEqual(before);
      // The victim still sees its data unchanged.
      const seen = await victim.get(`/Groups/${vGroup}`);
      expect(seen.body.members.map((m: { value: string }) => m.value)).toEqual([vUser]);
      expect((await victim.get(`/Users/${vUser}`)).body.title).toBe('keep me');
      // And the attacker's own group never gained a foreign member.
      const mine = await h.db.sql`select member_id from group_members where group_id = ${ownGroup}`;
      expect(mine.map((r) => r.member_id)).not.toContain(vUser);
    });
  }
});

describe('tenant isolation: names and listings', () => {
  it('uniqueness is per tenant: the same userName and displayName exist in both', async () => {
    const [a, b] = await Promise.all([h.tenant(), h.tenant()]);
    const ca = checkedClient(h, a.scimToken);
    const cb = checkedClient(h, b.scimToken);
    await createUser(cb, 'shared@example.com');
    await createGroup(cb, 'Shared');
    expect((await ca.post('/Users', userBody('SHARED@example.com'))).status).toBe(201);
    expect((await ca.post('/Groups', groupBody('shared'))).status).toBe(201);
    expect((await cb.get('/Users')).body.totalResults).toBe(1);
  });

  it('unfiltered listings and counts show only the caller’s resources', async () => {
    const [a, b] = await Promise.all([h.tenant(), h.tenant()]);
    const ca = checkedClient(h, a.scimToken);
    const cb = checkedClient(h, b.scimToken);
    const mine = await createUser(ca, 'mine');
    await createUser(cb, 'theirs-1');
    await createUser(cb, 'theirs-2');
    await createGroup(cb, 'their-group');
    const users = await ca.get('/Users?count=0');
    expect(users.body.totalResults).toBe(1);
    const list = await ca.get('/Users?sortBy=userName');
    expect(list.body.Resources.map((r: { id: string }) => r.id)).toEqual([mine]);
    expect((await ca.get('/Groups')).body.totalResults).toBe(0);
    const root = await ca.post('/.search', { schemas: [SEARCH] });
    expect(root.body.totalResults).toBe(1);
    const present = await ca.get(`/Users?filter=${q('userName pr')}`);
    expect(present.body.totalResults).toBe(1);
  });
});
