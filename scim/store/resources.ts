import { type SQL, sql } from 'drizzle-orm';
import type { Database, Tx } from '../../db/client.ts';
import type { ScimDoc } from '../../db/schema/index.ts';
import { badRequest, ScimError } from '../errors.ts';
import { pgCode } from '../render.ts';
import { SCHEMA } from '../schemas/types.ts';
import {
  type ComputedSet,
  organizationParentSql,
  organizationPathSql,
  userAccountsSql,
  userCertificatesSql,
  userCredentialsSql,
  userOrganizationSql,
  userRolesSql,
} from './computed.ts';
import { isUuid, nameKey } from './keys.ts';
import { afterSql, orderSql, sortKeyColumns } from './keyset.ts';
import { groupMembersSql, userGroupsSql } from './related.ts';
import type { ListOptions, ListResult, RelatedRef, ResourceRow } from './types.ts';

type Table = 'users' | 'groups' | 'organizations';
/** Tables written through this module; organisations are written by api/identity. */
type WritableTable = 'users' | 'groups';
type Executor = Database | Tx;

const str = (v: unknown) => (typeof v === 'string' ? v : null);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The idhub extension's `organization.value` of a user document (null: none). */
function organizationOf(doc: ScimDoc): string | null {
  const ext = doc[SCHEMA.idhubUser];
  const org = isObject(ext) ? ext.organization : undefined;
  return isObject(org) && typeof org.value === 'string' ? org.value : null;
}

/**
 * A user's organisation lives in users.organization_id, not in `doc` (as members live in
 * group_members): the stored document is the one without it. `withOrganization` is the inverse,
 * applied on every read, so PATCH, PUT and change detection see it as an ordinary attribute.
 */
function withoutOrganization(doc: ScimDoc): ScimDoc {
  const ext = doc[SCHEMA.idhubUser];
  if (!isObject(ext)) return doc;
  const { organization: _o, ...rest } = ext;
  const out: ScimDoc = { ...doc };
  if (Object.keys(rest).length) out[SCHEMA.idhubUser] = rest;
  else {
    delete out[SCHEMA.idhubUser];
    if (Array.isArray(out.schemas)) out.schemas = out.schemas.filter((u) => u !== SCHEMA.idhubUser);
  }
  return out;
}

function withOrganization(doc: ScimDoc, organizationId: string | null | undefined): ScimDoc {
  if (!organizationId) return doc;
  const ext = isObject(doc[SCHEMA.idhubUser]) ? (doc[SCHEMA.idhubUser] as ScimDoc) : {};
  const out: ScimDoc = {
    ...doc,
    [SCHEMA.idhubUser]: { ...ext, organization: { value: organizationId } },
  };
  if (Array.isArray(doc.schemas) && !doc.schemas.includes(SCHEMA.idhubUser)) {
    out.schemas = [...doc.schemas, SCHEMA.idhubUser];
  }
  return out;
}

/**
 * A user may only be put in an organisation of its own tenant; anything else is a 400, never
 * stored. The share lock keeps the organisation from being deleted before this commits.
 */
async function checkOrganization(tx: Tx, tenantId: string, id: string | null): Promise<void> {
  if (id === null) return;
  const rows = isUuid(id)
    ? await tx.execute(
        sql`select 1 from organizations where tenant_id = ${tenantId} and id = ${id} for share`,
      )
    : [];
  if (!rows.length) throw badRequest('invalidValue', `unknown organization "${id}"`);
}

/** The columns projected out of a document for uniqueness, indexes and fast filters. */
export function columns(table: WritableTable, doc: ScimDoc): Record<string, unknown> {
  const externalId = str(doc.externalId);
  if (table === 'users') {
    const userName = str(doc.userName) ?? '';
    return {
      user_name: userName,
      user_name_key: nameKey(userName),
      external_id: externalId,
      active: doc.active !== false,
      display_name: str(doc.displayName),
      organization_id: organizationOf(doc)?.toLowerCase() ?? null,
    };
  }
  const displayName = str(doc.displayName) ?? '';
  return {
    display_name: displayName,
    display_name_key: nameKey(displayName),
    external_id: externalId,
  };
}

const relatedSql = (table: Table, tenantId: string) =>
  table === 'users' ? userGroupsSql(tenantId) : groupMembersSql;
/** The document as stored (a user's organisation lives in its column, not in `doc`). */
export const storedDoc = (table: WritableTable, doc: ScimDoc) =>
  table === 'users' ? withoutOrganization(doc) : doc;
const tableSql = (table: Table) => sql.identifier(table);

type RawRow = {
  id: string;
  doc: ScimDoc;
  external_id: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  related?: RelatedRef[];
  /** users */
  organization_id?: string | null;
  organization?: Record<string, unknown> | null;
  roles?: unknown[] | null;
  x509?: unknown[] | null;
  accounts?: unknown[] | null;
  credentials?: unknown[] | null;
  /** organizations */
  name?: string;
  parent_id?: string | null;
  parent?: Record<string, unknown> | null;
  names_path?: string | null;
};

/** Drops null entries: computed attributes that have no value are absent (no nulls out). */
function compact(o: Record<string, unknown>): Record<string, unknown> | undefined {
  const out = Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== null && v !== undefined),
  );
  return Object.keys(out).length ? out : undefined;
}

/** The computed attributes of a row, shaped like the document they are rendered into. */
function computedOf(r: RawRow): Record<string, unknown> | undefined {
  if (r.name !== undefined) {
    const parent = r.parent ? { display: r.parent.display } : null;
    return compact({ parent, path: r.names_path });
  }
  if (r.organization_id === undefined) return undefined;
  const { value: _v, ...org } = r.organization ?? {};
  const ext = compact({
    organization: r.organization ? org : null,
    accounts: r.accounts,
    credentials: r.credentials,
  });
  return compact({ roles: r.roles, x509Certificates: r.x509, [SCHEMA.idhubUser]: ext });
}

/** The document of an organisation: its columns are the source of truth (admins write them too). */
function organizationDoc(r: RawRow): ScimDoc {
  const doc: ScimDoc = { ...r.doc, schemas: [SCHEMA.organization], displayName: r.name };
  if (r.parent_id) doc.parent = { value: r.parent_id };
  else delete doc.parent;
  if (r.external_id) doc.externalId = r.external_id;
  else delete doc.externalId;
  return doc;
}

const docOf = (r: RawRow): ScimDoc =>
  r.name !== undefined ? organizationDoc(r) : withOrganization(r.doc, r.organization_id);

const toRow = (r: RawRow): ResourceRow => {
  const computed = computedOf(r);
  return {
    id: r.id,
    doc: docOf(r),
    externalId: r.external_id,
    version: r.version,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    ...(r.related ? { related: r.related } : {}),
    ...(computed ? { computed } : {}),
  };
};

function uniquenessError(table: Table, doc: ScimDoc): ScimError {
  const what =
    table === 'users'
      ? `userName "${String(doc.userName)}"`
      : `displayName "${String(doc.displayName)}"`;
  return new ScimError(409, 'uniqueness', `${what} is already taken in this tenant`);
}

/** Runs a write; a unique-index violation becomes 409 uniqueness. */
async function guardUnique<T>(table: Table, doc: ScimDoc, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (pgCode(e) === '23505') throw uniquenessError(table, doc);
    throw e;
  }
}

/** What a read computes beyond the row: references (groups/members) and user attributes. */
export interface ReadExtras {
  related?: { tenantId: string };
  computed?: ComputedSet;
}

/** The computed columns of a table; optional user attributes only when the read needs them. */
function computedList(table: Table, set: ComputedSet = {}): SQL {
  if (table === 'organizations') {
    return sql`, "organizations".name, "organizations".parent_id,
      ${organizationParentSql} as parent, ${organizationPathSql} as names_path`;
  }
  if (table !== 'users') return sql``;
  const parts: SQL[] = [sql`"users".organization_id`, sql`${userOrganizationSql} as organization`];
  if (set.roles) parts.push(sql`${userRolesSql} as roles`);
  if (set.x509Certificates) parts.push(sql`${userCertificatesSql} as x509`);
  if (set.accounts) parts.push(sql`${userAccountsSql} as accounts`);
  if (set.credentials) parts.push(sql`${userCredentialsSql} as credentials`);
  return sql`, ${sql.join(parts, sql`, `)}`;
}

const selectList = (table: Table, extras: ReadExtras = {}) =>
  sql`${tableSql(table)}.id, ${tableSql(table)}.doc, ${tableSql(table)}.external_id, ${tableSql(table)}.version,
      to_json(${tableSql(table)}.created_at) #>> '{}' as created_at,
      to_json(${tableSql(table)}.updated_at) #>> '{}' as updated_at${extras.related && table !== 'organizations' ? sql`, ${relatedSql(table, extras.related.tenantId)} as related` : sql``}${computedList(table, extras.computed)}`;

/** Writes answer with the always-returned computed attributes; the rest is re-read on request. */
const WRITE_EXTRAS: ReadExtras = {};

/** Inserts a resource. Unique violations answer 409; the caller writes the outbox row. */
export async function insertResource(
  tx: Tx,
  table: WritableTable,
  tenantId: string,
  doc: ScimDoc,
): Promise<ResourceRow> {
  const cols = columns(table, doc);
  if (table === 'users')
    await checkOrganization(tx, tenantId, cols.organization_id as string | null);
  const names = sql.join(
    Object.keys(cols).map((k) => sql.identifier(k)),
    sql`, `,
  );
  const values = sql.join(
    Object.values(cols).map((v) => sql`${v}`),
    sql`, `,
  );
  const rows = await guardUnique(table, doc, () =>
    tx.execute<RawRow>(sql`insert into ${tableSql(table)} (tenant_id, doc, ${names})
      values (${tenantId}, ${JSON.stringify(storedDoc(table, doc))}::jsonb, ${values})
      returning ${selectList(table, WRITE_EXTRAS)}`),
  );
  return toRow(rows[0] as RawRow);
}

/** Reads one resource of the tenant; `lock` takes the row lock for a read-modify-write. */
export async function getResource(
  db: Executor,
  table: Table,
  tenantId: string,
  id: string,
  opts: { withRelated: boolean; lock?: boolean; computed?: ComputedSet },
): Promise<ResourceRow | undefined> {
  const extras: ReadExtras = {
    ...(opts.withRelated ? { related: { tenantId } } : {}),
    ...(opts.computed ? { computed: opts.computed } : {}),
  };
  const rows = await db.execute<RawRow>(sql`select ${selectList(table, extras)}
    from ${tableSql(table)} where tenant_id = ${tenantId} and id = ${id}${opts.lock ? sql` for update` : sql``}`);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Replaces the stored document, bumping version and lastModified. */
export async function updateResource(
  tx: Tx,
  table: WritableTable,
  tenantId: string,
  id: string,
  doc: ScimDoc,
): Promise<ResourceRow> {
  const cols = columns(table, doc);
  if (table === 'users')
    await checkOrganization(tx, tenantId, cols.organization_id as string | null);
  const sets = sql.join(
    Object.entries(cols).map(([k, v]) => sql`${sql.identifier(k)} = ${v}`),
    sql`, `,
  );
  const rows = await guardUnique(table, doc, () =>
    tx.execute<RawRow>(sql`update ${tableSql(table)} set doc = ${JSON.stringify(storedDoc(table, doc))}::jsonb, ${sets},
      version = version + 1, updated_at = greatest(now(), updated_at + interval '1 millisecond')
      where tenant_id = ${tenantId} and id = ${id} returning ${selectList(table, WRITE_EXTRAS)}`),
  );
  return toRow(rows[0] as RawRow);
}

/** Bumps version and lastModified without touching the document (membership changes). */
export async function touchResource(
  tx: Tx,
  table: WritableTable,
  tenantId: string,
  id: string,
): Promise<ResourceRow> {
  const rows = await tx.execute<RawRow>(sql`update ${tableSql(table)}
    set version = version + 1, updated_at = greatest(now(), updated_at + interval '1 millisecond')
    where tenant_id = ${tenantId} and id = ${id} returning ${selectList(table)}`);
  return toRow(rows[0] as RawRow);
}

/**
 * Deletes a resource and the memberships that point at it. Returns the groups it left, with
 * their bumped versions (the caller records their change), or undefined when absent.
 */
export async function deleteResource(
  tx: Tx,
  table: WritableTable,
  tenantId: string,
  id: string,
): Promise<{ id: string; version: number }[] | undefined> {
  const rows = await tx.execute<{ id: string }>(
    sql`delete from ${tableSql(table)} where tenant_id = ${tenantId} and id = ${id} returning id`,
  );
  if (rows.length === 0) return undefined;
  const left = await tx.execute<{ id: string; version: number }>(sql`with gone as (
      delete from group_members where tenant_id = ${tenantId} and member_id = ${id} returning group_id)
    update groups set version = version + 1,
      updated_at = greatest(now(), updated_at + interval '1 millisecond')
    where tenant_id = ${tenantId} and id in (select group_id from gone) returning id, version`);
  return [...left];
}

/** One page of a filtered, sorted listing; the total is counted in SQL only when needed. */
export async function listResources(
  db: Database,
  table: Table,
  tenantId: string,
  o: ListOptions,
): Promise<ListResult> {
  const t = tableSql(table);
  const conds: SQL[] = [sql`${t}.tenant_id = ${tenantId}`];
  if (o.where) conds.push(sql`(${o.where})`);
  const filtered = sql.join(conds, sql` and `);
  const keyset = o.after
    ? sql` and ${afterSql(sql`${t}.created_at`, sql`${t}.id`, o.after, o.orderBy)}`
    : sql``;
  const order = orderSql(sql`${t}.created_at`, sql`${t}.id`, o.orderBy);
  const sortKey = o.withSortKey && o.orderBy ? o.orderBy.key : undefined;
  const keyCol = sortKey ? sql`, ${sortKeyColumns(sortKey)}` : sql``;
  type PageRow = RawRow & { sort_key?: string | null; sort_type?: string };
  const rows =
    o.limit === 0
      ? ([] as PageRow[])
      : // The page is chosen first, so computed references are built for its rows only, not
        // for every row an OFFSET skips.
        await db.execute<PageRow>(sql`select ${selectList(table, {
          ...(o.withRelated ? { related: { tenantId } } : {}),
          ...(o.computed ? { computed: o.computed } : {}),
        })}${sortKey ? sql`, ${t}.sort_key, ${t}.sort_type` : sql``}
          from (select ${t}.*${keyCol} from ${t} where ${filtered}${keyset}
                order by ${order} limit ${o.limit} offset ${o.offset}) as ${t}
          order by ${order}`);
  const complete = o.offset === 0 && !o.after && o.limit > 0 && rows.length < o.limit;
  const total = complete ? rows.length : await countResources(db, table, filtered);
  const last = rows[rows.length - 1];
  return {
    rows: rows.map(toRow),
    total,
    ...(last && sortKey ? { lastKey: last.sort_key ?? null, lastKeyType: last.sort_type } : {}),
  };
}

async function countResources(db: Database, table: Table, filtered: SQL): Promise<number> {
  const rows = await db.execute<{ n: string }>(
    sql`select count(*)::text as n from ${tableSql(table)} where ${filtered}`,
  );
  return Number(rows[0]?.n ?? 0);
}
