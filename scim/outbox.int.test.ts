import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';
import {
  BULK_REQUEST,
  checkedClient,
  createGroup,
  createUser,
  groupBody,
  patchBody,
  type ScimClient,
  userBody,
} from '../test/scim-helpers.ts';

const h = createHarness();

interface Event {
  resource_type: string;
  resource_id: string;
  version: number;
  operation: string;
  detail: Record<string, unknown> | null;
}

async function fresh(): Promise<{ c: ScimClient; tenantId: string }> {
  const t = await h.tenant();
  return { c: checkedClient(h, t.scimToken), tenantId: t.tenantId };
}

/** The tenant's outbox, oldest first; `since` skips events already seen. */
async function events(tenantId: string, since = 0): Promise<Event[]> {
  const rows = await h.db.sql`select resource_type, resource_id::text, version, operation, detail
    from outbox where tenant_id = ${tenantId} order by id offset ${since}`;
  return rows as unknown as Event[];
}

const versionOf = async (c: ScimClient, path: string) =>
  Number(/\d+/.exec((await c.get(path)).body.meta.version)?.[0]);

describe('outbox: one event per successful write, in the same transaction', () => {
  it('records create, update (PUT), update (PATCH) and delete of a user', async () => {
    const { c, tenantId } = await fresh();
    const id = await createUser(c, 'ob-user');
    expect(await events(tenantId)).toEqual([
      { resource_type: 'User', resource_id: id, version: 1, operation: 'create', detail: null },
    ]);
    expect((await c.put(`/Users/${id}`, userBody('ob-user', { title: 'T' }))).status).toBe(200);
    const patched = await c.patch(
      `/Users/${id}`,
      patchBody({ op: 'replace', path: 'active', value: false }),
    );
    expect(patched.status).toBe(204);
    expect((await c.delete(`/Users/${id}`)).status).toBe(204);
    const all = await events(tenantId);
    expect(all.map((e) => [e.resource_type, e.resource_id, e.version, e.operation])).toEqual([
      ['User', id, 1, 'create'],
      ['User', id, 2, 'update'],
      ['User', id, 3, 'update'],
      ['User', id, 4, 'delete'],
    ]);
    // The event version is the version the write produced.
    expect(patched.headers.get('etag')).toBe('W/"3"');
  });

  it('records group writes with member details', async () => {
    const { c, tenantId } = await fresh();
    const u1 = await createUser(c, 'm1');
    const u2 = await createUser(c, 'm2');
    const u3 = await createUser(c, 'm3');
    const seen = (await events(tenantId)).length;
    const g = await createGroup(c, 'ob-group', [u1, u2]);
    await c.patch(
      `/Groups/${g}`,
      patchBody({ op: 'add', path: 'members', value: [{ value: u3 }] }),
    );
    await c.patch(`/Groups/${g}`, patchBody({ op: 'remove', path: `members[value eq "${u1}"]` }));
    await c.patch(`/Groups/${g}`, patchBody({ op: 'replace', path: 'displayName', value: 'ob2' }));
    await c.put(`/Groups/${g}`, groupBody('ob2', [u1]));
    await c.delete(`/Groups/${g}`);
    const ev = await events(tenantId, seen);
    expect(ev.map((e) => [e.resource_type, e.resource_id, e.version, e.operation])).toEqual([
      ['Group', g, 1, 'create'],
      ['Group', g, 2, 'update'],
      ['Group', g, 3, 'update'],
      ['Group', g, 4, 'update'],
      ['Group', g, 5, 'update'],
      ['Group', g, 6, 'delete'],
    ]);
    const members = ev.map((e) => e.detail?.members as Record<string, unknown> | undefined);
    expect(members[0]).toMatchObject({ removed: [], cleared: false, complete: true });
    expect([...((members[0]?.added as string[]) ?? [])].sort()).toEqual([u1, u2].sort());
    expect(members[1]).toMatchObject({ added: [u3], removed: [], cleared: false });
    expect(members[2]).toMatchObject({ added: [], removed: [u1], cleared: false });
    expect(members[3]).toBeUndefined();
    expect(members[4]).toMatchObject({ added: [u1], cleared: true });
    expect([...((members[4]?.removed as string[]) ?? [])].sort()).toEqual([u2, u3].sort());
  });

  it('records nothing for a write that changes nothing', async () => {
    const { c, tenantId } = await fresh();
    const u = await createUser(c, 'idem');
    const g = await createGroup(c, 'idem-group', [u]);
    const seen = (await events(tenantId)).length;
    await c.patch(`/Groups/${g}`, patchBody({ op: 'add', path: 'members', value: [{ value: u }] }));
    await c.put(`/Users/${u}`, userBody('idem'));
    expect(await events(tenantId, seen)).toEqual([]);
  });

  it('records the groups a deleted user leaves', async () => {
    const { c, tenantId } = await fresh();
    const u = await createUser(c, 'leaver');
    const keep = await createUser(c, 'stayer');
    const g1 = await createGroup(c, 'left-1', [u, keep]);
    const g2 = await createGroup(c, 'left-2', [u]);
    const seen = (await events(tenantId)).length;
    expect((await c.delete(`/Users/${u}`)).status).toBe(204);
    const ev = await events(tenantId, seen);
    expect(ev.find((e) => e.resource_id === u)).toMatchObject({ operation: 'delete' });
    for (const g of [g1, g2]) {
      const e = ev.find((x) => x.resource_id === g);
      expect(e, `event for group ${g}`).toMatchObject({
        resource_type: 'Group',
        operation: 'update',
        version: await versionOf(c, `/Groups/${g}`),
        detail: { members: { removed: [u] } },
      });
    }
    expect(ev).toHaveLength(3);
  });

  it('records bulk writes like single ones', async () => {
    const { c, tenantId } = await fresh();
    const res = await c.post('/Bulk', {
      schemas: [BULK_REQUEST],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u', data: userBody('bulk-u') },
        { method: 'POST', path: '/Groups', bulkId: 'g', data: groupBody('bulk-g', ['bulkId:u']) },
        { method: 'POST', path: '/Users', bulkId: 'dup', data: userBody('bulk-u') },
      ],
    });
    expect(res.body.Operations.map((o: { status: string }) => o.status)).toEqual([
      '201',
      '201',
      '409',
    ]);
    const ev = await events(tenantId);
    expect(ev.map((e) => [e.resource_type, e.operation])).toEqual([
      ['User', 'create'],
      ['Group', 'create'],
    ]);
  });
});

describe('outbox: failed writes record nothing', () => {
  it('409 uniqueness, 412 precondition, 400 PATCH, 400 member, 404', async () => {
    const { c, tenantId } = await fresh();
    const u = await createUser(c, 'taken');
    const g = await createGroup(c, 'taken-group');
    const other = await createUser(c, 'other');
    const seen = (await events(tenantId)).length;
    const failures = [
      await c.post('/Users', userBody('TAKEN')),
      await c.post('/Groups', groupBody('taken-group')),
      await c.patch(
        `/Users/${other}`,
        patchBody({ op: 'replace', path: 'userName', value: 'taken' }),
      ),
      await c.put(`/Users/${other}`, userBody('Taken')),
      await c.put(`/Users/${u}`, userBody('taken', { title: 'x' }), { 'If-Match': 'W/"9"' }),
      await c.patch(`/Users/${u}`, patchBody({ op: 'replace', path: 'title', value: 'x' }), {
        'If-Match': 'W/"9"',
      }),
      await c.delete(`/Users/${u}`, { 'If-Match': 'W/"9"' }),
      // Several operations, the last one bad: atomic, nothing applied.
      await c.patch(
        `/Users/${u}`,
        patchBody(
          { op: 'replace', path: 'title', value: 'applied?' },
          { op: 'remove', path: 'nope' },
        ),
      ),
      await c.patch(`/Users/${u}`, patchBody({ op: 'remove' })),
      await c.patch(
        `/Groups/${g}`,
        patchBody(
          { op: 'add', path: 'members', value: [{ value: u }] },
          { op: 'add', path: 'members', value: [{ value: randomUUID() }] },
        ),
      ),
      await c.post('/Groups', groupBody('with-ghost', [randomUUID()])),
      await c.delete(`/Users/${randomUUID()}`),
      await c.patch(`/Groups/${randomUUID()}`, patchBody({ op: 'remove', path: 'members' })),
    ];
    expect(failures.map((r) => r.status)).toEqual([
      409, 409, 409, 409, 412, 412, 412, 400, 400, 400, 400, 404, 404,
    ]);
    expect(await events(tenantId, seen)).toEqual([]);
    expect((await c.get(`/Users/${u}`)).body.title).toBeUndefined();
    expect(await h.db.sql`select 1 from group_members where group_id = ${g}`).toHaveLength(0);
    expect(
      await h.db
        .sql`select 1 from groups where tenant_id = ${tenantId} and display_name = 'with-ghost'`,
    ).toHaveLength(0);
  });
});
