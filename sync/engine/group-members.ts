/**
 * The second pass of a group sync (groups.ts): member DNs → hub users (this data source's
 * account links, one query per page) or hub groups (the DN map of the first pass), then only
 * the difference to the stored membership is written, one group per savepoint, through the
 * SCIM member machinery (unknown ids and cycles refused), with a version bump, outbox row and
 * audit. Also the state both passes share and the outbox/audit of one written group.
 */
import { sql } from 'drizzle-orm';
import { normalizeDn } from '../../agent/connectors/ldap/dn.ts';
import type { Entry } from '../../agent/protocol.ts';
import { recordAudit } from '../../api/identity/audit.ts';
import type { Database, Tx } from '../../db/client.ts';
import { ScimError } from '../../scim/errors.ts';
import { groupKind } from '../../scim/schemas/index.ts';
import { memberCounts, memberDetail } from '../../scim/service.ts';
import { uuids } from '../../scim/store/keys.ts';
import { applyMemberChanges } from '../../scim/store/members.ts';
import { recordChange } from '../../scim/store/outbox.ts';
import { touchResource } from '../../scim/store/resources.ts';
import type { MemberChange } from '../../scim/store/types.ts';
import { anchorOf } from '../mapping/index.ts';
import type { DirectoryKind } from './settings.ts';
import type { EntryError, PageContext } from './users.ts';

export interface GroupCounts {
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  membersAdded: number;
  membersRemoved: number;
  /** Member DNs that are neither an imported user nor a group of this pass (skipped). */
  unresolved: number;
}

/** A group of this pass: its hub id (a random one for a group a dry run would create). */
export interface Known {
  id: string;
  dn: string;
}

export interface Pass {
  ctx: PageContext;
  source: string;
  directory: DirectoryKind;
  byAnchor: Map<string, Known>;
  /** dnKey(group DN) → hub group id. */
  byDn: Map<string, string>;
  /** Hub group id → what this run did to it. */
  state: Map<string, 'created' | 'updated'>;
  counts: GroupCounts;
  errors: EntryError[];
  fail(entry: string, reason: string): void;
}

export const json = (v: unknown) => JSON.stringify(v);

/** DN comparison keys: RFC 4514-normalised and lower-cased, plus the plain lower-cased text. */
export function dnKeys(dn: string): string[] {
  const plain = dn.toLowerCase();
  try {
    const normal = normalizeDn(dn).toLowerCase();
    return normal === plain ? [plain] : [normal, plain];
  } catch {
    return [plain];
  }
}
export const dnKey = (dn: string) => dnKeys(dn)[0] as string;

/** Text values of an attribute, its name matched case-insensitively (LDAP names are). */
export function texts(entry: Entry, name: string): string[] {
  const out: string[] = [];
  for (const [k, values] of Object.entries(entry.attributes)) {
    if (k.toLowerCase() !== name.toLowerCase()) continue;
    for (const v of values) if (typeof v === 'string') out.push(v);
  }
  return out;
}

/** The outbox row and audit of one written group, in the write's transaction. */
export async function changed(
  tx: Tx,
  p: Pass,
  c: {
    id: string;
    version: number;
    dn: string;
    operation: 'create' | 'update';
    detail?: Record<string, unknown>;
    summary?: Record<string, unknown>;
  },
): Promise<void> {
  const { tenantId, runId } = p.ctx;
  await recordChange(tx, {
    tenantId,
    resourceType: groupKind.type.name,
    resourceId: c.id,
    version: c.version,
    operation: c.operation,
    detail: { ...c.detail, source: p.source, runId },
  });
  await recordAudit(tx, {
    tenantId,
    actor: p.ctx.actor,
    action: c.operation === 'create' ? 'syncRun.groupCreate' : 'syncRun.groupUpdate',
    targetType: groupKind.type.name,
    targetId: c.id,
    summary: { dn: c.dn, runId, ...c.summary },
  });
}

type Want = { g: string; m: string; t: 'User' | 'Group' };
type Diff = { g: string; m: string; t: 'User' | 'Group' | null; op: 'add' | 'remove' };

/** Member DN keys → hub user ids, through this data source's account links (one query). */
async function usersByDn(p: Pass, keys: string[]): Promise<Map<string, string>> {
  if (!keys.length) return new Map();
  const rows = await p.ctx.db.execute<{ k: string; user_id: string }>(sql`
    select distinct on (k.v) k.v as k, a.user_id
    from jsonb_array_elements_text(${json(keys)}::jsonb) as k(v)
      join accounts a on lower(a.dn) = k.v
    where a.tenant_id = ${p.ctx.tenantId} and a.system_id = ${p.ctx.systemId}
    order by k.v, a.state = 'missing', a.updated_at desc`);
  return new Map(rows.map((r) => [r.k, r.user_id]));
}

/** What to add to and remove from each group so it holds exactly `want` (set-based). */
async function memberDiff(
  db: Database | Tx,
  tenantId: string,
  groupIds: string[],
  want: Want[],
): Promise<Diff[]> {
  return db.execute<Diff>(sql`
    with want as (
      select distinct g, m, t from jsonb_to_recordset(${json(want)}::jsonb) as x(g uuid, m uuid, t text)
    ), cur as (
      select group_id as g, member_id as m from group_members
      where tenant_id = ${tenantId} and group_id = any(${uuids(groupIds)})
    )
    select w.g, w.m, w.t, 'add' as op from want w
      where not exists (select 1 from cur c where c.g = w.g and c.m = w.m)
    union all
    select c.g, c.m, null, 'remove' from cur c
      where not exists (select 1 from want w where w.g = c.g and w.m = c.m)`);
}

/** The page's groups with the member set the directory gives each. */
async function resolvePage(p: Pass, entries: Entry[]): Promise<{ groups: Known[]; want: Want[] }> {
  const groups: Known[] = [];
  const lists: string[][] = [];
  for (const entry of entries) {
    let anchor: string | undefined;
    try {
      anchor = anchorOf(entry, p.directory);
    } catch {
      anchor = undefined; // reported by the first pass
    }
    const g = anchor === undefined ? undefined : p.byAnchor.get(anchor);
    if (!g || groups.includes(g)) continue;
    groups.push(g);
    lists.push(texts(entry, 'member'));
  }
  const userKeys = new Set<string>();
  for (const list of lists) {
    for (const dn of list) {
      const keys = dnKeys(dn);
      if (!p.byDn.has(keys[0] as string)) for (const k of keys) userKeys.add(k);
    }
  }
  const users = await usersByDn(p, [...userKeys]);
  const want: Want[] = [];
  groups.forEach((g, i) => {
    for (const dn of lists[i] ?? []) {
      const keys = dnKeys(dn);
      const group = p.byDn.get(keys[0] as string);
      const user = group ? undefined : keys.map((k) => users.get(k)).find(Boolean);
      if (group) want.push({ g: g.id, m: group, t: 'Group' });
      else if (user) want.push({ g: g.id, m: user, t: 'User' });
      else p.counts.unresolved++;
    }
  });
  return { groups, want };
}

/** One page of groups with their members: locks them, diffs, writes what changed (a dry run counts). */
export async function applyMembers(p: Pass, entries: Entry[]): Promise<void> {
  const { db, tenantId } = p.ctx;
  const { groups, want } = await resolvePage(p, entries);
  if (!groups.length) return;
  const ids = groups.map((g) => g.id);
  if (p.ctx.dryRun) {
    for (const d of await memberDiff(db, tenantId, ids, want)) {
      if (d.op === 'add') p.counts.membersAdded++;
      else p.counts.membersRemoved++;
      if (!p.state.has(d.g)) p.state.set(d.g, 'updated');
    }
    return;
  }
  await db.transaction(async (tx) => {
    // Row locks first (in id order), so the difference is computed against what commits.
    await tx.execute(sql`select id from groups where tenant_id = ${tenantId}
      and id = any(${uuids(ids)}) order by id for update`);
    const diff = await memberDiff(tx, tenantId, ids, want);
    for (const g of groups) {
      const mine = diff.filter((d) => d.g === g.id);
      if (mine.length) await writeMembers(tx, p, g, mine);
    }
  });
}

/** One group's member changes in a savepoint: a cycle or a vanished member fails only it. */
async function writeMembers(tx: Tx, p: Pass, g: Known, diff: Diff[]): Promise<void> {
  const { tenantId } = p.ctx;
  const removed = diff.filter((d) => d.op === 'remove').map((d) => d.m);
  const added = diff
    .filter((d) => d.op === 'add')
    .map((d) => ({ value: d.m, type: d.t ?? undefined }));
  const changes: MemberChange[] = [];
  if (removed.length) changes.push({ kind: 'remove', ids: removed });
  if (added.length) changes.push({ kind: 'add', members: added });
  try {
    const { delta, row } = await tx.transaction(async (t) => {
      const delta = await applyMemberChanges(t, tenantId, g.id, changes);
      return { delta, row: await touchResource(t, 'groups', tenantId, g.id) };
    });
    p.counts.membersAdded += delta.added.length;
    p.counts.membersRemoved += delta.removed.length;
    if (!p.state.has(g.id)) p.state.set(g.id, 'updated');
    await changed(tx, p, {
      id: g.id,
      version: row.version,
      dn: g.dn,
      operation: 'update',
      detail: memberDetail(delta),
      summary: memberCounts(delta),
    });
  } catch (e) {
    if (!(e instanceof ScimError)) throw e;
    p.fail(g.dn, `members not updated: ${e.detail}`);
  }
}
