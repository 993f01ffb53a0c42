import { describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import {
  createRole,
  getRole,
  grantRole,
  listRoleAssignments,
  listRoles,
  withdrawRole,
} from './roles.ts';
import { admin, auditOf, refused, snapshot, tenantWithUsers } from './test-fixtures.ts';

const h = createHarness();
const db = h.db.db;

describe('roles and assignments', () => {
  it('creates roles with unique names (case-insensitively)', async () => {
    const t = await tenantWithUsers(h);
    const r = await createRole(db, t.tenantId, admin, { name: 'Auditor', description: 'reads' });
    await refused(createRole(db, t.tenantId, admin, { name: 'AUDITOR' }), 'conflict');
    await createRole(db, t.tenantId, admin, { name: 'Admin' });
    expect((await listRoles(db, t.tenantId)).map((x) => x.name)).toEqual(['Admin', 'Auditor']);
    expect((await getRole(db, t.tenantId, r.id)).description).toBe('reads');
  });

  it('grants (idempotently), withdraws with history, and regrants as a new row', async () => {
    const t = await tenantWithUsers(h);
    const u = await t.user('hank');
    const r = await createRole(db, t.tenantId, admin, { name: 'Operator' });
    const g1 = await grantRole(db, t.tenantId, admin, { roleId: r.id, userId: u });
    expect(g1.granted).toBe(true);
    expect(g1.assignment).toMatchObject({
      state: 'granted',
      grantedBy: `token:${admin.id}`,
      withdrawnAt: null,
    });
    const again = await grantRole(db, t.tenantId, admin, { roleId: r.id, userId: u });
    expect(again).toEqual({ assignment: g1.assignment, granted: false });
    const w = await withdrawRole(
      db,
      t.tenantId,
      { type: 'operator' },
      { roleId: r.id, userId: u, reason: 'left team' },
    );
    expect(w).toMatchObject({
      id: g1.assignment.id,
      state: 'withdrawn',
      withdrawnBy: 'operator',
      withdrawReason: 'left team',
    });
    expect(w.withdrawnAt).toBeInstanceOf(Date);
    await refused(withdrawRole(db, t.tenantId, admin, { roleId: r.id, userId: u }), 'not_found');
    expect(await listRoleAssignments(db, t.tenantId, { userId: u })).toEqual([]);
    const g2 = await grantRole(db, t.tenantId, admin, { roleId: r.id, userId: u });
    expect(g2.assignment.id).not.toBe(g1.assignment.id);
    const history = await listRoleAssignments(db, t.tenantId, { userId: u }, { history: true });
    expect(history.map((a) => [a.id, a.state])).toEqual([
      [g2.assignment.id, 'granted'],
      [g1.assignment.id, 'withdrawn'],
    ]);
    expect((await listRoleAssignments(db, t.tenantId, { roleId: r.id })).map((a) => a.id)).toEqual([
      g2.assignment.id,
    ]);
    const audit = (await auditOf(h, t.tenantId)).filter((a) => !a.action.startsWith('scim.'));
    expect(audit.map((a) => a.action)).toEqual([
      'role.create',
      'role.grant',
      'role.withdraw',
      'role.grant',
    ]);
    expect(audit[2]).toMatchObject({ actor_type: 'operator', actor_id: null });
    // The user's ETag moved with each grant and withdrawal (roles are part of the SCIM user).
    expect((await t.scim.get(`/Users/${u}`)).headers.get('etag')).toBe('W/"4"');
  });

  it('isolates tenants', async () => {
    const owner = await tenantWithUsers(h);
    const u = await owner.user('victim');
    const r = await createRole(db, owner.tenantId, admin, { name: 'R' });
    await grantRole(db, owner.tenantId, admin, { roleId: r.id, userId: u });
    const other = await tenantWithUsers(h);
    const mine = await createRole(db, other.tenantId, admin, { name: 'R' });
    const myUser = await other.user('me');
    const before = await snapshot(h, owner.tenantId);
    const tid = other.tenantId;
    await refused(getRole(db, tid, r.id), 'not_found');
    await refused(grantRole(db, tid, admin, { roleId: r.id, userId: myUser }), 'not_found');
    await refused(grantRole(db, tid, admin, { roleId: mine.id, userId: u }), 'not_found');
    await refused(withdrawRole(db, tid, admin, { roleId: r.id, userId: u }), 'not_found');
    await refused(listRoleAssignments(db, tid, { userId: u }), 'not_found');
    await refused(listRoleAssignments(db, tid, { roleId: r.id }), 'not_found');
    expect((await listRoles(db, tid)).map((x) => x.id)).toEqual([mine.id]);
    expect(await snapshot(h, owner.tenantId)).toEqual(before);
  });
});
