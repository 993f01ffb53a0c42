// Test-only helpers for the identity integration tests (imported by *.int.test.ts only).
import { expect } from 'vitest';
import type { Harness } from '../../test/harness.ts';
import type { Actor } from './audit.ts';
import { IdentityError, type IdentityErrorCode } from './errors.ts';

export const admin: Actor = { type: 'token', id: '00000000-0000-4000-8000-00000000ad01' };

/** A fresh tenant with a SCIM client and a helper creating users over SCIM. */
export async function tenantWithUsers(h: Harness) {
  const t = await h.tenant();
  const scim = h.scimClient(t.scimToken);
  async function user(userName: string): Promise<string> {
    const res = await scim.post('/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName,
    });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  }
  return { ...t, scim, user };
}

/** Asserts a promise rejects with an IdentityError of `code`; returns the error. */
export async function refused(
  p: Promise<unknown>,
  code: IdentityErrorCode,
): Promise<IdentityError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected IdentityError(${code})`).toBeInstanceOf(IdentityError);
  expect((err as IdentityError).code).toBe(code);
  return err as IdentityError;
}

export interface AuditRow {
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  summary: Record<string, unknown> | null;
  request_id: string | null;
}

/** The tenant's audit log, oldest first. */
export async function auditOf(h: Harness, tenantId: string): Promise<AuditRow[]> {
  const rows = await h.db.sql`select actor_type, actor_id, action, target_type, target_id, summary,
      request_id from audit_log where tenant_id = ${tenantId} order by id`;
  return rows as unknown as AuditRow[];
}

/** The tenant's outbox, oldest first. */
export async function outboxOf(h: Harness, tenantId: string) {
  const rows = await h.db.sql`select resource_type, resource_id::text, version, operation, detail
    from outbox where tenant_id = ${tenantId} order by id`;
  return rows as unknown as {
    resource_type: string;
    resource_id: string;
    version: number;
    operation: string;
    detail: Record<string, unknown> | null;
  }[];
}

/** A snapshot of every identity-model row of a tenant, to prove nothing changed. */
export async function snapshot(h: Harness, tenantId: string) {
  const out: Record<string, unknown> = {};
  for (const table of [
    'users',
    'organizations',
    'accounts',
    'credentials',
    'certificates',
    'roles',
    'role_assignments',
    'audit_log',
    'outbox',
  ]) {
    out[table] = await h.db.sql`select * from ${h.db.sql(table)} where tenant_id = ${tenantId}
      order by 1`;
  }
  return out;
}
