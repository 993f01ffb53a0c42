import { sql } from 'drizzle-orm';
import { uuidArray } from '../../db/arrays.ts';
import type { Tx } from '../../db/client.ts';
import { type Actor, type AuditEntry, actorLabel, recordAudit, recordAudits } from './audit.ts';
import { type Executor, inTransaction } from './executor.ts';
import { lockUser, touchUser } from './users.ts';

/** What a deactivation changed (counts per kind); relations user–credential are always kept. */
export interface DeactivationResult {
  userId: string;
  user: 'inactive';
  wasActive: boolean;
  /** The user's version after the cascade (its SCIM ETag). */
  version: number;
  credentials: { inactive: number; locked: number; unchanged: number };
  certificates: { onHold: number; revoked: number; alreadyRevoked: number; unchanged: number };
  rolesWithdrawn: number;
}

/** What a reactivation did: the user only, and what is left for an admin to restore. */
export interface ReactivationResult {
  userId: string;
  user: 'active';
  wasActive: boolean;
  version: number;
  credentialsUnchanged: number;
  certificatesUnchanged: number;
  /** Of those, the ones not active (they need an explicit change). */
  credentialsNotActive: number;
  certificatesNotActive: number;
  rolesUnchanged: true;
  note: string;
}

/** The reason revoked temporary-card certificates carry (RFC 5280 CRLReason). */
export const CASCADE_REVOCATION_REASON = 'cessationOfOperation';

type Changed = { id: string; user_id: string; from: string; to: string };

/** `= any(ids)` for a uuid column. */
const anyId = (ids: readonly string[]) => sql`any(${uuidArray(ids)})`;

/** Credentials: inactive, temporary cards locked. Only rows not already there change. */
async function cascadeCredentials(tx: Tx, tenantId: string, userIds: readonly string[]) {
  return tx.execute<Changed>(sql`with target as (
      select id, user_id, state as "from",
        case when type = 'temporary_card' then 'locked' else 'inactive' end as "to"
      from credentials where tenant_id = ${tenantId} and user_id = ${anyId(userIds)}
      order by id for update)
    update credentials c set state = t."to", version = c.version + 1, updated_at = now()
    from target t where c.id = t.id and t."from" <> t."to"
    returning c.id, t.user_id, t."from", t."to"`);
}

/**
 * Certificates: on hold, temporary cards' revoked. Revoked ones never change again. They are
 * reached through their credential (always of the same tenant): a `c.tenant_id` predicate
 * would make PostgreSQL, without fresh statistics after a bulk load, AND a scan of the whole
 * tenant into every certificate lookup.
 */
async function cascadeCertificates(tx: Tx, tenantId: string, userIds: readonly string[]) {
  return tx.execute<Changed>(sql`with target as (
      select c.id, cr.user_id, c.state as "from",
        case when cr.type = 'temporary_card' then 'revoked' else 'on_hold' end as "to"
      from certificates c join credentials cr on cr.id = c.credential_id
      where cr.tenant_id = ${tenantId} and cr.user_id = ${anyId(userIds)} and c.state <> 'revoked'
      order by c.id for update of c)
    update certificates c set state = t."to", version = c.version + 1, updated_at = now(),
      revocation_reason = case when t."to" = 'revoked' then ${CASCADE_REVOCATION_REASON} else c.revocation_reason end,
      revoked_at = case when t."to" = 'revoked' then now() else c.revoked_at end
    from target t where c.id = t.id and t."from" <> t."to"
    returning c.id, t.user_id, t."from", t."to"`);
}

type Withdrawn = { id: string; role_id: string; user_id: string };

async function withdrawAll(
  tx: Tx,
  tenantId: string,
  userIds: readonly string[],
  actor: Actor,
  reason: string,
) {
  return tx.execute<Withdrawn>(sql`update role_assignments
    set state = 'withdrawn', withdrawn_at = now(), withdrawn_by = ${actorLabel(actor)},
      withdraw_reason = ${reason}
    where tenant_id = ${tenantId} and user_id = ${anyId(userIds)} and state = 'granted'
    returning id, role_id, user_id`);
}

async function countHoldings(tx: Executor, tenantId: string, userId: string) {
  const [row] = await tx.execute<{
    credentials: number;
    credentials_not_active: number;
    certificates: number;
    certificates_not_active: number;
    revoked: number;
  }>(sql`select
      count(distinct cr.id)::int as credentials,
      count(distinct cr.id) filter (where cr.state <> 'active')::int as credentials_not_active,
      count(c.id)::int as certificates,
      count(c.id) filter (where c.state <> 'active')::int as certificates_not_active,
      count(c.id) filter (where c.state = 'revoked')::int as revoked
    from credentials cr left join certificates c on c.credential_id = cr.id
    where cr.tenant_id = ${tenantId} and cr.user_id = ${userId}`);
  return (
    row ?? {
      credentials: 0,
      credentials_not_active: 0,
      certificates: 0,
      certificates_not_active: 0,
      revoked: 0,
    }
  );
}

const count = (rows: Changed[], to: string) => rows.filter((r) => r.to === to).length;

function cascadeAudits(
  tenantId: string,
  actor: Actor,
  creds: Changed[],
  certs: Changed[],
  withdrawn: Withdrawn[],
  reason: string,
): AuditEntry[] {
  const cascade = 'user.deactivate';
  return [
    ...creds.map((c) => ({
      tenantId,
      actor,
      action: 'credential.state',
      targetType: 'Credential',
      targetId: c.id,
      summary: { state: { from: c.from, to: c.to }, cascade },
    })),
    ...certs.map((c) => ({
      tenantId,
      actor,
      action: c.to === 'revoked' ? 'certificate.revoke' : 'certificate.hold',
      targetType: 'Certificate',
      targetId: c.id,
      summary: {
        state: { from: c.from, to: c.to },
        cascade,
        ...(c.to === 'revoked' ? { reason: CASCADE_REVOCATION_REASON } : {}),
      },
    })),
    ...withdrawn.map((w) => ({
      tenantId,
      actor,
      action: 'role.withdraw',
      targetType: 'RoleAssignment',
      targetId: w.id,
      summary: { roleId: w.role_id, reason, cascade },
    })),
  ];
}

/**
 * Deactivates a user and cascades, atomically (its own transaction, or a savepoint in the
 * caller's): user inactive; credentials inactive (temporary cards locked); their certificates
 * on hold (temporary cards' revoked with `cessationOfOperation`; revoked ones stay revoked);
 * every granted role withdrawn. Credentials stay attached to the user. Audited per target.
 */
export async function deactivateUser(
  db: Executor,
  tenantId: string,
  userId: string,
  actor: Actor,
  opts: { reason?: string } = {},
): Promise<DeactivationResult> {
  const reason = opts.reason ?? 'user deactivated';
  return inTransaction(db, async (tx) => {
    const user = await lockUser(tx, tenantId, userId);
    const creds = [...(await cascadeCredentials(tx, tenantId, [userId]))];
    const certs = [...(await cascadeCertificates(tx, tenantId, [userId]))];
    const withdrawn = [...(await withdrawAll(tx, tenantId, [userId], actor, reason))];
    const totals = await countHoldings(tx, tenantId, userId);
    const result: DeactivationResult = {
      userId,
      user: 'inactive',
      wasActive: user.active,
      version: user.version,
      credentials: {
        inactive: count(creds, 'inactive'),
        locked: count(creds, 'locked'),
        unchanged: totals.credentials - creds.length,
      },
      certificates: {
        onHold: count(certs, 'on_hold'),
        revoked: count(certs, 'revoked'),
        alreadyRevoked: totals.revoked - count(certs, 'revoked'),
        // Already where the cascade would put them (on hold), apart from the revoked ones.
        unchanged: totals.certificates - certs.length - (totals.revoked - count(certs, 'revoked')),
      },
      rolesWithdrawn: withdrawn.length,
    };
    if (user.active || creds.length || certs.length || withdrawn.length) {
      const { version: _v, userId: _u, ...summary } = result;
      result.version = await touchUser(
        tx,
        tenantId,
        userId,
        { active: false, cascade: 'deactivate' },
        { active: false },
      );
      await recordAudit(tx, {
        tenantId,
        actor,
        action: 'user.deactivate',
        targetType: 'User',
        targetId: userId,
        summary: { ...summary, reason },
      });
      await recordAudits(tx, cascadeAudits(tenantId, actor, creds, certs, withdrawn, reason));
    }
    return result;
  });
}

/**
 * The same cascade for many users at once (a directory sync page), set-based: a handful of
 * statements whatever the number of users, in the caller's transaction (a savepoint). Each
 * user changed gets one version bump, one outbox row and a `user.deactivate` audit row with
 * what changed for it; every credential, certificate and role change is audited as in
 * `deactivateUser`. Unknown ids are ignored. Returns, per user, whether it was active.
 */
export async function deactivateUsers(
  db: Executor,
  tenantId: string,
  userIds: readonly string[],
  actor: Actor,
  opts: { reason?: string } = {},
): Promise<{ userId: string; wasActive: boolean }[]> {
  if (!userIds.length) return [];
  const reason = opts.reason ?? 'user deactivated';
  return inTransaction(db, async (tx) => {
    const users = await tx.execute<{ id: string; active: boolean }>(sql`select id, active from users
      where tenant_id = ${tenantId} and id = ${anyId(userIds)} order by id for update`);
    const ids = users.map((u) => u.id);
    if (!ids.length) return [];
    const creds = [...(await cascadeCredentials(tx, tenantId, ids))];
    const certs = [...(await cascadeCertificates(tx, tenantId, ids))];
    const withdrawn = [...(await withdrawAll(tx, tenantId, ids, actor, reason))];
    const group = <T extends { user_id: string }>(rows: T[]) => {
      const m = new Map<string, T[]>();
      for (const r of rows) m.set(r.user_id, [...(m.get(r.user_id) ?? []), r]);
      return m;
    };
    const [credsOf, certsOf, rolesOf] = [group(creds), group(certs), group(withdrawn)];
    const touched = users.filter(
      (u) => u.active || credsOf.has(u.id) || certsOf.has(u.id) || rolesOf.has(u.id),
    );
    if (touched.length) {
      const bumped = await tx.execute<{ id: string; version: number }>(sql`update users
        set active = false, doc = jsonb_set(doc, '{active}', 'false'::jsonb), version = version + 1,
          updated_at = greatest(now(), updated_at + interval '1 millisecond')
        where tenant_id = ${tenantId} and id = ${anyId(touched.map((u) => u.id))}
        returning id, version`);
      await tx.execute(sql`insert into outbox (tenant_id, resource_type, resource_id, version, operation, detail)
        select ${tenantId}::uuid, 'User', x.id, x.version, 'update', '{"active":false,"cascade":"deactivate"}'::jsonb
        from jsonb_to_recordset(${JSON.stringify(bumped)}::jsonb) as x(id uuid, version int)`);
      const audits: AuditEntry[] = touched.map((u) => {
        const c = credsOf.get(u.id) ?? [];
        const k = certsOf.get(u.id) ?? [];
        return {
          tenantId,
          actor,
          action: 'user.deactivate',
          targetType: 'User',
          targetId: u.id,
          summary: {
            user: 'inactive',
            wasActive: u.active,
            credentials: { inactive: count(c, 'inactive'), locked: count(c, 'locked') },
            certificates: { onHold: count(k, 'on_hold'), revoked: count(k, 'revoked') },
            rolesWithdrawn: rolesOf.get(u.id)?.length ?? 0,
            reason,
          },
        };
      });
      await recordAudits(tx, [
        ...audits,
        ...cascadeAudits(tenantId, actor, creds, certs, withdrawn, reason),
      ]);
    }
    return users.map((u) => ({ userId: u.id, wasActive: u.active }));
  });
}

export const REACTIVATION_NOTE =
  'Only the user was reactivated. Credentials, certificates and roles keep their current state; restore them explicitly.';

/** Reactivates the user only (credentials, certificates and roles are left as they are, and the result says so). */
export async function reactivateUser(
  db: Executor,
  tenantId: string,
  userId: string,
  actor: Actor,
): Promise<ReactivationResult> {
  return inTransaction(db, async (tx) => {
    const user = await lockUser(tx, tenantId, userId);
    const totals = await countHoldings(tx, tenantId, userId);
    const result: ReactivationResult = {
      userId,
      user: 'active',
      wasActive: user.active,
      version: user.version,
      credentialsUnchanged: totals.credentials,
      certificatesUnchanged: totals.certificates,
      credentialsNotActive: totals.credentials_not_active,
      certificatesNotActive: totals.certificates_not_active,
      rolesUnchanged: true,
      note: REACTIVATION_NOTE,
    };
    if (!user.active) {
      result.version = await touchUser(tx, tenantId, userId, { active: true }, { active: true });
      const { version: _v, userId: _u, note: _n, ...summary } = result;
      await recordAudit(tx, {
        tenantId,
        actor,
        action: 'user.reactivate',
        targetType: 'User',
        targetId: userId,
        summary,
      });
    }
    return result;
  });
}
