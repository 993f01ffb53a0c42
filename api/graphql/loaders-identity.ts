import DataLoader from 'dataloader';
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  accounts,
  type auditLog,
  certificates,
  credentials,
  organizations,
  roleAssignments,
  roles,
} from '../../db/schema/index.ts';
import { isUuid } from '../../scim/store/keys.ts';
import {
  type AccountRow,
  type CertificateRow,
  type CredentialRow,
  type OrganizationRow,
  type RoleAssignmentRow,
  type RoleRow,
  tag,
} from './rows.ts';

export type AuditRow = typeof auditLog.$inferSelect;

export interface AuditPageKey {
  targetType: string;
  targetId: string;
  limit: number;
  /** Only rows with a smaller id (newest first). */
  beforeId?: number;
}

/** Keys as lower-case uuids; anything else can never match a row. */
const validIds = (keys: readonly string[]) => keys.filter(isUuid).map((k) => k.toLowerCase());

/** Groups rows by a key, in the order of `keys`, with [] where nothing was found. */
function groupBy<R>(keys: readonly string[], rows: R[], keyOf: (r: R) => string): R[][] {
  const map = new Map<string, R[]>();
  for (const r of rows) {
    const k = keyOf(r);
    const list = map.get(k);
    if (list) list.push(r);
    else map.set(k, [r]);
  }
  return keys.map((k) => map.get(k.toLowerCase()) ?? []);
}

const byId = <T extends { id: string }>(keys: readonly string[], rows: T[]) => {
  const map = new Map(rows.map((r) => [r.id, r]));
  return keys.map((k) => map.get(k.toLowerCase()) ?? null);
};

/**
 * Per-request batch loaders of the identity model (organisations, accounts, credentials,
 * certificates, roles, audit). Like loaders.ts, every one filters by the caller's tenant:
 * another tenant's id loads as null / [], and the operator (tenantId null) loads nothing.
 */
export function createIdentityLoaders(db: Db, tenantId: string | null) {
  const d = db.db;

  /** A loader of rows by id, tenant-scoped. */
  function byIdLoader<R extends { id: string }>(load: (ids: string[], t: string) => Promise<R[]>) {
    return new DataLoader<string, R | null>(async (keys) => {
      const ids = validIds(keys);
      if (!tenantId || !ids.length) return keys.map(() => null);
      return byId(keys, await load(ids, tenantId));
    });
  }

  /** A loader of row lists by a parent id, tenant-scoped. */
  function listLoader<R>(
    load: (ids: string[], t: string) => Promise<R[]>,
    keyOf: (r: R) => string,
  ) {
    return new DataLoader<string, R[]>(async (keys) => {
      const ids = validIds(keys);
      if (!tenantId || !ids.length) return keys.map(() => []);
      return groupBy(keys, await load(ids, tenantId), keyOf);
    });
  }

  const org = (r: typeof organizations.$inferSelect): OrganizationRow => tag('Organization', r);

  const organization = byIdLoader((ids, t) =>
    d
      .select()
      .from(organizations)
      .where(and(eq(organizations.tenantId, t), inArray(organizations.id, ids)))
      .then((rows) => rows.map(org)),
  );

  /** Children of organisations, by name. */
  const organizationChildren = listLoader(
    (ids, t) =>
      d
        .select()
        .from(organizations)
        .where(and(eq(organizations.tenantId, t), inArray(organizations.parentId, ids)))
        .orderBy(asc(organizations.nameKey), asc(organizations.id))
        .then((rows) => rows.map(org)),
    (r) => r.parentId ?? '',
  );

  const account = byIdLoader((ids, t) =>
    d
      .select()
      .from(accounts)
      .where(and(eq(accounts.tenantId, t), inArray(accounts.id, ids)))
      .then((rows) => rows.map((r): AccountRow => tag('Account', r))),
  );

  /** A user's account links, by system then key. */
  const userAccounts = listLoader(
    (ids, t) =>
      d
        .select()
        .from(accounts)
        .where(and(eq(accounts.tenantId, t), inArray(accounts.userId, ids)))
        .orderBy(asc(accounts.systemId), asc(accounts.externalKey))
        .then((rows) => rows.map((r): AccountRow => tag('Account', r))),
    (r) => r.userId,
  );

  const credential = byIdLoader((ids, t) =>
    d
      .select()
      .from(credentials)
      .where(and(eq(credentials.tenantId, t), inArray(credentials.id, ids)))
      .then((rows) => rows.map((r): CredentialRow => tag('Credential', r))),
  );

  /** A user's credentials, oldest first. */
  const userCredentials = listLoader(
    (ids, t) =>
      d
        .select()
        .from(credentials)
        .where(and(eq(credentials.tenantId, t), inArray(credentials.userId, ids)))
        .orderBy(asc(credentials.createdAt), asc(credentials.id))
        .then((rows) => rows.map((r): CredentialRow => tag('Credential', r))),
    (r) => r.userId,
  );

  const certificate = byIdLoader((ids, t) =>
    d
      .select()
      .from(certificates)
      .where(and(eq(certificates.tenantId, t), inArray(certificates.id, ids)))
      .then((rows) => rows.map((r): CertificateRow => tag('Certificate', r))),
  );

  /** A credential's certificates, oldest first. */
  const credentialCertificates = listLoader(
    (ids, t) =>
      d
        .select()
        .from(certificates)
        .where(and(eq(certificates.tenantId, t), inArray(certificates.credentialId, ids)))
        .orderBy(asc(certificates.createdAt), asc(certificates.id))
        .then((rows) => rows.map((r): CertificateRow => tag('Certificate', r))),
    (r) => r.credentialId,
  );

  const role = byIdLoader((ids, t) =>
    d
      .select()
      .from(roles)
      .where(and(eq(roles.tenantId, t), inArray(roles.id, ids)))
      .then((rows) => rows.map((r): RoleRow => tag('Role', r))),
  );

  const roleAssignment = byIdLoader((ids, t) =>
    d
      .select()
      .from(roleAssignments)
      .where(and(eq(roleAssignments.tenantId, t), inArray(roleAssignments.id, ids)))
      .then((rows) => rows.map((r): RoleAssignmentRow => tag('RoleAssignment', r))),
  );

  /** Assignments (current and withdrawn) of users or of roles, newest first. */
  const assignmentsBy = (column: 'userId' | 'roleId') =>
    listLoader(
      (ids, t) =>
        d
          .select()
          .from(roleAssignments)
          .where(and(eq(roleAssignments.tenantId, t), inArray(roleAssignments[column], ids)))
          .orderBy(desc(roleAssignments.grantedAt), desc(roleAssignments.id))
          .then((rows) => rows.map((r): RoleAssignmentRow => tag('RoleAssignment', r))),
      (r) => r[column],
    );

  /** One page of several targets' audit rows in one query (a lateral join per target). */
  const auditPage = new DataLoader<AuditPageKey, AuditRow[], string>(
    async (keys) => {
      if (!tenantId) return keys.map(() => []);
      const spec = keys.map((k, ord) => ({
        ord,
        target_type: k.targetType,
        target_id: k.targetId,
        before_id: k.beforeId ?? null,
        lim: k.limit,
      }));
      const rows = await d.execute<{ ord: number; a: Record<string, unknown> }>(sql`
        select k.ord, row_to_json(a.*) as a
        from jsonb_to_recordset(${JSON.stringify(spec)}::jsonb)
          as k(ord int, target_type text, target_id text, before_id bigint, lim int)
        cross join lateral (
          select * from audit_log l
          where l.tenant_id = ${tenantId} and l.target_type = k.target_type
            and l.target_id = k.target_id and (k.before_id is null or l.id < k.before_id)
          order by l.id desc limit k.lim) a
        order by k.ord, a.id desc`);
      const out: AuditRow[][] = keys.map(() => []);
      for (const r of rows) out[r.ord]?.push(auditFromJson(r.a));
      return out;
    },
    { cacheKeyFn: (k) => JSON.stringify([k.targetType, k.targetId, k.limit, k.beforeId ?? null]) },
  );

  return {
    organization,
    organizationChildren,
    account,
    userAccounts,
    credential,
    userCredentials,
    certificate,
    credentialCertificates,
    role,
    roleAssignment,
    userAssignments: assignmentsBy('userId'),
    roleAssignmentsOfRole: assignmentsBy('roleId'),
    auditPage,
  };
}

/** An audit_log row as `row_to_json` renders it. */
export function auditFromJson(r: Record<string, unknown>): AuditRow {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: Number(r.id),
    tenantId: text(r.tenant_id),
    actorType: String(r.actor_type) as AuditRow['actorType'],
    actorId: text(r.actor_id),
    action: String(r.action),
    targetType: String(r.target_type),
    targetId: text(r.target_id),
    summary: (r.summary ?? null) as AuditRow['summary'],
    requestId: text(r.request_id),
    createdAt: new Date(String(r.created_at)),
  };
}
