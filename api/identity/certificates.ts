import { and, asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { type CertificateState, certificates, credentials } from '../../db/schema/index.ts';
import { type Actor, recordAudit } from './audit.ts';
import { getCredential } from './credentials.ts';
import { checkId, IdentityError, notFound, unlessTaken } from './errors.ts';
import { type Executor, inTransaction } from './executor.ts';
import { lockUser, touchUser } from './users.ts';

export type Certificate = typeof certificates.$inferSelect;
export type { CertificateState };

/** RFC 5280 §5.3.1 CRL reasons a revocation may carry (certificateHold is `on_hold`, not a revocation). */
export const revocationReasons = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
  'aACompromise',
] as const;
export type RevocationReason = (typeof revocationReasons)[number];

const NEXT: Record<CertificateState, readonly CertificateState[]> = {
  active: ['on_hold', 'revoked'],
  on_hold: ['active', 'revoked'],
  revoked: [],
};

/** Whether a certificate may go from one state to another: active ↔ on_hold, either → revoked, revoked is final. */
export const canTransition = (from: CertificateState, to: CertificateState) =>
  NEXT[from].includes(to);

export interface AddCertificateInput {
  serial: string;
  subjectDn: string;
  issuerDn: string;
  notBefore: Date;
  notAfter: Date;
  /** The DER certificate, base64 (served as SCIM x509Certificates). */
  derBase64?: string | null;
}

function checkCertificate(input: AddCertificateInput): void {
  for (const k of ['serial', 'subjectDn', 'issuerDn'] as const)
    if (!input[k].trim()) throw new IdentityError('invalid', `${k} must not be empty`);
  const from = input.notBefore.getTime();
  const to = input.notAfter.getTime();
  if (Number.isNaN(from) || Number.isNaN(to) || from >= to)
    throw new IdentityError('invalid', 'notBefore must be a valid time before notAfter');
  if (input.derBase64 != null) {
    const der = input.derBase64.replace(/\s+/g, '');
    if (!der || !/^[A-Za-z0-9+/]+={0,2}$/.test(der) || der.length % 4 !== 0)
      throw new IdentityError('invalid', 'derBase64 must be base64');
  }
}

/** Adds a certificate (active) to a credential; (issuer, serial) is unique in the tenant. */
export async function addCertificate(
  db: Executor,
  tenantId: string,
  actor: Actor,
  credentialId: string,
  input: AddCertificateInput,
): Promise<Certificate> {
  checkCertificate(input);
  const cred = await getCredential(db, tenantId, credentialId);
  return inTransaction(db, async (tx) => {
    await lockUser(tx, tenantId, cred.userId);
    const [row] = await unlessTaken(
      `a certificate with serial "${input.serial}" from issuer "${input.issuerDn}" already exists`,
      () =>
        tx
          .insert(certificates)
          .values({
            tenantId,
            credentialId,
            serial: input.serial,
            subjectDn: input.subjectDn,
            issuerDn: input.issuerDn,
            notBefore: input.notBefore,
            notAfter: input.notAfter,
            derBase64: input.derBase64?.replace(/\s+/g, '') ?? null,
          })
          .returning(),
    );
    const cert = row as Certificate;
    await touchUser(tx, tenantId, cred.userId, { certificates: { added: cert.id } });
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'certificate.add',
      targetType: 'Certificate',
      targetId: cert.id,
      summary: { credentialId, serial: cert.serial, issuerDn: cert.issuerDn },
    });
    return cert;
  });
}

async function lockCertificate(tx: Tx, tenantId: string, id: string) {
  const [row] = await tx
    .select({ cert: certificates, userId: credentials.userId })
    .from(certificates)
    .innerJoin(credentials, eq(credentials.id, certificates.credentialId))
    .where(and(eq(certificates.tenantId, tenantId), eq(certificates.id, id)))
    .for('update', { of: certificates });
  if (!row) throw notFound('certificate', id);
  return row;
}

async function transition(
  db: Executor,
  tenantId: string,
  actor: Actor,
  id: string,
  to: CertificateState,
  reason?: RevocationReason,
): Promise<Certificate> {
  const { userId } = await ownerOf(db, tenantId, id);
  return inTransaction(db, async (tx) => {
    await lockUser(tx, tenantId, userId);
    const { cert } = await lockCertificate(tx, tenantId, id);
    if (!canTransition(cert.state, to))
      throw new IdentityError(
        'invalid_transition',
        `certificate ${cert.serial} is ${cert.state} and cannot become ${to}`,
      );
    const [row] = await tx
      .update(certificates)
      .set({
        state: to,
        ...(to === 'revoked'
          ? { revocationReason: reason ?? 'unspecified', revokedAt: sql`now()` }
          : {}),
        version: sql`${certificates.version} + 1`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(certificates.tenantId, tenantId), eq(certificates.id, id)))
      .returning();
    const updated = row as Certificate;
    const summary = {
      state: { from: cert.state, to },
      ...(to === 'revoked' ? { reason: updated.revocationReason } : {}),
    };
    await touchUser(tx, tenantId, userId, { certificates: { changed: id } });
    const action = { on_hold: 'hold', active: 'release', revoked: 'revoke' }[to];
    await recordAudit(tx, {
      tenantId,
      actor,
      action: `certificate.${action}`,
      targetType: 'Certificate',
      targetId: id,
      summary,
    });
    return updated;
  });
}

/** Finds the certificate's owner without locking (the user lock is taken first, then the row's). */
async function ownerOf(db: Executor, tenantId: string, id: string) {
  checkId('certificate', id);
  const [row] = await db
    .select({ userId: credentials.userId })
    .from(certificates)
    .innerJoin(credentials, eq(credentials.id, certificates.credentialId))
    .where(and(eq(certificates.tenantId, tenantId), eq(certificates.id, id)));
  if (!row) throw notFound('certificate', id);
  return row;
}

/** Puts an active certificate on hold (suspension); `invalid_transition` from any other state. */
export const holdCertificate = (db: Executor, tenantId: string, actor: Actor, id: string) =>
  transition(db, tenantId, actor, id, 'on_hold');

/** Releases a held certificate back to active; `invalid_transition` unless it is on hold. */
export const releaseCertificate = (db: Executor, tenantId: string, actor: Actor, id: string) =>
  transition(db, tenantId, actor, id, 'active');

/**
 * Revokes a certificate with a reason (default `unspecified`) and the current time. Final:
 * a revoked certificate never changes again (`invalid_transition`).
 */
export async function revokeCertificate(
  db: Executor,
  tenantId: string,
  actor: Actor,
  id: string,
  reason: RevocationReason = 'unspecified',
): Promise<Certificate> {
  if (!revocationReasons.includes(reason))
    throw new IdentityError(
      'invalid',
      `revocation reason must be one of ${revocationReasons.join(', ')}`,
    );
  return transition(db, tenantId, actor, id, 'revoked', reason);
}

/** One certificate of the tenant; `not_found` otherwise. */
export async function getCertificate(
  db: Executor,
  tenantId: string,
  id: string,
): Promise<Certificate> {
  checkId('certificate', id);
  const [row] = await db
    .select()
    .from(certificates)
    .where(and(eq(certificates.tenantId, tenantId), eq(certificates.id, id)));
  if (!row) throw notFound('certificate', id);
  return row;
}

/** A credential's certificates, oldest first. */
export async function listCertificates(
  db: Executor,
  tenantId: string,
  credentialId: string,
): Promise<Certificate[]> {
  await getCredential(db, tenantId, credentialId);
  return db
    .select()
    .from(certificates)
    .where(and(eq(certificates.tenantId, tenantId), eq(certificates.credentialId, credentialId)))
    .orderBy(asc(certificates.createdAt), asc(certificates.id));
}
