import { type SQL, sql } from 'drizzle-orm';

/**
 * A list as one SQL array, for `= any(…)`: the values travel as a single JSON parameter and
 * are expanded in SQL (drizzle's `sql` would spread a JS array into one parameter per value,
 * and postgres.js under drizzle cannot bind it as an array here).
 */
export const textArray = (values: readonly string[]): SQL =>
  sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

/** The same for uuid columns. */
export const uuidArray = (ids: readonly string[]): SQL =>
  sql`array(select (jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))::uuid)`;
