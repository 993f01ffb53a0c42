import { type SQL, sql } from 'drizzle-orm';

/**
 * Correlated sub-selects that return a resource's computed references as a jsonb array:
 * a user's groups (direct and, through nested groups, indirect), a group's members.
 * Run inside the page query, so a page of N resources costs one round trip.
 */
const nestedGroupsSql: SQL = sql`(
  with recursive anc(group_id, depth) as (
    select gm.group_id, 1 from group_members gm where gm.member_id = "users"."id"
    union
    select gm.group_id, anc.depth + 1 from group_members gm
      join anc on gm.member_id = anc.group_id where anc.depth < 32
  )
  select coalesce(jsonb_agg(jsonb_build_object(
      'value', g.id, 'display', g.display_name,
      'type', case when x.d = 1 then 'direct' else 'indirect' end)
    order by g.display_name_key), '[]'::jsonb)
  from (select group_id, min(depth) as d from anc group by group_id) x
  join groups g on g.id = x.group_id
)`;

export const groupMembersSql: SQL = sql`(
  select coalesce(jsonb_agg(jsonb_build_object(
      'value', gm.member_id,
      'display', coalesce(gm.display, u.display_name, u.user_name, g.display_name),
      'type', gm.member_type)
    order by gm.added_at, gm.member_id), '[]'::jsonb)
  from group_members gm
  left join users u on gm.member_type = 'User' and u.id = gm.member_id
  left join groups g on gm.member_type = 'Group' and g.id = gm.member_id
  where gm.group_id = "groups"."id"
)`;

const directGroupsSql: SQL = sql`(
  select coalesce(jsonb_agg(jsonb_build_object(
      'value', g.id, 'display', g.display_name, 'type', 'direct') order by g.display_name_key), '[]'::jsonb)
  from group_members gm join groups g on g.id = gm.group_id
  where gm.member_id = "users"."id"
)`;

/**
 * A user's groups. The recursive walk is only needed when the tenant nests groups at all;
 * the EXISTS is uncorrelated (an InitPlan, evaluated once per query, on a partial index), so
 * tenants without nesting pay for one direct join per row.
 */
export const userGroupsSql = (tenantId: string): SQL => sql`case
  when exists (select 1 from group_members n where n.tenant_id = ${tenantId} and n.member_type = 'Group')
  then ${nestedGroupsSql} else ${directGroupsSql} end`;
