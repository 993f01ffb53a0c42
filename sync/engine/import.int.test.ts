import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import { startSlapd, type TestSlapd } from '../../test/slapd.ts';
import { engineFixture, ldapModify } from './test-helpers.ts';

const h = createHarness();
const f = engineFixture(h);
let ldap: TestSlapd;
beforeAll(async () => {
  ldap = await startSlapd();
});
afterAll(async () => {
  await ldap?.stop();
});

const people = () => `ou=people,${ldap.baseDn}`;

async function usersOf(tenantId: string) {
  return h.db.sql<
    { id: string; user_name: string; active: boolean; doc: any; version: number; source: string }[]
  >`
    select id, user_name, active, doc, version, source from users where tenant_id = ${tenantId} order by user_name`;
}

async function accountsOf(tenantId: string) {
  return h.db.sql<
    { user_id: string; external_key: string; dn: string; state: string; state_hash: string }[]
  >`
    select user_id, external_key, dn, state, state_hash from accounts where tenant_id = ${tenantId} order by dn`;
}

describe('import_active from OpenLDAP (direct)', () => {
  it('creates every selected user with its account link, then writes nothing for an unchanged directory', async () => {
    const t = await h.tenant();
    const ds = await f.directSource(t.tenantId, ldap);
    const job = await f.job(t.tenantId, {
      dataSourceId: ds.id,
      kind: 'import_active',
      baseDn: people(),
    });

    const first = await f.runNow(t.tenantId, job.id);
    expect(first).toMatchObject({
      status: 'succeeded',
      mode: 'full',
      read: 5,
      created: 5,
      failed: 0,
    });
    const users = await usersOf(t.tenantId);
    expect(users.map((u) => u.user_name)).toEqual(['alice', 'bob', 'jsmith', 'obrien', 'zoe']);
    const zoe = users.find((u) => u.user_name === 'zoe');
    expect(zoe?.doc).toMatchObject({
      displayName: 'Zoë Ångström',
      name: { familyName: 'Ångström' },
      emails: [{ type: 'work', value: 'zoe@idhub.test' }],
      active: true,
    });
    expect(zoe?.source).toBe(`ldap:${ds.id}`);
    const accounts = await accountsOf(t.tenantId);
    expect(accounts).toHaveLength(5);
    expect(new Set(accounts.map((a) => a.external_key)).size).toBe(5);
    for (const a of accounts) expect(a.external_key).toMatch(/^[0-9a-f-]{36}$/);
    // Every created user reached the outbox in the same transactions.
    const [outbox] = await h.db.sql`select count(*)::int as n from outbox
      where tenant_id = ${t.tenantId} and resource_type = 'User' and operation = 'create'`;
    expect(outbox?.n).toBe(5);
    expect(first.watermark).toMatchObject({ kind: 'openldap', csn: expect.any(String) });

    // Second run: a delta from the watermark; nothing changed, so nothing is written.
    const versions = new Map(users.map((u) => [u.id, u.version]));
    const second = await f.runNow(t.tenantId, job.id);
    expect(second).toMatchObject({
      status: 'succeeded',
      mode: 'delta',
      created: 0,
      updated: 0,
      failed: 0,
    });
    for (const u of await usersOf(t.tenantId)) expect(u.version).toBe(versions.get(u.id));

    // A full run (delta off) reads everything and still writes nothing.
    await h.db.sql`update sync_jobs set options = '{"delta": false}'::jsonb where id = ${job.id}`;
    const full = await f.runNow(t.tenantId, job.id);
    expect(full).toMatchObject({ mode: 'full', read: 5, unchanged: 5, created: 0, updated: 0 });
    for (const u of await usersOf(t.tenantId)) expect(u.version).toBe(versions.get(u.id));
  });

  it('follows a modification, a rename and a move by anchor: the same user, updated, never duplicated', async () => {
    const t = await h.tenant();
    const ds = await f.directSource(t.tenantId, ldap);
    // The whole directory: a move between OUs stays inside the job's base.
    const job = await f.job(t.tenantId, {
      dataSourceId: ds.id,
      kind: 'import_active',
      baseDn: ldap.baseDn,
      filter: '(|(uid=bob)(uid=alice))',
    });
    await f.runNow(t.tenantId, job.id);
    const before = await usersOf(t.tenantId);
    expect(before.map((u) => u.user_name)).toEqual(['alice', 'bob']);

    await ldapModify(
      ldap,
      `dn: uid=bob,${people()}\nchangetype: modify\nreplace: title\ntitle: Chief Tester\n\n` +
        `dn: uid=bob,${people()}\nchangetype: modrdn\nnewrdn: uid=bob\ndeleteoldrdn: 1\nnewsuperior: ou=groups,${ldap.baseDn}\n\n`,
    );
    const delta = await f.runNow(t.tenantId, job.id);
    expect(delta).toMatchObject({ status: 'succeeded', mode: 'delta', updated: 1, created: 0 });
    const after = await usersOf(t.tenantId);
    expect(after).toHaveLength(2);
    const bob = after.find((u) => u.user_name === 'bob');
    expect(bob?.id).toBe(before.find((u) => u.user_name === 'bob')?.id);
    expect(bob?.doc.title).toBe('Chief Tester');
    const [account] = await h.db.sql`select dn from accounts where user_id = ${bob?.id as string}`;
    expect(String(account?.dn).toLowerCase()).toBe(
      `uid=bob,ou=groups,${ldap.baseDn}`.toLowerCase(),
    );
    // Move it back for the other tests.
    await ldapModify(
      ldap,
      `dn: uid=bob,ou=groups,${ldap.baseDn}\nchangetype: modrdn\nnewrdn: uid=bob\ndeleteoldrdn: 1\nnewsuperior: ${people()}\n\n` +
        `dn: uid=bob,${people()}\nchangetype: modify\ndelete: title\n\n`,
    );
  });

  it('correlates by userName and links; an identity already linked to another entry is not overwritten', async () => {
    const t = await h.tenant();
    const scim = h.scimClient(t.scimToken);
    const pre = await scim.post('/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'Alice',
      title: 'set by SCIM',
      nickName: 'kept',
    });
    expect(pre.status).toBe(201);
    const ds = await f.directSource(t.tenantId, ldap);
    const job = await f.job(t.tenantId, {
      dataSourceId: ds.id,
      kind: 'import_active',
      baseDn: people(),
      filter: '(&(objectClass=inetOrgPerson)(!(uid=bob)))',
    });
    const r = await f.runNow(t.tenantId, job.id);
    expect(r).toMatchObject({ created: 3, updated: 1, failed: 0 });
    const alice = (await usersOf(t.tenantId)).find((u) => u.user_name === 'alice');
    expect(alice?.id).toBe(pre.body.id);
    // The directory owns what its mapping writes (title is mapped: cleared, since alice has
    // none); other attributes stay.
    expect(alice?.doc.nickName).toBe('kept');
    expect(alice?.doc.title).toBeUndefined();

    // A second job over the same data source maps the (unlinked) entry bob to userName
    // "alice": that identity is linked to another entry of the source already.
    const other = await f.job(t.tenantId, {
      dataSourceId: ds.id,
      kind: 'import_active',
      baseDn: people(),
      filter: '(uid=bob)',
      mapping: {
        rules: [{ target: 'userName', transform: [{ name: 'constant', value: 'alice' }] }],
      },
    });
    const clash = await f.runNow(t.tenantId, other.id);
    expect(clash).toMatchObject({ status: 'succeeded', failed: 1, created: 0, updated: 0 });
    const [err] = await h.db
      .sql`select entry, reason from sync_run_errors where run_id = ${clash.id}`;
    expect(err?.reason).toMatch(/already linked to another entry/);
    expect(String(err?.entry)).toMatch(/^uid=bob,/);
  });

  it("resolves the enterprise manager's DN to the manager's user id, whichever page came first", async () => {
    const t = await h.tenant();
    const ds = await f.directSource(t.tenantId, ldap);
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    await ldapModify(
      ldap,
      `dn: uid=bob,${people()}\nchangetype: modify\nadd: manager\nmanager: uid=alice,${people()}\n\n` +
        `dn: uid=alice,${people()}\nchangetype: modify\nadd: manager\nmanager: uid=nobody,${people()}\n\n`,
    );
    try {
      const job = await f.job(t.tenantId, {
        dataSourceId: ds.id,
        kind: 'import_active',
        baseDn: people(),
        // One entry per page: the manager may well be written after its report.
        options: { pageSize: 1 },
        mapping: {
          rules: [
            { target: 'userName', source: 'uid' },
            { target: `${ENT}:manager.value`, source: 'manager' },
          ],
        },
      });
      expect(await f.runNow(t.tenantId, job.id)).toMatchObject({ status: 'succeeded', created: 5 });
      const byName = new Map((await usersOf(t.tenantId)).map((u) => [u.user_name, u]));
      expect(byName.get('bob')?.doc[ENT].manager).toEqual({ value: byName.get('alice')?.id });
      // A manager outside the import keeps its DN until it is imported.
      expect(byName.get('alice')?.doc[ENT].manager).toEqual({ value: `uid=nobody,${people()}` });
      const bobVersion = byName.get('bob')?.version;
      // Nothing changed: nothing is written again.
      await h.db.sql`update sync_jobs set options = '{"delta": false}'::jsonb where id = ${job.id}`;
      expect(await f.runNow(t.tenantId, job.id)).toMatchObject({ unchanged: 5, updated: 0 });
      expect((await usersOf(t.tenantId)).find((u) => u.user_name === 'bob')?.version).toBe(
        bobVersion,
      );
    } finally {
      await ldapModify(
        ldap,
        `dn: uid=bob,${people()}\nchangetype: modify\ndelete: manager\n\n` +
          `dn: uid=alice,${people()}\nchangetype: modify\ndelete: manager\n\n`,
      );
    }
  });

  it('refuses invalid settings when the job is saved', async () => {
    const t = await h.tenant();
    const ds = await f.directSource(t.tenantId, ldap);
    const saving = f.job(t.tenantId, {
      dataSourceId: ds.id,
      kind: 'import_active',
      mapping: {
        rules: [
          { target: 'userName', source: 'uid' },
          { target: 'nosuch', source: 'uid' },
        ],
      },
      options: { pageSize: 0, missing: 'explode' },
    });
    const e = await saving.then(
      () => undefined,
      (err: Error) => err,
    );
    expect(e?.message).toMatch(/mapping\.rules\.1\.target: unknown SCIM attribute "nosuch"/);
    expect(e?.message).toMatch(/options\.pageSize/);
    expect(e?.message).toMatch(/options\.missing/);
    const [n] = await h.db
      .sql`select count(*)::int as n from sync_jobs where tenant_id = ${t.tenantId}`;
    expect(n?.n).toBe(0);
  });
});
