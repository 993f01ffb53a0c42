import { and, asc, eq, sql } from 'drizzle-orm';
import {
  type CredentialState,
  type CredentialType,
  credentialStates,
  credentials,
  credentialTypes,
} from '../../db/schema/index.ts';
import { type Actor, recordAudit } from './audit.ts';
import { checkId, IdentityError, notFound, unlessTaken } from './errors.ts';
import { type Executor, inTransaction } from './executor.ts';
import { lockUser, requireUser, touchUser } from './users.ts';

export type Credential = typeof credentials.$inferSelect;
export { type CredentialState, type CredentialType, credentialStates, credentialTypes };

export interface IssueCredentialInput {
  userId: string;
  type: CredentialType;
  serial: string;
  state?: CredentialState;
}

function checkState(state: string): asserts state is CredentialState {
  if (!(credentialStates as readonly string[]).includes(state))
    throw new IdentityError(
      'invalid',
      `credential state must be one of ${credentialStates.join(', ')}`,
    );
}

/** Issues a credential to a user; (type, serial) is unique in the tenant. */
export async function issueCredential(
  db: Executor,
  tenantId: string,
  actor: Actor,
  input: IssueCredentialInput,
): Promise<Credential> {
  if (!(credentialTypes as readonly string[]).includes(input.type))
    throw new IdentityError(
      'invalid',
      `credential type must be one of ${credentialTypes.join(', ')}`,
    );
  if (input.state) checkState(input.state);
  if (!input.serial.trim()) throw new IdentityError('invalid', 'serial must not be empty');
  return inTransaction(db, async (tx) => {
    await lockUser(tx, tenantId, input.userId);
    const [row] = await unlessTaken(
      `a ${input.type} with serial "${input.serial}" already exists in this tenant`,
      () =>
        tx
          .insert(credentials)
          .values({
            tenantId,
            userId: input.userId,
            type: input.type,
            serial: input.serial,
            state: input.state ?? 'active',
          })
          .returning(),
    );
    const cred = row as Credential;
    await touchUser(tx, tenantId, cred.userId, { credentials: { issued: cred.id } });
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'credential.issue',
      targetType: 'Credential',
      targetId: cred.id,
      summary: { userId: cred.userId, type: cred.type, serial: cred.serial, state: cred.state },
    });
    return cred;
  });
}

/**
 * Sets a credential's state (`active | inactive | locked`; any of them may follow any other —
 * unlocking or re-enabling is an admin decision). Setting the current state changes nothing.
 */
export async function changeCredentialState(
  db: Executor,
  tenantId: string,
  actor: Actor,
  credentialId: string,
  state: CredentialState,
): Promise<Credential> {
  checkState(state);
  const current = await getCredential(db, tenantId, credentialId);
  return inTransaction(db, async (tx) => {
    await lockUser(tx, tenantId, current.userId);
    const [before] = await tx
      .select({ state: credentials.state })
      .from(credentials)
      .where(and(eq(credentials.tenantId, tenantId), eq(credentials.id, credentialId)))
      .for('update');
    if (!before) throw notFound('credential', credentialId);
    if (before.state === state) return getCredential(tx, tenantId, credentialId);
    const [row] = await tx
      .update(credentials)
      .set({ state, version: sql`${credentials.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(credentials.tenantId, tenantId), eq(credentials.id, credentialId)))
      .returning();
    const cred = row as Credential;
    const summary = { state: { from: before.state, to: state } };
    await touchUser(tx, tenantId, cred.userId, { credentials: { changed: cred.id } });
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'credential.state',
      targetType: 'Credential',
      targetId: cred.id,
      summary,
    });
    return cred;
  });
}

/** One credential of the tenant; `not_found` otherwise. */
export async function getCredential(
  db: Executor,
  tenantId: string,
  credentialId: string,
): Promise<Credential> {
  checkId('credential', credentialId);
  const [row] = await db
    .select()
    .from(credentials)
    .where(and(eq(credentials.tenantId, tenantId), eq(credentials.id, credentialId)));
  if (!row) throw notFound('credential', credentialId);
  return row;
}

/** A user's credentials, oldest first. */
export async function listCredentials(
  db: Executor,
  tenantId: string,
  userId: string,
): Promise<Credential[]> {
  await requireUser(db, tenantId, userId);
  return db
    .select()
    .from(credentials)
    .where(and(eq(credentials.tenantId, tenantId), eq(credentials.userId, userId)))
    .orderBy(asc(credentials.createdAt), asc(credentials.id));
}
