/**
 * The SQL connector (PostgreSQL, postgres.js): one table or view per data source, read by
 * keyset pages over the key columns, written by upsert / delete on the key. Identifiers come
 * only from the validated config (quoted by postgres.js); every value is a bound parameter.
 */
import postgres from 'postgres';
import type { Entry } from '../../protocol.ts';
import { toSqlError } from './errors.ts';
import { and, columnOf, compileFilter, parseSqlFilter, type SqlScalar } from './filter.ts';
import { decodeCookie, encodeCookie, entryId } from './paging.ts';
import { listAttributes, listResourceTypes } from './schema.ts';
import type { SqlTarget } from './target.ts';
import { deleteByKey, upsert } from './write.ts';

export interface SqlConnectorOptions {
  url: string;
  /** Kept in this closure only (overrides a password in the URL). */
  password?: string;
  table: string;
  key: string[];
  columns: Record<string, string>;
  /** statement_timeout and connect timeout basis, default 30 s. */
  timeoutMs?: number;
  /** Pool size, default 4. */
  maxConnections?: number;
}

export interface SqlSearchParams {
  /** JSON filter text, see filter.ts. */
  filter?: string;
  /** Attributes to return; empty or absent = every mapped attribute. */
  attributes?: string[];
  pageSize?: number;
  cookie?: string | null;
}

type Key = Record<string, SqlScalar>;

export interface SqlConnector {
  testConnection(): Promise<{ latencyMs: number; details: string }>;
  search(params: SqlSearchParams): Promise<{ entries: Entry[]; cookie: string | null }>;
  upsert(key: Key, values: Key): Promise<{ id: string }>;
  delete(key: Key): Promise<{ id: string }>;
  listAttributes: () => ReturnType<typeof listAttributes>;
  listResourceTypes: () => ReturnType<typeof listResourceTypes>;
  close(): Promise<void>;
}

export function createSqlConnector(options: SqlConnectorOptions): SqlConnector {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const sql = postgres(options.url, {
    ...(options.password !== undefined ? { password: options.password } : {}),
    max: options.maxConnections ?? 4,
    idle_timeout: 60,
    connect_timeout: Math.max(1, Math.ceil(Math.min(timeoutMs, 10_000) / 1000)),
    connection: { statement_timeout: timeoutMs, application_name: 'idhub-connector' },
    onnotice: () => {},
  });
  const target: SqlTarget = { table: options.table, key: options.key, columns: options.columns };

  async function run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      throw toSqlError(e);
    }
  }

  return {
    testConnection: () =>
      run(async () => {
        const started = performance.now();
        const [row] = await sql<{ version: string }[]>`select version()`;
        return { latencyMs: Math.round(performance.now() - started), details: row?.version ?? '' };
      }),
    search: (params) => run(() => searchPage(sql, target, params)),
    upsert: (key, values) => run(() => upsert(sql, target, key, values)),
    delete: (key) => run(() => deleteByKey(sql, target, key)),
    listAttributes: () => run(() => listAttributes(sql, target)),
    listResourceTypes: () => run(() => listResourceTypes(sql, target)),
    close: () => sql.end({ timeout: 5 }),
  };
}

/** One keyset page: rows after the cookie's key, in key order; one extra row says "more". */
async function searchPage(sql: postgres.Sql, target: SqlTarget, p: SqlSearchParams) {
  const attributes = p.attributes?.length ? p.attributes : Object.keys(target.columns);
  const selected = attributes.map(
    (a) => sql`${sql(columnOf(target.columns, a, 'attributes'))}::text`,
  );
  const keys = target.key.map((k) => sql`${sql(k)}::text`);
  const list = [...keys, ...selected].reduce((acc, f) => sql`${acc}, ${f}`);
  const filter = p.filter
    ? compileFilter(sql, parseSqlFilter(p.filter), target.columns)
    : sql`true`;
  const after = p.cookie
    ? afterKey(sql, target, decodeCookie(p.cookie, target.key.length))
    : sql`true`;
  const pageSize = p.pageSize ?? 500;
  // Qualified: a bare name in ORDER BY would mean the `key::text` output column (text order).
  const order = target.key.map((k) => sql`src.${sql(k)}`).reduce((acc, f) => sql`${acc}, ${f}`);
  const rows = await sql`
    select ${list} from ${sql(target.table)} as src
    where ${and(sql, [filter, after])}
    order by ${order}
    limit ${pageSize + 1}`.values();
  const page = rows
    .slice(0, pageSize)
    .map((row) => toEntry(row as (string | null)[], target, attributes));
  const last = rows.length > pageSize ? rows[pageSize - 1] : undefined;
  const cookie = last ? encodeCookie((last as string[]).slice(0, target.key.length)) : null;
  return { entries: page, cookie };
}

/** `(k1, k2) > ($1, $2)`: row comparison matches `order by k1, k2` exactly. */
function afterKey(sql: postgres.Sql, target: SqlTarget, last: string[]): postgres.Fragment {
  const cols = target.key.map((k) => sql`${sql(k)}`).reduce((acc, f) => sql`${acc}, ${f}`);
  const vals = last.map((v) => sql`${v}`).reduce((acc, f) => sql`${acc}, ${f}`);
  return sql`(${cols}) > (${vals})`;
}

/** Key columns first, then the attributes in request order; NULL columns are left out. */
function toEntry(row: (string | null)[], target: SqlTarget, attributes: string[]): Entry {
  const n = target.key.length;
  const key = row.slice(0, n).map((v) => v ?? '');
  const out: Entry['attributes'] = {};
  attributes.forEach((a, i) => {
    const v = row[n + i];
    if (v !== null && v !== undefined) out[a] = [v];
  });
  return { id: entryId(key), attributes: out };
}
