import { sql } from 'drizzle-orm';
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

type Changed = { id: string; from: string; to: string };

/** Credentials: inactive, temporary cards locked. Only rows not already there change. */
async function cascadeCredentials(tx: Tx, tenantId: string, userId: string) {
  return tx.execute<Changed>(sql`with target as (
      select id, state as "from",
        case when type = 'temporary_card' then 'locked' else 'inactive' end as "to"
      from credentials where tenant_id = ${tenantId} and user_id = ${userId} for update)
    update credentials c set state = t."to", version = c.version + 1, updated_at = now()
    from target t where c.id = t.id and t."from" <> t."to"
    returning c.id, t."from", t."to"`);
}

/** Certificates: on hold, temporary cards' revoked. Revoked ones never change again. */
async function cascadeCertificates(tx: Tx, tenantId: string, userId: string) {
  return tx.execute<Changed>(sql`with target as (
      select c.id, c.state as "from",
        case when cr.type = 'temporary_card' then 'revoked' else 'on_hold' end as "to"
      from certificates c join credentials cr on cr.id = c.credential_id
      where cr.tenant_id = ${tenantId} and cr.user_id = ${userId} and c.tenant_id = ${tenantId}
        and c.state <> 'revoked'
      for update of c)
    update certificates c set state = t."to", version = c.version + 1, updated_at = now(),
      revocation_reason = case when t."to" = 'revoked' then ${CASCADE_REVOCATION_REASON} else c.revocation_reason end,
      revoked_at = case when t."to" = 'revoked' then now() else c.revoked_at end
    from target t where c.id = t.id and t."from" <> t."to"
    returning c.id, t."from", t."to"`);
}

async function withdrawAll(tx: Tx, tenantId: string, userId: string, actor: Actor, reason: string) {
  return tx.execute<{ id: string; role_id: string }>(sql`update role_assignments
    set state = 'withdrawn', withdrawn_at = now(), withdrawn_by = ${actorLabel(actor)},
      withdraw_reason = ${reason}
    where tenant_id = ${tenantId} and user_id = ${userId} and state = 'granted'
    returning id, role_id`);
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
    from credentials cr left join certificates c on c.credential_id = cr.id and c.tenant_id = ${tenantId}
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
  withdrawn: { id: string; role_id: string }[],
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
    const creds = [...(await cascadeCredentials(tx, tenantId, userId))];
    const certs = [...(await cascadeCertificates(tx, tenantId, userId))];
    const withdrawn = [...(await withdrawAll(tx, tenantId, userId, actor, reason))];
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
