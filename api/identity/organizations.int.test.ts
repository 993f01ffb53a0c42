import { describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import {
  createOrganization,
  deleteOrganization,
  getOrganization,
  getOrganizations,
  listChildren,
  listSubtree,
  moveOrganization,
  renameOrganization,
  setUserOrganization,
} from './organizations.ts';
import { admin, auditOf, outboxOf, refused, snapshot, tenantWithUsers } from './test-fixtures.ts';

const h = createHarness();
const db = h.db.db;

async function tree(tenantId: string) {
  const root = await createOrganization(db, tenantId, admin, { name: 'Root' });
  const a = await createOrganization(db, tenantId, admin, { name: 'A', parentId: root.id });
  const b = await createOrganization(db, tenantId, admin, { name: 'B', parentId: a.id });
  const c = await createOrganization(db, tenantId, admin, { name: 'C', parentId: b.id });
  const e = await createOrganization(db, tenantId, admin, { name: 'E', parentId: root.id });
  return { root, a, b, c, e };
}

describe('organisations', () => {
  it('builds a tree with materialised paths', async () => {
    const { tenantId } = await h.tenant();
    const { root, a, b, c, e } = await tree(tenantId);
    expect(root.path).toBe(`/${root.id}/`);
    expect(root.parentId).toBeNull();
    expect(c.path).toBe(`/${root.id}/${a.id}/${b.id}/${c.id}/`);
    expect((await listChildren(db, tenantId, root.id)).map((o) => o.name)).toEqual(['A', 'E']);
    expect((await listChildren(db, tenantId, null)).map((o) => o.id)).toEqual([root.id]);
    expect((await getOrganization(db, tenantId, b.id)).name).toBe('B');
    expect((await getOrganizations(db, tenantId, [a.id, e.id, 'nope'])).length).toBe(2);
  });

  it('keeps names unique among siblings, case- and width-insensitively', async () => {
    const { tenantId } = await h.tenant();
    const root = await createOrganization(db, tenantId, admin, { name: 'Sales' });
    const err = await refused(
      createOrganization(db, tenantId, admin, { name: 'SALES' }),
      'conflict',
    );
    expect(err.message).toContain('SALES');
    await refused(createOrganization(db, tenantId, admin, { name: 'ｓａｌｅｓ' }), 'conflict');
    // The same name under another parent is fine.
    const child = await createOrganization(db, tenantId, admin, {
      name: 'sales',
      parentId: root.id,
    });
    await createOrganization(db, tenantId, admin, { name: 'Other', parentId: root.id });
    await refused(renameOrganization(db, tenantId, admin, child.id, 'OTHER'), 'conflict');
    const renamed = await renameOrganization(db, tenantId, admin, child.id, 'Inside Sales');
    expect(renamed).toMatchObject({ name: 'Inside Sales', version: 2 });
    await refused(createOrganization(db, tenantId, admin, { name: '  ' }), 'invalid');
  });

  it('moves a subtree in one operation, rewriting every descendant path', async () => {
    const { tenantId } = await h.tenant();
    const { root, a, b, c, e } = await tree(tenantId);
    const moved = await moveOrganization(db, tenantId, admin, b.id, e.id);
    expect(moved).toMatchObject({
      parentId: e.id,
      path: `/${root.id}/${e.id}/${b.id}/`,
      version: 2,
    });
    const cNow = await getOrganization(db, tenantId, c.id);
    expect(cNow).toMatchObject({
      parentId: b.id,
      path: `/${root.id}/${e.id}/${b.id}/${c.id}/`,
      version: 1,
    });
    expect((await listSubtree(db, tenantId, a.id)).map((o) => o.id)).toEqual([a.id]);
    expect((await listSubtree(db, tenantId, e.id)).map((o) => o.id)).toEqual([e.id, b.id, c.id]);
    const events = await outboxOf(h, tenantId);
    expect(events.at(-1)).toMatchObject({
      resource_type: 'Organization',
      resource_id: b.id,
      operation: 'update',
      detail: { parentId: { from: a.id, to: e.id }, subtreeSize: 2 },
    });
    // To the top level.
    const top = await moveOrganization(db, tenantId, admin, b.id, null);
    expect(top.path).toBe(`/${b.id}/`);
    expect((await getOrganization(db, tenantId, c.id)).path).toBe(`/${b.id}/${c.id}/`);
    // A name taken at the destination is refused and nothing moves.
    await createOrganization(db, tenantId, admin, { name: 'b', parentId: root.id });
    await refused(moveOrganization(db, tenantId, admin, b.id, root.id), 'conflict');
    expect((await getOrganization(db, tenantId, c.id)).path).toBe(`/${b.id}/${c.id}/`);
  });

  it('refuses to move an organisation under itself or a descendant', async () => {
    const { tenantId } = await h.tenant();
    const { a, b, c } = await tree(tenantId);
    await refused(moveOrganization(db, tenantId, admin, a.id, c.id), 'cycle');
    await refused(moveOrganization(db, tenantId, admin, a.id, a.id), 'cycle');
    await refused(moveOrganization(db, tenantId, admin, b.id, c.id), 'cycle');
    expect((await getOrganization(db, tenantId, a.id)).version).toBe(1);
  });

  it('refuses to delete a non-empty organisation, deletes an empty one', async () => {
    const t = await tenantWithUsers(h);
    const { a, b, c } = await tree(t.tenantId);
    const err = await refused(deleteOrganization(db, t.tenantId, admin, b.id), 'not_empty');
    expect(err.message).toContain('1 child');
    const u = await t.user('member');
    await setUserOrganization(db, t.tenantId, admin, u, c.id);
    const err2 = await refused(deleteOrganization(db, t.tenantId, admin, c.id), 'not_empty');
    expect(err2.message).toContain('1 user');
    await setUserOrganization(db, t.tenantId, admin, u, null);
    await deleteOrganization(db, t.tenantId, admin, c.id);
    await refused(getOrganization(db, t.tenantId, c.id), 'not_found');
    expect((await outboxOf(h, t.tenantId)).at(-1)).toMatchObject({
      resource_type: 'Organization',
      resource_id: c.id,
      operation: 'delete',
      version: 2,
    });
    expect((await listChildren(db, t.tenantId, a.id)).length).toBe(1);
  });

  it('assigns a user to at most one organisation, bumping the user version', async () => {
    const t = await tenantWithUsers(h);
    const { a, b } = await tree(t.tenantId);
    const u = await t.user('org-user');
    const r1 = await setUserOrganization(db, t.tenantId, admin, u, a.id);
    expect(r1).toEqual({ userId: u, organizationId: a.id, version: 2 });
    const r2 = await setUserOrganization(db, t.tenantId, admin, u, b.id);
    expect(r2.version).toBe(3);
    const [row] = await h.db
      .sql`select organization_id::text as org, version from users where id = ${u}`;
    expect(row).toEqual({ org: b.id, version: 3 });
    expect((await t.scim.get(`/Users/${u}`)).headers.get('etag')).toBe('W/"3"');
    const userEvents = (await outboxOf(h, t.tenantId)).filter((e) => e.resource_type === 'User');
    expect(userEvents.map((e) => [e.operation, e.version])).toEqual([
      ['create', 1],
      ['update', 2],
      ['update', 3],
    ]);
    // Same assignment again: no change.
    expect((await setUserOrganization(db, t.tenantId, admin, u, b.id)).version).toBe(3);
    const unassigned = await setUserOrganization(db, t.tenantId, admin, u, null);
    expect(unassigned).toMatchObject({ organizationId: null, version: 4 });
    await refused(
      setUserOrganization(db, t.tenantId, admin, u, '00000000-0000-4000-8000-000000000000'),
      'not_found',
    );
  });

  it('audits every mutation and writes an outbox row for each organisation change', async () => {
    const t = await tenantWithUsers(h);
    const r = await createOrganization(db, t.tenantId, admin, { name: 'R' });
    const x = await createOrganization(db, t.tenantId, admin, { name: 'X' });
    await renameOrganization(db, t.tenantId, admin, x.id, 'Y');
    await moveOrganization(db, t.tenantId, admin, x.id, r.id);
    const u = await t.user('aud');
    await setUserOrganization(db, t.tenantId, admin, u, x.id);
    await setUserOrganization(db, t.tenantId, admin, u, null);
    await deleteOrganization(db, t.tenantId, admin, x.id);
    const audit = (await auditOf(h, t.tenantId)).filter((a) => !a.action.startsWith('scim.'));
    expect(audit.map((a) => [a.action, a.target_id])).toEqual([
      ['organization.create', r.id],
      ['organization.create', x.id],
      ['organization.rename', x.id],
      ['organization.move', x.id],
      ['user.organization.assign', u],
      ['user.organization.unassign', u],
      ['organization.delete', x.id],
    ]);
    expect(audit.every((a) => a.actor_type === 'token' && a.actor_id === admin.id)).toBe(true);
    const orgEvents = (await outboxOf(h, t.tenantId)).filter(
      (e) => e.resource_type === 'Organization',
    );
    expect(orgEvents.map((e) => [e.operation, e.resource_id, e.version])).toEqual([
      ['create', r.id, 1],
      ['create', x.id, 1],
      ['update', x.id, 2],
      ['update', x.id, 3],
      ['delete', x.id, 4],
    ]);
  });

  it('isolates tenants: another tenant’s ids are not found and nothing changes', async () => {
    const owner = await tenantWithUsers(h);
    const { a, b } = await tree(owner.tenantId);
    const u = await owner.user('victim');
    const other = await tenantWithUsers(h);
    const mine = await createOrganization(db, other.tenantId, admin, { name: 'Mine' });
    const otherUser = await other.user('intruder');
    const before = await snapshot(h, owner.tenantId);
    const tid = other.tenantId;
    await refused(getOrganization(db, tid, a.id), 'not_found');
    expect(await getOrganizations(db, tid, [a.id, b.id])).toEqual([]);
    await refused(listChildren(db, tid, a.id), 'not_found');
    await refused(listSubtree(db, tid, a.id), 'not_found');
    await refused(createOrganization(db, tid, admin, { name: 'x', parentId: a.id }), 'not_found');
    await refused(renameOrganization(db, tid, admin, a.id, 'hacked'), 'not_found');
    await refused(moveOrganization(db, tid, admin, a.id, null), 'not_found');
    await refused(moveOrganization(db, tid, admin, mine.id, a.id), 'not_found');
    await refused(deleteOrganization(db, tid, admin, b.id), 'not_found');
    await refused(setUserOrganization(db, tid, admin, u, mine.id), 'not_found');
    await refused(setUserOrganization(db, tid, admin, otherUser, a.id), 'not_found');
    await refused(getOrganization(db, tid, 'not-a-uuid'), 'not_found');
    expect(await snapshot(h, owner.tenantId)).toEqual(before);
    expect((await listChildren(db, tid, null)).map((o) => o.id)).toEqual([mine.id]);
  });
});
