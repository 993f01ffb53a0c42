import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { badRequest } from '../errors.ts';
import { isUuid, uuids } from './keys.ts';
import type { MemberChange } from './types.ts';

type MemberRef = { value: string; type?: 'User' | 'Group'; display?: string };
type Resolved = { id: string; type: 'User' | 'Group'; display?: string };

export interface MemberDelta {
  added: string[];
  removed: string[];
  cleared: boolean;
}

/**
 * Resolves member references to resources of this tenant. Unknown ids, ids of another tenant
 * and malformed ids are a 400 — never stored.
 */
async function resolveMembers(tx: Tx, tenantId: string, refs: MemberRef[]): Promise<Resolved[]> {
  const ids = [...new Set(refs.map((r) => r.value.toLowerCase()))];
  const bad = ids.filter((id) => !isUuid(id));
  if (bad.length)
    throw badRequest(
      'invalidValue',
      `member ids are not resource ids: ${bad.slice(0, 5).join(', ')}`,
    );
  if (ids.length === 0) return [];
  const rows = await tx.execute<{ id: string; type: 'User' | 'Group' }>(sql`
    select id, 'User' as type from users where tenant_id = ${tenantId} and id = any(${uuids(ids)})
    union all
    select id, 'Group' as type from groups where tenant_id = ${tenantId} and id = any(${uuids(ids)})`);
  const found = new Map(rows.map((r) => [r.id, r.type]));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length)
    throw badRequest('invalidValue', `unknown members: ${missing.slice(0, 5).join(', ')}`);
  for (const r of refs) {
    const type = found.get(r.value.toLowerCase());
    if (r.type && type && r.type.toLowerCase() !== type.toLowerCase()) {
      throw badRequest('invalidValue', `member ${r.value} is a ${type}, not a ${r.type}`);
    }
  }
  const labels = new Map(
    refs.filter((r) => r.display).map((r) => [r.value.toLowerCase(), r.display]),
  );
  return ids.map((id) => ({
    id,
    type: found.get(id) as 'User' | 'Group',
    display: labels.get(id),
  }));
}

/** Rejects adding groups that contain (directly or through nesting) the target group. */
async function rejectCycles(tx: Tx, groupId: string, members: Resolved[]): Promise<void> {
  const groupIds = members.filter((m) => m.type === 'Group').map((m) => m.id);
  if (groupIds.length === 0) return;
  if (groupIds.includes(groupId))
    throw badRequest('invalidValue', 'a group cannot be a member of itself');
  const rows = await tx.execute(sql`with recursive sub(id, depth) as (
      select unnest(${uuids(groupIds)}), 1
      union
      select gm.member_id, sub.depth + 1 from group_members gm
        join sub on gm.group_id = sub.id where gm.member_type = 'Group' and sub.depth < 64)
    select 1 from sub where id = ${groupId} limit 1`);
  if (rows.length)
    throw badRequest('invalidValue', 'adding these members would create a group cycle');
}

async function insertMembers(
  tx: Tx,
  tenantId: string,
  groupId: string,
  members: Resolved[],
): Promise<string[]> {
  if (members.length === 0) return [];
  const rows = await tx.execute<{ member_id: string }>(sql`
    insert into group_members (tenant_id, group_id, member_id, member_type, display)
    select ${tenantId}, ${groupId}, m.id, m.type, m.display
    from jsonb_to_recordset(${JSON.stringify(members)}::jsonb) as m(id uuid, type text, display text)
    on conflict do nothing returning member_id`);
  return rows.map((r) => r.member_id);
}

async function deleteMembers(
  tx: Tx,
  tenantId: string,
  groupId: string,
  ids: string[] | 'all',
): Promise<string[]> {
  const which = ids === 'all' ? sql`` : sql` and member_id = any(${uuids(ids.filter(isUuid))})`;
  const rows = await tx.execute<{ member_id: string }>(sql`delete from group_members
    where tenant_id = ${tenantId} and group_id = ${groupId}${which} returning member_id`);
  return rows.map((r) => r.member_id);
}

/**
 * Applies member changes in order. Cost is O(changed members): the group's existing
 * membership is never read, except by `replace`/`clear`, which by definition touch it all.
 */
export async function applyMemberChanges(
  tx: Tx,
  tenantId: string,
  groupId: string,
  changes: MemberChange[],
): Promise<MemberDelta> {
  const delta: MemberDelta = { added: [], removed: [], cleared: false };
  for (const ch of changes) {
    if (ch.kind === 'clear' || ch.kind === 'replace') {
      const resolved = ch.kind === 'replace' ? await resolveMembers(tx, tenantId, ch.members) : [];
      await rejectCycles(tx, groupId, resolved);
      delta.removed.push(...(await deleteMembers(tx, tenantId, groupId, 'all')));
      delta.cleared = true;
      delta.added.push(...(await insertMembers(tx, tenantId, groupId, resolved)));
    } else if (ch.kind === 'add') {
      const resolved = await resolveMembers(tx, tenantId, ch.members);
      await rejectCycles(tx, groupId, resolved);
      delta.added.push(...(await insertMembers(tx, tenantId, groupId, resolved)));
    } else {
      delta.removed.push(
        ...(await deleteMembers(
          tx,
          tenantId,
          groupId,
          ch.ids.map((i) => i.toLowerCase()),
        )),
      );
    }
  }
  return delta;
}
