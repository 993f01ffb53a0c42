import { sql } from 'drizzle-orm';

/** The comparison key of a case-insensitive unique name: NFKC, then lower case. */
export const nameKey = (s: string) => s.normalize('NFKC').toLowerCase();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

/** A bound uuid[] parameter (drizzle spreads JS arrays into parameter lists). Ids must be uuids. */
export const uuids = (ids: readonly string[]) =>
  sql`string_to_array(${ids.join(',')}, ',')::uuid[]`;
