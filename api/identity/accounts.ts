import { and, asc, eq } from 'drizzle-orm';
import { accounts } from '../../db/schema/index.ts';
import { type Actor, recordAudit } from './audit.ts';
import { checkId, IdentityError, notFound, unlessTaken } from './errors.ts';
import { type Executor, inTransaction } from './executor.ts';
import { lockUser, requireUser, touchUser } from './users.ts';

export type Account = typeof accounts.$inferSelect;
export type AccountState = Account['state'];
export const accountStates = ['active', 'disabled', 'missing'] as const;

export interface LinkAccountInput {
  userId: string;
  /** A data source or push target id (free-form until those exist). */
  systemId: string;
  /** The system's immutable anchor: entryUUID, objectGUID, remote SCIM id. */
  externalKey: string;
  dn?: string | null;
  username?: string | null;
  state?: AccountState;
}

function checkInput(input: LinkAccountInput): void {
  if (!input.systemId.trim()) throw new IdentityError('invalid', 'systemId must not be empty');
  if (!input.externalKey.trim())
    throw new IdentityError('invalid', 'externalKey must not be empty');
  if (input.state && !accountStates.includes(input.state))
    throw new IdentityError('invalid', `account state must be one of ${accountStates.join(', ')}`);
}

/**
 * Links a user to an account in another system. An external key is unique per system (a
 * `conflict` names the key and system); one user may hold several accounts on one system.
 */
export async function linkAccount(
  db: Executor,
  tenantId: string,
  actor: Actor,
  input: LinkAccountInput,
): Promise<Account> {
  checkInput(input);
  return inTransaction(db, async (tx) => {
    await lockUser(tx, tenantId, input.userId);
    const [row] = await unlessTaken(
      `external key "${input.externalKey}" is already linked on system "${input.systemId}"`,
      () =>
        tx
          .insert(accounts)
          .values({
            tenantId,
            userId: input.userId,
            systemId: input.systemId,
            externalKey: input.externalKey,
            dn: input.dn ?? null,
            username: input.username ?? null,
            state: input.state ?? 'active',
          })
          .returning(),
    );
    const account = row as Account;
    const summary = { systemId: account.systemId, externalKey: account.externalKey };
    await touchUser(tx, tenantId, input.userId, { accounts: { linked: account.id } });
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'account.link',
      targetType: 'Account',
      targetId: account.id,
      summary: { ...summary, userId: input.userId },
    });
    return account;
  });
}

/** Removes an account link (the account itself lives on in the other system). */
export async function unlinkAccount(
  db: Executor,
  tenantId: string,
  actor: Actor,
  accountId: string,
): Promise<Account> {
  checkId('account', accountId);
  return inTransaction(db, async (tx) => {
    const [row] = await tx
      .delete(accounts)
      .where(and(eq(accounts.tenantId, tenantId), eq(accounts.id, accountId)))
      .returning();
    if (!row) throw notFound('account', accountId);
    await touchUser(tx, tenantId, row.userId, { accounts: { unlinked: row.id } });
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'account.unlink',
      targetType: 'Account',
      targetId: row.id,
      summary: { systemId: row.systemId, externalKey: row.externalKey, userId: row.userId },
    });
    return row;
  });
}

/** One account link of the tenant; `not_found` otherwise. */
export async function getAccount(
  db: Executor,
  tenantId: string,
  accountId: string,
): Promise<Account> {
  checkId('account', accountId);
  const [row] = await db
    .select()
    .from(accounts)
    .where(and(eq(accounts.tenantId, tenantId), eq(accounts.id, accountId)));
  if (!row) throw notFound('account', accountId);
  return row;
}

/** A user's account links, by system then key (an unknown user simply has none). */
export async function listAccounts(
  db: Executor,
  tenantId: string,
  userId: string,
): Promise<Account[]> {
  await requireUser(db, tenantId, userId);
  return db
    .select()
    .from(accounts)
    .where(and(eq(accounts.tenantId, tenantId), eq(accounts.userId, userId)))
    .orderBy(asc(accounts.systemId), asc(accounts.externalKey));
}

/** The account with this external key on this system (correlation by anchor), or null. */
export async function findAccount(
  db: Executor,
  tenantId: string,
  systemId: string,
  externalKey: string,
): Promise<Account | null> {
  const [row] = await db
    .select()
    .from(accounts)
    .where(
      and(
        eq(accounts.tenantId, tenantId),
        eq(accounts.systemId, systemId),
        eq(accounts.externalKey, externalKey),
      ),
    );
  return row ?? null;
}
