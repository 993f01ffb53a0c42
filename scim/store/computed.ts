import { type SQL, sql } from 'drizzle-orm';

/**
 * Attributes the hub computes from its own tables, as correlated sub-selects over the row of
 * the enclosing query ("users" / "organizations"). Each is one indexed lookup that yields
 * SQL NULL quickly when there is nothing (no roles, no certificates, no organisation), so it
 * can run inside the page query of every listing. Used by the store (to render) and by the
 * filter compiler (to filter and sort on them) — one definition for both.
 */

/** Names of an organisation's ancestors and itself, root first, joined by "/". */
const namesPath = (path: SQL): SQL => sql`(
  select string_agg(scim_pa.name, '/' order by scim_px.ord)
  from unnest(string_to_array(trim(both '/' from ${path}), '/')) with ordinality as scim_px(id, ord)
  join organizations scim_pa on scim_pa.id = scim_px.id::uuid)`;

/** An Organization's `path`: the display path of names (the stored path holds ids). */
export const organizationPathSql: SQL = namesPath(sql`"organizations"."path"`);

/** An Organization's parent as `{value, display}` (NULL for a root). */
export const organizationParentSql: SQL = sql`(
  select jsonb_build_object('value', scim_po.id, 'display', scim_po.name)
  from organizations scim_po where scim_po.id = "organizations"."parent_id")`;

/** A user's organisation as `{value, display, path}` (NULL when none). */
export const userOrganizationSql: SQL = sql`case when "users"."organization_id" is not null then (
  select jsonb_build_object('value', scim_uo.id, 'display', scim_uo.name,
    'path', ${namesPath(sql`scim_uo.path`)})
  from organizations scim_uo where scim_uo.id = "users"."organization_id") end`;

/** Granted roles: value and display are the role's name. */
export const userRolesSql: SQL = sql`(
  select jsonb_agg(jsonb_build_object('value', scim_r.name, 'display', scim_r.name)
    order by scim_r.name_key)
  from role_assignments scim_ra join roles scim_r on scim_r.id = scim_ra.role_id
  where scim_ra.user_id = "users"."id" and scim_ra.tenant_id = "users"."tenant_id"
    and scim_ra.state = 'granted')`;

/** Active certificates of the user's credentials: value = base64 DER when known, display = subject DN. */
export const userCertificatesSql: SQL = sql`(
  select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
      'value', scim_ce.der_base64, 'display', scim_ce.subject_dn))
    order by scim_ce.not_before, scim_ce.id)
  from credentials scim_cr join certificates scim_ce on scim_ce.credential_id = scim_cr.id
  where scim_cr.user_id = "users"."id" and scim_cr.tenant_id = "users"."tenant_id"
    and scim_ce.state = 'active')`;

export const userAccountsSql: SQL = sql`(
  select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
      'systemId', scim_ac.system_id, 'externalKey', scim_ac.external_key, 'dn', scim_ac.dn,
      'username', scim_ac.username, 'state', scim_ac.state,
      'lastSeen', to_json(scim_ac.last_seen_at) #>> '{}'))
    order by scim_ac.system_id, scim_ac.external_key)
  from accounts scim_ac
  where scim_ac.user_id = "users"."id" and scim_ac.tenant_id = "users"."tenant_id")`;

export const userCredentialsSql: SQL = sql`(
  select jsonb_agg(jsonb_build_object(
      'type', scim_cs.type, 'serial', scim_cs.serial, 'state', scim_cs.state)
    order by scim_cs.created_at, scim_cs.id)
  from credentials scim_cs
  where scim_cs.user_id = "users"."id" and scim_cs.tenant_id = "users"."tenant_id")`;

/** Which of a user's optional computed attributes a read needs (the projection decides). */
export interface ComputedSet {
  roles?: boolean;
  x509Certificates?: boolean;
  accounts?: boolean;
  credentials?: boolean;
}
