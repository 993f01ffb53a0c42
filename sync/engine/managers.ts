/**
 * The enterprise `manager` from the directory. A mapping writes the manager's DN into
 * `manager.value` (`{target: "urn:…:enterprise:2.0:User:manager.value", source: "manager"}`);
 * after a run's users are written, this pass replaces each DN that names an entry linked to
 * the same data source with that user's id — set-based, one statement, with the version bump,
 * outbox row and audit row of every user it changes. A manager imported by a later run is
 * resolved then (the pass looks at every user of the source still holding a DN). The state
 * hash covers the mapped DN, so a resolved id is not rewritten while nothing changes.
 */
import { sql } from 'drizzle-orm';
import { PENDING_MANAGER_PATH } from '../../db/schema/index.ts';
import { SCHEMA } from '../../scim/schemas/index.ts';
import type { PageContext } from './users.ts';

const MANAGER_PATH = [SCHEMA.enterprise, 'manager', 'value'] as const;

/** Whether the job's mapping writes `manager.value` (from a DN). */
export const mapsManager = (ctx: Pick<PageContext, 'settings'>) =>
  ctx.settings.mapping.rules.some(
    (r) => r.target.docPath.length === 3 && r.target.docPath.every((p, i) => p === MANAGER_PATH[i]),
  );

/** Resolves pending manager DNs of this source's users; returns how many users changed. */
export async function resolveManagers(ctx: PageContext): Promise<number> {
  if (ctx.dryRun || !mapsManager(ctx)) return 0;
  const path = sql`array[${MANAGER_PATH[0]}::text, 'manager', 'value']`;
  // The literal predicate of the partial index users_pending_manager_idx: only users whose
  // manager is still a DN are read, not the whole tenant.
  const pendingDn = sql.raw(`(u.doc #>> '${PENDING_MANAGER_PATH}')`);
  const rows = await ctx.db.execute<{ id: string }>(sql`
    with candidates as materialized (
      -- First, and alone: statistics stale after a bulk import must not turn this into a walk
      -- over every account of the source.
      select u.id, ${pendingDn} as dn from users u
      where u.tenant_id = ${ctx.tenantId} and ${pendingDn} like '%=%'
    ), pending as (
      select c.id, c.dn from candidates c join accounts a on a.user_id = c.id
      where a.tenant_id = ${ctx.tenantId} and a.system_id = ${ctx.systemId}
    ), resolved as (
      -- One index lookup (accounts_dn_idx) per pending user.
      select p.id, m.user_id as manager_id
      from pending p cross join lateral (
        select m.user_id from accounts m
        where m.tenant_id = ${ctx.tenantId} and m.system_id = ${ctx.systemId}
          and lower(m.dn) = lower(p.dn) and m.user_id <> p.id
        order by m.state = 'missing' limit 1) m
    ), changed as (
      update users u set doc = jsonb_set(u.doc, ${path}, to_jsonb(r.manager_id::text)),
        version = u.version + 1,
        updated_at = greatest(now(), u.updated_at + interval '1 millisecond')
      from resolved r where u.id = r.id and u.tenant_id = ${ctx.tenantId}
      returning u.id, u.version
    ), changes as (
      insert into outbox (tenant_id, resource_type, resource_id, version, operation, detail)
      select ${ctx.tenantId}::uuid, 'User', id, version, 'update',
        jsonb_build_object('source', ${`ldap:${ctx.systemId}`}::text, 'runId', ${ctx.runId}::text,
          'attributes', jsonb_build_array(${`${SCHEMA.enterprise}:manager`}::text))
      from changed
      returning 1
    ), audited as (
      insert into audit_log (tenant_id, actor_type, actor_id, action, target_type, target_id, summary)
      select ${ctx.tenantId}::uuid, ${ctx.actor.type}, ${ctx.actor.id ?? null}::text,
        'syncRun.managerResolved', 'User', id::text, jsonb_build_object('runId', ${ctx.runId}::text)
      from changed
      returning 1
    )
    select id from changed`);
  return rows.length;
}
