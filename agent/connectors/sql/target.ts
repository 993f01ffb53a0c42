/** What one SQL data source points at, shared by reads and writes. */
export interface SqlTarget {
  /** `name` or `schema.name`; quoted through postgres.js `sql(identifier)` only. */
  table: string;
  key: string[];
  /** Attribute → column: the only attributes reads, filters and writes accept. */
  columns: Record<string, string>;
  /** Learnt on the first upsert that ON CONFLICT cannot serve (no unique index on the key). */
  noUniqueIndex?: boolean;
}

/** `"schema"."name"` text for `to_regclass($1)`: identifiers were validated by the config. */
export const regclassText = (table: string) =>
  table
    .split('.')
    .map((p) => `"${p.replace(/"/g, '""')}"`)
    .join('.');
