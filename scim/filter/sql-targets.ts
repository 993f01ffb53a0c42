import { type SQL, sql } from 'drizzle-orm';
import { badRequest, type ScimType } from '../errors.ts';
import { type ResolvedAttr, type ResourceKind, SCHEMA } from '../schemas/index.ts';
import {
  organizationParentSql,
  organizationPathSql,
  userAccountsSql,
  userCertificatesSql,
  userCredentialsSql,
  userOrganizationSql,
  userRolesSql,
} from '../store/computed.ts';
import type { Accessor } from './sql-leaf.ts';

export type ResourceTable = 'users' | 'groups' | 'organizations';

/** Aliases used inside generated subqueries; distinctive so they never shadow the caller's. */
const EL = sql.identifier('scim_el');
const GM = sql.identifier('scim_gm');

/** "table"."column", quoted. */
export const column = (table: ResourceTable, name: string) =>
  sql`${sql.identifier(table)}.${sql.identifier(name)}`;

/** jsonb at a key path below `root`, keys bound as text parameters. */
export function jsonAt(root: SQL, keys: string[]): SQL {
  return keys.reduce<SQL>((acc, key) => sql`${acc} -> ${key}::text`, root);
}

/** The stored document at a resolved attribute's path. */
export const docAt = (table: ResourceTable, docPath: string[]) =>
  jsonAt(column(table, 'doc'), docPath);

/** The current element inside `elementsExists` / `firstElement`. */
export const ELEMENT = sql`${EL}.value`;

/** Array elements of a jsonb value, or none when it is not an array (never an error). */
const elementsOf = (arr: SQL) =>
  sql`jsonb_array_elements(case when jsonb_typeof(${arr}) = 'array' then ${arr} else '[]'::jsonb end)`;

/** EXISTS over the elements of a multi-valued attribute; `where` refers to ELEMENT. */
export const elementsExists = (arr: SQL, where: SQL) =>
  sql`exists (select 1 from ${elementsOf(arr)} as ${EL}(value) where ${where})`;

/** The primary element's `key` value, else the first element's (for sortBy). */
export const firstElement = (arr: SQL, key: string) =>
  sql`(select ${EL}.value -> ${key}::text from ${elementsOf(arr)} with ordinality as ${EL}(value, ord) order by (${EL}.value -> 'primary') = 'true'::jsonb desc nulls last, ${EL}.ord limit 1)`;

/** users.groups and groups.members are stored in group_members, not in `doc`. */
export function isMembership(kind: ResourceKind, r: ResolvedAttr): boolean {
  if (r.extension) return false;
  return (
    (kind.type.id === 'User' && r.attr.name === 'groups') ||
    (kind.type.id === 'Group' && r.attr.name === 'members')
  );
}

/**
 * EXISTS over the resource's membership rows, tenant-safe (the row's tenant must be the
 * resource's). For a user the rows are the groups it is in; for a group, its members.
 */
export function membershipExists(kind: ResourceKind, table: ResourceTable, where?: SQL): SQL {
  const own = kind.type.id === 'User' ? 'member_id' : 'group_id';
  const extra = where ? sql` and ${where}` : sql``;
  return sql`exists (select 1 from ${sql.identifier('group_members')} as ${GM} where ${GM}.${sql.identifier(own)} = ${column(table, 'id')} and ${GM}.${sql.identifier('tenant_id')} = ${column(table, 'tenant_id')}${extra})`;
}

/** A membership sub-attribute as a column of group_members; only value (and a member's type). */
export function membershipAccessor(kind: ResourceKind, sub: string, code: ScimType): Accessor {
  if (sub === 'value') {
    const col = kind.type.id === 'User' ? 'group_id' : 'member_id';
    return { kind: 'uuid', col: sql`${GM}.${sql.identifier(col)}` };
  }
  if (sub === 'type' && kind.type.id === 'Group') {
    return { kind: 'text', col: sql`${GM}.${sql.identifier('member_type')}` };
  }
  throw badRequest(code, `Filtering on '${sub}' of a membership is not supported; use 'value'`);
}

const META_COLUMNS: Record<string, string> = { created: 'created_at', lastModified: 'updated_at' };

function metaAccessor(kind: ResourceKind, table: ResourceTable, r: ResolvedAttr, code: ScimType) {
  const sub = r.sub?.name;
  if (sub === undefined) return { kind: 'const', value: 'meta' } as const;
  if (sub === 'resourceType') return { kind: 'const', value: kind.type.id } as const;
  const col = META_COLUMNS[sub];
  if (col) return { kind: 'timestamp', col: column(table, col) } as const;
  throw badRequest(code, `'meta.${sub}' is not supported here`);
}

/**
 * Multi-valued attributes the hub computes (a user's roles, certificates, accounts and
 * credentials) as the jsonb array they are rendered from; undefined for stored attributes.
 */
export function computedArray(kind: ResourceKind, r: ResolvedAttr): SQL | undefined {
  if (kind.core.id !== SCHEMA.user) return undefined;
  const key = `${r.extension ? r.schema : ''}:${r.attr.name}`;
  const arrays: Record<string, SQL> = {
    ':roles': userRolesSql,
    ':x509Certificates': userCertificatesSql,
    [`${SCHEMA.idhubUser}:accounts`]: userAccountsSql,
    [`${SCHEMA.idhubUser}:credentials`]: userCredentialsSql,
  };
  return arrays[key];
}

/** A reference to an organisation: `value` is a uuid column, display/path are computed. */
function organizationRef(r: ResolvedAttr, id: SQL, ref: SQL, code: ScimType): Accessor {
  const sub = r.sub?.name;
  if (sub === undefined) return { kind: 'json', expr: ref }; // `pr` of the whole reference
  if (sub === 'value') return { kind: 'uuid', col: id, nullable: true };
  if (sub === 'display' || sub === 'path') return { kind: 'json', expr: jsonAt(ref, [sub]) };
  throw badRequest(code, `'${r.attr.name}.${sub}' is not supported here; use value or display`);
}

/** Organization attributes: all of them are columns or computed from columns. */
function organizationAccessor(r: ResolvedAttr, code: ScimType): Accessor | undefined {
  switch (r.attr.name) {
    case 'displayName':
      return { kind: 'key', col: column('organizations', 'name_key') };
    case 'parent':
      return organizationRef(r, column('organizations', 'parent_id'), organizationParentSql, code);
    case 'path':
      return { kind: 'text', col: organizationPathSql };
    default:
      return undefined;
  }
}

/**
 * Attributes projected into columns (indexed, and the source of truth for id/meta which are
 * not in `doc`). Returns undefined for attributes that live only in `doc`.
 */
export function columnAccessor(
  kind: ResourceKind,
  table: ResourceTable,
  r: ResolvedAttr,
  code: ScimType,
): Accessor | undefined {
  if (r.extension) {
    if (r.schema !== SCHEMA.idhubUser || r.attr.name !== 'organization') return undefined;
    return organizationRef(r, column(table, 'organization_id'), userOrganizationSql, code);
  }
  const isUser = kind.type.id === 'User';
  if (kind.core.id === SCHEMA.organization && !['id', 'externalId', 'meta'].includes(r.attr.name)) {
    return organizationAccessor(r, code);
  }
  switch (r.attr.name) {
    case 'id':
      return { kind: 'uuid', col: column(table, 'id') };
    case 'externalId':
      return { kind: 'text', col: column(table, 'external_id') };
    case 'userName':
      return isUser ? { kind: 'key', col: column(table, 'user_name_key') } : undefined;
    case 'displayName':
      return isUser
        ? { kind: 'text', col: column(table, 'display_name') }
        : { kind: 'key', col: column(table, 'display_name_key') };
    case 'active':
      return isUser ? { kind: 'bool', col: column(table, 'active') } : undefined;
    case 'meta':
      return metaAccessor(kind, table, r, code);
    default:
      return undefined;
  }
}
