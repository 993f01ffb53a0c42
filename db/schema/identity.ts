import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { lifecycleDates, tenantRef } from './columns.ts';

export type ScimDoc = Record<string, unknown>;

/** jsonb path of the enterprise manager's value, as text for `#>>` (index and query share it). */
export const PENDING_MANAGER_PATH =
  '{urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,manager,value}';

/**
 * A SCIM user. `doc` holds the resource (core attributes at top level, extensions under their
 * URN) without id/meta/groups; the columns beside it are projections used for uniqueness,
 * indexes and fast filters. `user_name_key` = NFKC + lower-case userName.
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    userName: text('user_name').notNull(),
    userNameKey: text('user_name_key').notNull(),
    externalId: text('external_id'),
    active: boolean('active').notNull().default(true),
    displayName: text('display_name'),
    doc: jsonb('doc').$type<ScimDoc>().notNull(),
    version: integer('version').notNull().default(1),
    source: text('source').notNull().default('scim'),
    /** At most one organisation (FK added in a migration: organizations.ts imports this file). */
    organizationId: uuid('organization_id'),
    ...lifecycleDates({ ms: true }),
  },
  (t) => [
    index('users_organization_idx').on(t.organizationId),
    uniqueIndex('users_tenant_user_name_key').on(t.tenantId, t.userNameKey),
    index('users_tenant_external_id_idx').on(t.tenantId, t.externalId),
    index('users_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
    index('users_tenant_updated_idx').on(t.tenantId, t.updatedAt),
    // Users whose enterprise manager is still a directory DN (sync/engine/managers.ts): the
    // pass after each sync run reads only these, not the whole tenant.
    index('users_pending_manager_idx')
      .on(t.tenantId)
      .where(sql.raw(`(doc #>> '${PENDING_MANAGER_PATH}') like '%=%'`)),
  ],
);

/** A SCIM group; membership lives in group_members so member changes cost O(changed members). */
export const groups = pgTable(
  'groups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    displayName: text('display_name').notNull(),
    displayNameKey: text('display_name_key').notNull(),
    externalId: text('external_id'),
    doc: jsonb('doc').$type<ScimDoc>().notNull(),
    version: integer('version').notNull().default(1),
    source: text('source').notNull().default('scim'),
    ...lifecycleDates({ ms: true }),
  },
  (t) => [
    uniqueIndex('groups_tenant_display_name_key').on(t.tenantId, t.displayNameKey),
    index('groups_tenant_external_id_idx').on(t.tenantId, t.externalId),
    /** A directory group's link: its anchor (entryUUID / objectGUID), once per data source. */
    uniqueIndex('groups_tenant_source_external_key')
      .on(t.tenantId, t.source, t.externalId)
      .where(sql`${t.externalId} is not null and ${t.source} like 'ldap:%'`),
    index('groups_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
    index('groups_tenant_updated_idx').on(t.tenantId, t.updatedAt),
  ],
);

export const groupMembers = pgTable(
  'group_members',
  {
    tenantId: uuid('tenant_id').notNull(),
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    memberId: uuid('member_id').notNull(),
    memberType: text('member_type', { enum: ['User', 'Group'] }).notNull(),
    /** A label the provisioning client sent with the member, shown back as `display`. */
    display: text('display'),
    addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.groupId, t.memberId] }),
    index('group_members_member_idx').on(t.memberId),
    /** Which tenants nest groups at all: lets a user's `groups` skip the recursive walk. */
    index('group_members_nested_idx').on(t.tenantId).where(sql`${t.memberType} = 'Group'`),
  ],
);

/** Change events written in the same transaction as the change; later work relays them. */
export const outbox = pgTable(
  'outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: uuid('tenant_id').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceId: uuid('resource_id').notNull(),
    version: integer('version').notNull(),
    operation: text('operation', { enum: ['create', 'update', 'delete'] }).notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('outbox_tenant_idx').on(t.tenantId, t.id)],
);
