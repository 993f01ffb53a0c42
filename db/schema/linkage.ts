import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { lifecycleDates, tenantRef } from './columns.ts';
import { users } from './identity.ts';

/**
 * One identity's account in another system. `systemId` names the system (a data source or
 * push target id once those exist; free-form until then); the external key (entryUUID,
 * objectGUID, remote SCIM id) is unique per system. Several accounts per identity per system
 * are allowed.
 */
export const accounts = pgTable(
  'accounts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    systemId: text('system_id').notNull(),
    externalKey: text('external_key').notNull(),
    dn: text('dn'),
    username: text('username'),
    state: text('state', { enum: ['active', 'disabled', 'missing'] })
      .notNull()
      .default('active'),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
    lastSeenRun: uuid('last_seen_run'),
    /** Hash of the last synchronised mapped state: unchanged entries cost no write. */
    stateHash: text('state_hash'),
    ...lifecycleDates(),
  },
  (t) => [
    uniqueIndex('accounts_system_key').on(t.tenantId, t.systemId, t.externalKey),
    index('accounts_user_idx').on(t.userId),
    // DN lookups of links (group members and managers named by DN). DN first, on purpose: an
    // index led by (tenant, system) would compete with accounts_system_key for anchor lookups,
    // and PostgreSQL, with statistics stale after a bulk import, could pick it and scan.
    index('accounts_dn_idx').on(sql`lower(${t.dn})`),
  ],
);

export const credentialTypes = [
  'card',
  'temporary_card',
  'virtual_smart_card',
  'mobile_id',
  'soft_token',
] as const;
export type CredentialType = (typeof credentialTypes)[number];
export const credentialStates = ['active', 'inactive', 'locked'] as const;
export type CredentialState = (typeof credentialStates)[number];

export const credentials = pgTable(
  'credentials',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    type: text('type', { enum: credentialTypes }).notNull(),
    serial: text('serial').notNull(),
    state: text('state', { enum: credentialStates }).notNull().default('active'),
    version: integer('version').notNull().default(1),
    ...lifecycleDates(),
  },
  (t) => [
    uniqueIndex('credentials_serial_key').on(t.tenantId, t.type, t.serial),
    index('credentials_user_idx').on(t.userId),
  ],
);

export const certificateStates = ['active', 'on_hold', 'revoked'] as const;
export type CertificateState = (typeof certificateStates)[number];

export const certificates = pgTable(
  'certificates',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    credentialId: uuid('credential_id')
      .notNull()
      .references(() => credentials.id, { onDelete: 'cascade' }),
    serial: text('serial').notNull(),
    subjectDn: text('subject_dn').notNull(),
    issuerDn: text('issuer_dn').notNull(),
    notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
    notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
    /** The certificate itself, base64 DER, when known (served as SCIM x509Certificates). */
    derBase64: text('der_base64'),
    state: text('state', { enum: certificateStates }).notNull().default('active'),
    revocationReason: text('revocation_reason'),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    version: integer('version').notNull().default(1),
    ...lifecycleDates(),
  },
  (t) => [
    uniqueIndex('certificates_issuer_serial_key').on(t.tenantId, t.issuerDn, t.serial),
    index('certificates_credential_idx').on(t.credentialId),
  ],
);

export const roles = pgTable(
  'roles',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    nameKey: text('name_key').notNull(),
    description: text('description'),
    ...lifecycleDates(),
  },
  (t) => [uniqueIndex('roles_name_key').on(t.tenantId, t.nameKey)],
);

/**
 * Grants and withdrawals, kept as history: withdrawing closes the row, granting again opens
 * a new one. At most one open grant per role and user.
 */
export const roleAssignments = pgTable(
  'role_assignments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    roleId: uuid('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    state: text('state', { enum: ['granted', 'withdrawn'] })
      .notNull()
      .default('granted'),
    grantedAt: timestamp('granted_at', { withTimezone: true }).notNull().defaultNow(),
    grantedBy: text('granted_by').notNull(),
    withdrawnAt: timestamp('withdrawn_at', { withTimezone: true }),
    withdrawnBy: text('withdrawn_by'),
    withdrawReason: text('withdraw_reason'),
  },
  (t) => [
    uniqueIndex('role_assignments_open_key')
      .on(t.roleId, t.userId)
      .where(sql`${t.state} = 'granted'`),
    index('role_assignments_user_idx').on(t.userId),
  ],
);

/**
 * Who did what to which target, with a summary of the change. Written in the same
 * transaction as the change. `tenantId` is null for platform-level (operator) actions.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: uuid('tenant_id'),
    actorType: text('actor_type', { enum: ['token', 'operator', 'system'] }).notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    summary: jsonb('summary').$type<Record<string, unknown>>(),
    requestId: text('request_id'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('audit_log_tenant_time_idx').on(t.tenantId, t.createdAt),
    index('audit_log_target_idx').on(t.tenantId, t.targetType, t.targetId),
    index('audit_log_actor_idx').on(t.tenantId, t.actorId),
  ],
);
