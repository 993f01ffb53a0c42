import { timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from './tenants.ts';

/** The owning tenant of a row: required, and gone with its tenant. (tenants.ts itself cannot use
 * these helpers: this file imports it.) */
export const tenantRef = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

/**
 * created_at / updated_at. `ms` (millisecond precision) for resources whose timestamps are
 * served over SCIM as meta.created / meta.lastModified and compared by clients.
 */
export const lifecycleDates = (opts: { ms?: boolean } = {}) => {
  const config = opts.ms
    ? ({ withTimezone: true, precision: 3 } as const)
    : ({ withTimezone: true } as const);
  return {
    createdAt: timestamp('created_at', config).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', config).notNull().defaultNow(),
  };
};
