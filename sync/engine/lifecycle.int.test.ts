import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCertificate } from '../../api/identity/certificates.ts';
import { issueCredential } from '../../api/identity/credentials.ts';
import { createRole, grantRole } from '../../api/identity/roles.ts';
import { createHarness } from '../../test/harness.ts';
import { startSlapd, type TestSlapd } from '../../test/slapd.ts';
import { cancelRun } from '../jobs/runs.ts';
import { approveRun, rejectRun } from './approval.ts';
import { executeRun } from './run.ts';
import { admin, engineFixture, ldapModify } from './test-helpers.ts';

const h = createHarness();
const f = engineFixture(h);
let ldap: TestSlapd;
beforeAll(async () => {
  ldap = await startSlapd({ generatedUsers: 60 });
});
afterAll(async () => {
  await ldap?.stop();
});

const people = () => `ou=people,${ldap.baseDn}`;
const generated = () => `ou=generated,${ldap.baseDn}`;

async function userByName(tenantId: string, userName: string) {
  const [u] = await h.db.sql<{ id: string; active: boolean; version: number }[]>`
    select id, active, version from users where tenant_id = ${tenantId} and user_name = ${userName}`;
  return u;
}

/** A card and a temporary card, each with a certificate, and a granted role. */
async function holdings(tenantId: string, userId: string, tag: string) {
  const card = await issueCredential(h.db.db, tenantId, admin, {
    userId,
    type: 'card',
    serial: `c-${tag}`,
  });
  const temp = await issueCredential(h.db.db, tenantId, admin, {
    userId,
    type: 'temporary_card',
    serial: `t-${tag}`,
  });
  for (const c of [card, temp]) {
    await addCertificate(h.db.db, tenantId, admin, c.id, {
      serial: `s-${c.serial}`,
      subjectDn: `CN=${tag}`,
      issuerDn: 'CN=Test CA',
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2027-01-01T00:00:00Z'),
    });
  }
  const role = await createRole(h.db.db, tenantId, admin, { name: `role-${tag}` });
  await grantRole(h.db.db, tenantId, admin, { roleId: role.id, userId });
}

async function holdingStates(tenantId: string, userId: string) {
  const creds = await h.db.sql`select type, state from credentials
    where tenant_id = ${tenantId} and user_id = ${userId} order by type`;
  const certs = await h.db.sql`select cr.type, c.state, c.revocation_reason from certificates c
    join credentials cr on cr.id = c.credential_id where cr.user_id = ${userId} order by cr.type`;
  const roles = await h.db.sql`select state from role_assignments where user_id = ${userId}`;
  return { creds: [...creds], certs: [...certs], roles: roles.map((r) => r.state) };
}

describe('import_inactive (ppolicy-locked entries)', () => {
  it('creates missing users inactive and deactivates existing ones through the cascade', async () => {
    const t = await h.tenant();
    const ds = await f.directSource(t.tenantId, ldap);
    const active = await f.job(t.tenantId, {
      dataSourceId: ds.id,
      kind: 'import_active',
      baseDn: people(),
    });
    await f.runNow(t.tenantId, active.id);
    const bob = await userByName(t.tenantId, 'bob');
    await holdings(t.tenantId, bob?.id as string, `${t.tenantId.slice(0, 8)}-bob`);

    await ldapModify(
      ldap,
      `dn: uid=bob,${people()}\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n\n` +
        `dn: uid=u000001,${generated()}\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n\n`,
    );
    try {
      const inactive = await f.job(t.tenantId, {
        dataSourceId: ds.id,
        kind: 'import_inactive',
        baseDn: ldap.baseDn,
      });
      const r = await f.runNow(t.tenantId, inactive.id);
      // bob exists (deactivated); u000001 did not (created inactive).
      expect(r).toMatchObject({
        status: 'succeeded',
        read: 2,
        created: 1,
        // bob's attributes did not change: only its state did, through the cascade.
        updated: 0,
        deactivated: 1,
        failed: 0,
      });
      expect(await userByName(t.tenantId, 'bob')).toMatchObject({ id: bob?.id, active: false });
      expect(await userByName(t.tenantId, 'u000001')).toMatchObject({ active: false });
      const s = await holdingStates(t.tenantId, bob?.id as string);
      expect(s.creds).toEqual([
        { type: 'card', state: 'inactive' },
        { type: 'temporary_card', state: 'locked' },
      ]);
      expect(s.certs).toEqual([
        { type: 'card', state: 'on_hold', revocation_reason: null },
        { type: 'temporary_card', state: 'revoked', revocation_reason: 'cessationOfOperation' },
      ]);
      expect(s.roles).toEqual(['withdrawn']);
      const [acct] = await h.db
        .sql`select state from accounts where user_id = ${bob?.id as string}`;
      expect(acct?.state).toBe('disabled');
      // The deactivation is audited as the run.
      const [audit] = await h.db.sql`select actor_type, actor_id from audit_log
        where tenant_id = ${t.tenantId} and action = 'user.deactivate' and target_id = ${bob?.id as string}`;
      expect(audit).toMatchObject({ actor_type: 'system', actor_id: `sync-run:${r.id}` });

      // Running it again changes nothing.
      const again = await f.runNow(t.tenantId, inactive.id);
      expect(again).toMatchObject({ created: 0, updated: 0, deactivated: 0 });
    } finally {
      await ldapModify(
        ldap,
        `dn: uid=bob,${people()}\nchangetype: modify\ndelete: pwdAccountLockedTime\n\n` +
          `dn: uid=u000001,${generated()}\nchangetype: modify\ndelete: pwdAccountLockedTime\n\n`,
      );
    }
  });
});

/** A tenant whose reconcile job over ou=generated has imported all 60 generated users. */
async function reconciled(options: Record<string, unknown> = {}) {
  const t = await h.tenant();
  const ds = await f.directSource(t.tenantId, ldap);
  const job = await f.job(t.tenantId, {
    dataSourceId: ds.id,
    kind: 'reconcile',
    baseDn: generated(),
    options,
  });
  const first = await f.runNow(t.tenantId, job.id);
  expect(first).toMatchObject({ status: 'succeeded', created: 60 });
  return { t, job };
}

/** Hides generated users from the job without deleting them from the shared directory. */
const narrow = (jobId: string, hidden: number) => {
  const keep = Array.from(
    { length: hidden },
    (_, i) => `(!(uid=u${String(i + 1).padStart(6, '0')}))`,
  );
  return h.db.sql`update sync_jobs set filter = ${`(&(objectClass=inetOrgPerson)${keep.join('')})`}
    where id = ${jobId}`;
};

describe('reconcile', () => {
  it('deactivates, through the cascade, linked entries the directory no longer returns', async () => {
    const { t, job } = await reconciled();
    const gone = await userByName(t.tenantId, 'u000001');
    await holdings(t.tenantId, gone?.id as string, `${t.tenantId.slice(0, 8)}-gone`);
    await narrow(job.id, 1);
    const r = await f.runNow(t.tenantId, job.id);
    expect(r).toMatchObject({
      status: 'succeeded',
      mode: 'full',
      read: 59,
      unchanged: 59,
      deactivated: 1,
    });
    expect(await userByName(t.tenantId, 'u000001')).toMatchObject({ active: false });
    expect((await holdingStates(t.tenantId, gone?.id as string)).roles).toEqual(['withdrawn']);
    const [acct] = await h.db.sql`select state from accounts where user_id = ${gone?.id as string}`;
    expect(acct?.state).toBe('missing');
  });

  it('an entry deleted from the directory between runs is deactivated', async () => {
    const { t, job } = await reconciled();
    await ldapModify(
      ldap,
      `dn: uid=leaver,${generated()}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: leaver\ncn: Leaver\nsn: Leaver\n\n`,
    );
    expect(await f.runNow(t.tenantId, job.id)).toMatchObject({ created: 1, unchanged: 60 });
    await ldapModify(ldap, `dn: uid=leaver,${generated()}\nchangetype: delete\n\n`);
    const r = await f.runNow(t.tenantId, job.id);
    expect(r).toMatchObject({ status: 'succeeded', read: 60, deactivated: 1, created: 0 });
    expect(await userByName(t.tenantId, 'leaver')).toMatchObject({ active: false });
  });

  it('holds a plan above the guard for approval; approving applies exactly the plan', async () => {
    const { t, job } = await reconciled({ guard: { maxChanges: 500, maxPercent: 5 } });
    await narrow(job.id, 4); // 4 of 60 = 6.7% > 5%
    const held = await f.runNow(t.tenantId, job.id);
    expect(held).toMatchObject({ status: 'awaiting_approval', deactivated: 0 });
    expect(held.error).toMatch(/4 deactivations\/deletions are 6\.7% of 60/);
    const staged = await h.db
      .sql`select action, dn from staged_changes where run_id = ${held.id} order by dn`;
    expect(staged.map((s) => s.action)).toEqual([
      'deactivate',
      'deactivate',
      'deactivate',
      'deactivate',
    ]);
    expect(String(staged[0]?.dn)).toMatch(/^uid=u000001,/);
    // Nothing happened yet.
    expect(await userByName(t.tenantId, 'u000001')).toMatchObject({ active: true });

    const approved = await approveRun(h.db.db, f.queues, t.tenantId, admin, held.id);
    expect(approved).toMatchObject({ status: 'queued', decision: 'approved' });
    await executeRun(f.engine, held.id);
    // The read's counters stay; the apply adds what it did.
    expect(await f.reload(held.id)).toMatchObject({
      status: 'succeeded',
      deactivated: 4,
      read: 56,
      unchanged: 56,
    });
    for (const n of [1, 2, 3, 4]) {
      expect(await userByName(t.tenantId, `u00000${n}`)).toMatchObject({ active: false });
    }
    expect(await userByName(t.tenantId, 'u000005')).toMatchObject({ active: true });
    const audits = await h.db.sql`select action from audit_log where tenant_id = ${t.tenantId}
      and target_id = ${held.id}`;
    expect(audits.map((a) => a.action)).toContain('syncRun.approve');
  });

  it('rejecting a held plan applies nothing; a plan cannot be decided twice', async () => {
    const { t, job } = await reconciled({ guard: { maxChanges: 2 }, missing: 'delete' });
    await narrow(job.id, 3);
    const held = await f.runNow(t.tenantId, job.id);
    expect(held).toMatchObject({ status: 'awaiting_approval' });
    expect(held.error).toMatch(/3 deactivations\/deletions exceed the limit of 2/);
    const rejected = await rejectRun(h.db.db, t.tenantId, admin, held.id);
    expect(rejected).toMatchObject({ status: 'cancelled', decision: 'rejected' });
    await expect(approveRun(h.db.db, f.queues, t.tenantId, admin, held.id)).rejects.toThrow(
      /only a run awaiting approval/,
    );
    for (const n of [1, 2, 3]) {
      expect(await userByName(t.tenantId, `u00000${n}`)).toMatchObject({ active: true });
    }
  });

  it('a directory returning far fewer entries than the last full read is held', async () => {
    const { t, job } = await reconciled({
      guard: { maxChanges: 1000, maxPercent: 100, minReadPercent: 50 },
    });
    await narrow(job.id, 40);
    const held = await f.runNow(t.tenantId, job.id);
    expect(held).toMatchObject({ status: 'awaiting_approval', read: 20 });
    expect(held.error).toMatch(/returned 20 entries, against 60/);
  });

  it('a dry run shows the plan and counters and changes nothing', async () => {
    const { t, job } = await reconciled({ missing: 'delete' });
    await narrow(job.id, 2);
    await ldapModify(
      ldap,
      `dn: uid=u000010,${generated()}\nchangetype: modify\nreplace: sn\nsn: Dry\n\n`,
    );
    try {
      const dry = await f.runNow(t.tenantId, job.id, { dryRun: true });
      expect(dry).toMatchObject({
        status: 'succeeded',
        dryRun: true,
        updated: 1,
        deleted: 2,
        watermark: null,
      });
      const staged = await h.db.sql`select action from staged_changes where run_id = ${dry.id}`;
      expect(staged.map((s) => s.action)).toEqual(['delete', 'delete']);
      expect(await userByName(t.tenantId, 'u000001')).toBeTruthy();
      const [u10] = await h.db
        .sql`select doc from users where tenant_id = ${t.tenantId} and user_name = 'u000010'`;
      expect(u10?.doc.name.familyName).toBe('User');
      // The real run then deletes them (within the guard: 2 of 60 is 3.3%).
      const real = await f.runNow(t.tenantId, job.id);
      expect(real).toMatchObject({ status: 'succeeded', deleted: 2, updated: 1 });
      expect(await userByName(t.tenantId, 'u000001')).toBeUndefined();
    } finally {
      await ldapModify(
        ldap,
        `dn: uid=u000010,${generated()}\nchangetype: modify\nreplace: sn\nsn: User\n\n`,
      );
    }
  });

  it('a read that fails part-way deactivates nothing', async () => {
    const { t, job } = await reconciled();
    await narrow(job.id, 5);
    // A filter the directory refuses: the read fails before anything is planned.
    await h.db.sql`update sync_jobs set filter = '(objectClass=inetOrgPerson' where id = ${job.id}`;
    const r = await f.runNow(t.tenantId, job.id);
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/reading the directory failed/);
    const [n] = await h.db
      .sql`select count(*)::int as n from users where tenant_id = ${t.tenantId} and active`;
    expect(n?.n).toBe(60);
  });
});

describe('runs', () => {
  it('a cancelled running run stops at its next page and deactivates nothing', async () => {
    const { t, job } = await reconciled({ pageSize: 5 });
    await narrow(job.id, 10);
    const { run } = await import('../jobs/runs.ts').then((m) =>
      m.requestRun(h.db.db, f.queues, t.tenantId, job.id, { actor: admin }),
    );
    // Cancel as soon as the run is running (before its first page is applied).
    const executing = executeRun(
      {
        ...f.engine,
        gateway: {
          ...f.engine.gateway,
          search: (tenantId, dsId, payload, o) => {
            const pages = f.engine.gateway.search(tenantId, dsId, payload, o);
            return (async function* () {
              let first = true;
              for await (const p of pages) {
                if (first && payload.pageSize === 5) {
                  first = false;
                  await cancelRun(h.db.db, f.queues, t.tenantId, admin, run.id);
                }
                yield p;
              }
            })();
          },
        },
      },
      run.id,
    );
    await executing;
    const after = await f.reload(run.id);
    expect(after).toMatchObject({ status: 'cancelled', deactivated: 0 });
    expect(after.read).toBeLessThan(50);
    const [n] = await h.db
      .sql`select count(*)::int as n from users where tenant_id = ${t.tenantId} and active`;
    expect(n?.n).toBe(60);
  });

  it('a run whose worker died restarts from the beginning without duplicates', async () => {
    const t = await h.tenant();
    const ds = await f.directSource(t.tenantId, ldap);
    const job = await f.job(t.tenantId, {
      dataSourceId: ds.id,
      kind: 'import_active',
      baseDn: generated(),
    });
    const { requestRun } = await import('../jobs/runs.ts');
    const { run } = await requestRun(h.db.db, f.queues, t.tenantId, job.id, { actor: admin });
    // A worker claimed it, applied part of it, and died.
    let pages = 0;
    const dying = executeRun(
      {
        ...f.engine,
        gateway: {
          ...f.engine.gateway,
          search: (tenantId, dsId, payload, o) => {
            const inner = f.engine.gateway.search(tenantId, dsId, { ...payload, pageSize: 20 }, o);
            return (async function* () {
              for await (const p of inner) {
                if (payload.base === generated() && ++pages === 2)
                  throw Object.assign(new Error('killed'), { code: 'ECONNRESET' });
                yield p;
              }
            })();
          },
        },
      },
      run.id,
    );
    await expect(dying).rejects.toThrow('killed');
    expect(await f.reload(run.id)).toMatchObject({ status: 'running', created: 20 });
    // BullMQ hands the job to another worker: the run starts over.
    await executeRun(f.engine, run.id);
    const done = await f.reload(run.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      created: 40,
      unchanged: 20,
      read: 60,
    });
    const [n] = await h.db.sql`select count(*)::int as n, count(distinct user_name)::int as d
      from users where tenant_id = ${t.tenantId}`;
    expect(n).toEqual({ n: 60, d: 60 });
  });
});
