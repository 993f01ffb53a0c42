import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { lifecycleDates, tenantRef } from './columns.ts';
import type { ScimDoc } from './identity.ts';

/**
 * The organisation tree. `path` is the materialised path of ids from the root
 * (`/<root>/<child>/`), so a subtree is one indexed prefix scan and a move rewrites the
 * subtree's paths in one UPDATE. Names are unique among siblings (case-insensitively).
 */
export const organizations = pgTable(
  'organizations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    parentId: uuid('parent_id').references((): AnyPgColumn => organizations.id, {
      onDelete: 'restrict',
    }),
    name: text('name').notNull(),
    nameKey: text('name_key').notNull(),
    path: text('path').notNull(),
    externalId: text('external_id'),
    /** SCIM attributes beyond the columns (the Organization resource's document). */
    doc: jsonb('doc').$type<ScimDoc>().notNull().default({}),
    version: integer('version').notNull().default(1),
    source: text('source').notNull().default('admin'),
    ...lifecycleDates({ ms: true }),
  },
  (t) => [
    uniqueIndex('organizations_sibling_name_key').on(
      t.tenantId,
      sql`coalesce(${t.parentId}, '00000000-0000-0000-0000-000000000000'::uuid)`,
      t.nameKey,
    ),
    index('organizations_tenant_path_idx').on(t.tenantId, sql`${t.path} text_pattern_ops`),
    index('organizations_parent_idx').on(t.parentId),
    index('organizations_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
  ],
);
