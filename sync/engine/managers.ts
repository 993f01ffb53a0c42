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
import { SCHEMA } from '../../scim/schemas/index.ts';
import type { PageContext } from './users.ts';

const MANAGER_PATH = [SCHEMA.enterprise, 'manager', 'value'] as const;

/** Whether the job's mapping writes `manager.value` (from a DN). */
export const mapsManager = (ctx: Pick<PageContext, 'settings'>) =>
  ctx.settings.mapping.rules.some(
    (r) => r.target.docPath.length === 3 && r.target.docPath.every((p, i) => p === MANAGER_PATH[i]),
  );

/** DNs compared case-insensitively, without the spaces some servers put after commas. */
const dnKey = (v: ReturnType<typeof sql>) => sql`lower(regexp_replace(${v}, ',\\s+', ',', 'g'))`;

/** Resolves pending manager DNs of this source's users; returns how many users changed. */
export async function resolveManagers(ctx: PageContext): Promise<number> {
  if (ctx.dryRun || !mapsManager(ctx)) return 0;
  const path = sql`array[${MANAGER_PATH[0]}::text, 'manager', 'value']`;
  const rows = await ctx.db.execute<{ id: string }>(sql`
    with pending as (
      select u.id, u.doc #>> ${path} as dn
      from users u join accounts a on a.user_id = u.id
      where a.tenant_id = ${ctx.tenantId} and a.system_id = ${ctx.systemId}
        and u.tenant_id = ${ctx.tenantId}
        and u.doc #>> ${path} like '%=%'
    ), resolved as (
      select distinct on (p.id) p.id, m.user_id as manager_id
      from pending p join accounts m on m.tenant_id = ${ctx.tenantId}
        and m.system_id = ${ctx.systemId} and ${dnKey(sql`m.dn`)} = ${dnKey(sql`p.dn`)}
      where m.user_id <> p.id
      order by p.id, m.state = 'missing'
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
