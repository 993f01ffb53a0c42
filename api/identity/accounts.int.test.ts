import { describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import { findAccount, getAccount, linkAccount, listAccounts, unlinkAccount } from './accounts.ts';
import { admin, auditOf, outboxOf, refused, snapshot, tenantWithUsers } from './test-fixtures.ts';

const h = createHarness();
const db = h.db.db;

describe('account links', () => {
  it('links several accounts per user per system; an external key is unique per system', async () => {
    const t = await tenantWithUsers(h);
    const u = await t.user('alice');
    const v = await t.user('bob');
    const a1 = await linkAccount(db, t.tenantId, admin, {
      userId: u,
      systemId: 'ad-main',
      externalKey: 'guid-1',
      dn: 'CN=Alice,OU=Staff,DC=ex,DC=com',
      username: 'alice',
    });
    expect(a1).toMatchObject({
      userId: u,
      systemId: 'ad-main',
      state: 'active',
      dn: 'CN=Alice,OU=Staff,DC=ex,DC=com',
    });
    await linkAccount(db, t.tenantId, admin, {
      userId: u,
      systemId: 'ad-main',
      externalKey: 'guid-2',
      username: 'alice-adm',
      state: 'disabled',
    });
    // The same key on another system is another account.
    await linkAccount(db, t.tenantId, admin, {
      userId: u,
      systemId: 'okta',
      externalKey: 'guid-1',
    });
    const err = await refused(
      linkAccount(db, t.tenantId, admin, { userId: v, systemId: 'ad-main', externalKey: 'guid-1' }),
      'conflict',
    );
    expect(err.message).toBe('external key "guid-1" is already linked on system "ad-main"');
    const list = await listAccounts(db, t.tenantId, u);
    expect(list.map((a) => [a.systemId, a.externalKey])).toEqual([
      ['ad-main', 'guid-1'],
      ['ad-main', 'guid-2'],
      ['okta', 'guid-1'],
    ]);
    expect(await listAccounts(db, t.tenantId, v)).toEqual([]);
    expect((await findAccount(db, t.tenantId, 'ad-main', 'guid-1'))?.id).toBe(a1.id);
    expect(await findAccount(db, t.tenantId, 'ad-main', 'guid-9')).toBeNull();
    await refused(
      linkAccount(db, t.tenantId, admin, { userId: u, systemId: ' ', externalKey: 'k' }),
      'invalid',
    );
    await refused(
      linkAccount(db, t.tenantId, admin, {
        userId: u,
        systemId: 's',
        externalKey: 'k',
        state: 'weird' as 'active',
      }),
      'invalid',
    );
  });

  it('allows the same key on the same system in another tenant', async () => {
    const t1 = await tenantWithUsers(h);
    const t2 = await tenantWithUsers(h);
    await linkAccount(db, t1.tenantId, admin, {
      userId: await t1.user('x'),
      systemId: 's',
      externalKey: 'k',
    });
    await linkAccount(db, t2.tenantId, admin, {
      userId: await t2.user('x'),
      systemId: 's',
      externalKey: 'k',
    });
  });

  it('unlinks, bumping the user version; every change is audited', async () => {
    const t = await tenantWithUsers(h);
    const u = await t.user('carol');
    const a = await linkAccount(db, t.tenantId, admin, {
      userId: u,
      systemId: 's',
      externalKey: 'k',
    });
    const removed = await unlinkAccount(db, t.tenantId, admin, a.id);
    expect(removed.id).toBe(a.id);
    await refused(getAccount(db, t.tenantId, a.id), 'not_found');
    await refused(unlinkAccount(db, t.tenantId, admin, a.id), 'not_found');
    const audit = (await auditOf(h, t.tenantId)).filter((r) => !r.action.startsWith('scim.'));
    expect(audit.map((r) => [r.action, r.target_type, r.target_id])).toEqual([
      ['account.link', 'Account', a.id],
      ['account.unlink', 'Account', a.id],
    ]);
    expect(audit[0]?.summary).toEqual({ systemId: 's', externalKey: 'k', userId: u });
    const events = (await outboxOf(h, t.tenantId)).map((e) => [
      e.resource_type,
      e.operation,
      e.version,
    ]);
    expect(events).toEqual([
      ['User', 'create', 1],
      ['User', 'update', 2],
      ['User', 'update', 3],
    ]);
  });

  it('isolates tenants', async () => {
    const owner = await tenantWithUsers(h);
    const u = await owner.user('victim');
    const a = await linkAccount(db, owner.tenantId, admin, {
      userId: u,
      systemId: 's',
      externalKey: 'k',
    });
    const other = await tenantWithUsers(h);
    const before = await snapshot(h, owner.tenantId);
    await refused(
      linkAccount(db, other.tenantId, admin, { userId: u, systemId: 's', externalKey: 'k2' }),
      'not_found',
    );
    await refused(unlinkAccount(db, other.tenantId, admin, a.id), 'not_found');
    await refused(getAccount(db, other.tenantId, a.id), 'not_found');
    await refused(listAccounts(db, other.tenantId, u), 'not_found');
    expect(await findAccount(db, other.tenantId, 's', 'k')).toBeNull();
    expect(await snapshot(h, owner.tenantId)).toEqual(before);
  });
});
