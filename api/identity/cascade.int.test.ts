import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CredentialType } from '../../db/schema/index.ts';
import { createHarness } from '../../test/harness.ts';
import { deactivateUser, REACTIVATION_NOTE, reactivateUser } from './cascade.ts';
import { addCertificate, holdCertificate, revokeCertificate } from './certificates.ts';
import { issueCredential } from './credentials.ts';
import { createRole, grantRole, withdrawRole } from './roles.ts';
import { admin, auditOf, outboxOf, refused, snapshot, tenantWithUsers } from './test-fixtures.ts';

const h = createHarness();
const db = h.db.db;
const DAY = 86_400_000;
const TYPES: CredentialType[] = [
  'card',
  'temporary_card',
  'virtual_smart_card',
  'mobile_id',
  'soft_token',
];

const cert = (serial: string) => ({
  serial,
  subjectDn: `CN=${serial}`,
  issuerDn: 'CN=Cascade CA',
  notBefore: new Date(Date.now() - DAY),
  notAfter: new Date(Date.now() + DAY),
});

/** A user holding all five credential types, each with an active certificate, plus extras. */
async function holder() {
  const t = await tenantWithUsers(h);
  const u = await t.user('holder');
  const creds: Record<string, string> = {};
  const certs: Record<string, string> = {};
  for (const type of TYPES) {
    const c = await issueCredential(db, t.tenantId, admin, {
      userId: u,
      type,
      serial: `S-${type}`,
    });
    creds[type] = c.id;
    certs[type] = (await addCertificate(db, t.tenantId, admin, c.id, cert(type))).id;
  }
  const preRevoked = await addCertificate(db, t.tenantId, admin, creds.card!, cert('old-card'));
  const revoked = await revokeCertificate(db, t.tenantId, admin, preRevoked.id, 'superseded');
  const tempHeld = await addCertificate(
    db,
    t.tenantId,
    admin,
    creds.temporary_card!,
    cert('temp-held'),
  );
  await holdCertificate(db, t.tenantId, admin, tempHeld.id);
  const mobileHeld = await addCertificate(
    db,
    t.tenantId,
    admin,
    creds.mobile_id!,
    cert('mobile-held'),
  );
  await holdCertificate(db, t.tenantId, admin, mobileHeld.id);
  const roles = [];
  for (const name of ['R1', 'R2', 'R3']) {
    const r = await createRole(db, t.tenantId, admin, { name });
    await grantRole(db, t.tenantId, admin, { roleId: r.id, userId: u });
    roles.push(r.id);
  }
  await withdrawRole(db, t.tenantId, admin, { roleId: roles[2]!, userId: u, reason: 'earlier' });
  // A bystander in the same tenant must not be touched.
  const other = await t.user('bystander');
  const oc = await issueCredential(db, t.tenantId, admin, {
    userId: other,
    type: 'card',
    serial: 'B-1',
  });
  await addCertificate(db, t.tenantId, admin, oc.id, cert('bystander'));
  await grantRole(db, t.tenantId, admin, { roleId: roles[0]!, userId: other });
  return {
    ...t,
    u,
    other,
    creds,
    certs,
    revoked,
    tempHeld: tempHeld.id,
    mobileHeld: mobileHeld.id,
  };
}

const rowsOf = async (table: 'credentials' | 'certificates', tenantId: string) =>
  h.db.sql`select * from ${h.db.sql(table)} where tenant_id = ${tenantId} order by id`;

describe('deactivation cascade', () => {
  it('deactivates the user and cascades over all five credential types', async () => {
    const f = await holder();
    const bystander = await h.db.sql`select c.state as cred, x.state as cert, x.version
      from credentials c join certificates x on x.credential_id = c.id where c.user_id = ${f.other}`;
    const userBefore = (await h.db.sql`select version from users where id = ${f.u}`)[0]!;
    const auditBefore = (await auditOf(h, f.tenantId)).length;
    const [preRevoked] = await h.db
      .sql`select revoked_at::text as at from certificates where id = ${f.revoked.id}`;
    const outboxBefore = (await outboxOf(h, f.tenantId)).length;

    const result = await deactivateUser(db, f.tenantId, f.u, admin, { reason: 'left company' });
    expect(result).toEqual({
      userId: f.u,
      user: 'inactive',
      wasActive: true,
      version: userBefore.version + 1,
      credentials: { inactive: 4, locked: 1, unchanged: 0 },
      certificates: { onHold: 4, revoked: 2, alreadyRevoked: 1, unchanged: 1 },
      rolesWithdrawn: 2,
    });

    const [user] = await h.db
      .sql`select active, doc->'active' as doc_active, version from users where id = ${f.u}`;
    expect(user).toEqual({ active: false, doc_active: false, version: userBefore.version + 1 });
    expect((await f.scim.get(`/Users/${f.u}`)).body.active).toBe(false);

    const creds = await h.db.sql`select type, state, user_id::text as user_id from credentials
      where user_id = ${f.u} order by type`;
    expect(creds.map((c) => [c.type, c.state, c.user_id])).toEqual([
      ['card', 'inactive', f.u],
      ['mobile_id', 'inactive', f.u],
      ['soft_token', 'inactive', f.u],
      ['temporary_card', 'locked', f.u],
      ['virtual_smart_card', 'inactive', f.u],
    ]);

    const certs = new Map(
      (
        await h.db.sql`select id::text, state, revocation_reason, revoked_at::text from certificates
        where tenant_id = ${f.tenantId}`
      ).map((r) => [r.id as string, r]),
    );
    for (const type of ['card', 'virtual_smart_card', 'mobile_id', 'soft_token'])
      expect(certs.get(f.certs[type]!)).toMatchObject({ state: 'on_hold', revoked_at: null });
    for (const id of [f.certs.temporary_card!, f.tempHeld]) {
      expect(certs.get(id)).toMatchObject({
        state: 'revoked',
        revocation_reason: 'cessationOfOperation',
      });
      expect(certs.get(id)?.revoked_at).toEqual(expect.any(String));
    }
    expect(certs.get(f.mobileHeld)).toMatchObject({ state: 'on_hold' });
    // The certificate revoked before keeps its own reason and time.
    expect(certs.get(f.revoked.id)).toMatchObject({
      state: 'revoked',
      revocation_reason: 'superseded',
      revoked_at: preRevoked!.at,
    });

    const roles = await h.db
      .sql`select state, withdraw_reason, withdrawn_by, withdrawn_at from role_assignments
      where user_id = ${f.u} order by granted_at`;
    expect(roles.map((r) => [r.state, r.withdraw_reason])).toEqual([
      ['withdrawn', 'left company'],
      ['withdrawn', 'left company'],
      ['withdrawn', 'earlier'],
    ]);
    expect(roles[0]).toMatchObject({ withdrawn_by: `token:${admin.id}` });

    // The bystander is untouched.
    expect(
      await h.db.sql`select c.state as cred, x.state as cert, x.version
        from credentials c join certificates x on x.credential_id = c.id where c.user_id = ${f.other}`,
    ).toEqual(bystander);
    expect(
      (await h.db.sql`select state from role_assignments where user_id = ${f.other}`).map(
        (r) => r.state,
      ),
    ).toEqual(['granted']);

    const outbox = (await outboxOf(h, f.tenantId)).slice(outboxBefore);
    expect(outbox.map((e) => [e.resource_type, e.resource_id, e.operation, e.version])).toEqual([
      ['User', f.u, 'update', userBefore.version + 1],
    ]);
    const audit = (await auditOf(h, f.tenantId)).slice(auditBefore);
    expect(audit[0]).toMatchObject({
      action: 'user.deactivate',
      target_id: f.u,
      actor_id: admin.id,
    });
    const counts: Record<string, number> = {};
    for (const a of audit.slice(1)) counts[a.action] = (counts[a.action] ?? 0) + 1;
    expect(counts).toEqual({
      'credential.state': 5,
      'certificate.hold': 4,
      'certificate.revoke': 2,
      'role.withdraw': 2,
    });

    // Again: nothing left to change, nothing written.
    const again = await deactivateUser(db, f.tenantId, f.u, admin);
    expect(again).toMatchObject({
      wasActive: false,
      version: userBefore.version + 1,
      credentials: { inactive: 0, locked: 0, unchanged: 5 },
      certificates: { onHold: 0, revoked: 0, alreadyRevoked: 3, unchanged: 5 },
      rolesWithdrawn: 0,
    });
    expect((await auditOf(h, f.tenantId)).length).toBe(auditBefore + audit.length);
  });

  it('reactivation restores the user only, and says so', async () => {
    const f = await holder();
    await deactivateUser(db, f.tenantId, f.u, admin);
    const creds = await rowsOf('credentials', f.tenantId);
    const certs = await rowsOf('certificates', f.tenantId);
    const assignments = await h.db
      .sql`select * from role_assignments where tenant_id = ${f.tenantId} order by id`;
    const [before] = await h.db.sql`select version from users where id = ${f.u}`;

    const result = await reactivateUser(db, f.tenantId, f.u, {
      type: 'system',
      id: 'directory-sync',
    });
    expect(result).toEqual({
      userId: f.u,
      user: 'active',
      wasActive: false,
      version: before!.version + 1,
      credentialsUnchanged: 5,
      certificatesUnchanged: 8,
      credentialsNotActive: 5,
      certificatesNotActive: 8,
      rolesUnchanged: true,
      note: REACTIVATION_NOTE,
    });
    const [user] = await h.db
      .sql`select active, doc->'active' as doc_active from users where id = ${f.u}`;
    expect(user).toEqual({ active: true, doc_active: true });
    expect(await rowsOf('credentials', f.tenantId)).toEqual(creds);
    expect(await rowsOf('certificates', f.tenantId)).toEqual(certs);
    expect(
      await h.db.sql`select * from role_assignments where tenant_id = ${f.tenantId} order by id`,
    ).toEqual(assignments);
    const last = (await auditOf(h, f.tenantId)).at(-1);
    expect(last).toMatchObject({
      action: 'user.reactivate',
      actor_type: 'system',
      actor_id: 'directory-sync',
      target_id: f.u,
    });
    // Already active: nothing written.
    const again = await reactivateUser(db, f.tenantId, f.u, admin);
    expect(again).toMatchObject({ wasActive: true, version: before!.version + 1 });
  });

  it('is atomic: a failure mid-cascade changes nothing', async () => {
    const f = await holder();
    const reason = `explode-${randomUUID()}`;
    const trigger = `fail_${randomUUID().replaceAll('-', '')}`;
    await h.db.sql.unsafe(`create function ${trigger}() returns trigger language plpgsql as $$
      begin
        if new.withdraw_reason = '${reason}' then raise exception 'forced cascade failure'; end if;
        return new;
      end $$;
      create trigger ${trigger} before update on role_assignments
        for each row execute function ${trigger}();`);
    try {
      const before = await snapshot(h, f.tenantId);
      // Credentials and certificates are updated before the role withdrawal fails.
      await expect(deactivateUser(db, f.tenantId, f.u, admin, { reason })).rejects.toThrow();
      expect(await snapshot(h, f.tenantId)).toEqual(before);

      // Inside a caller's transaction the cascade is a savepoint: the caller may carry on.
      const otherRole = await createRole(db, f.tenantId, admin, { name: 'after' });
      const snap2 = await snapshot(h, f.tenantId);
      await db.transaction(async (tx) => {
        await expect(deactivateUser(tx, f.tenantId, f.u, admin, { reason })).rejects.toThrow();
        await grantRole(tx, f.tenantId, admin, { roleId: otherRole.id, userId: f.other });
      });
      const after = await snapshot(h, f.tenantId);
      expect(after.credentials).toEqual(snap2.credentials);
      expect(after.certificates).toEqual(snap2.certificates);
      expect((after.role_assignments as unknown[]).length).toBe(
        (snap2.role_assignments as unknown[]).length + 1,
      );

      // A caller's transaction that fails rolls the cascade back with it.
      const snap3 = await snapshot(h, f.tenantId);
      await expect(
        db.transaction(async (tx) => {
          await deactivateUser(tx, f.tenantId, f.u, admin);
          throw new Error('caller failed after the cascade');
        }),
      ).rejects.toThrow('caller failed');
      expect(await snapshot(h, f.tenantId)).toEqual(snap3);
    } finally {
      await h.db.sql.unsafe(
        `drop trigger ${trigger} on role_assignments; drop function ${trigger}();`,
      );
    }
  });

  it('isolates tenants', async () => {
    const f = await holder();
    const other = await tenantWithUsers(h);
    const before = await snapshot(h, f.tenantId);
    await refused(deactivateUser(db, other.tenantId, f.u, admin), 'not_found');
    await refused(reactivateUser(db, other.tenantId, f.u, admin), 'not_found');
    await refused(deactivateUser(db, f.tenantId, 'not-a-uuid', admin), 'not_found');
    expect(await snapshot(h, f.tenantId)).toEqual(before);
  });
});
