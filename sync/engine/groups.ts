/**
 * Directory groups (groupOfNames / AD group) → SCIM groups, after a run's users. The selected
 * groups are read twice, both times paged:
 * 1. names + anchors: create, correlate or rename hub groups. Identity is the anchor, stored as
 *    groups.source = `ldap:<data source>` + groups.external_id; an unlinked group correlates to
 *    a hub group of the same displayName that has no directory link. This pass also builds the
 *    DN → group map nested members resolve through (O(groups), never their members).
 * 2. members + anchors (group-members.ts): member DNs → hub users (accounts.dn of this data
 *    source, one query per page) or hub groups (the map); only the difference to the stored
 *    membership is written, through the SCIM member machinery (cycles refused), with a version
 *    bump, outbox row and audit.
 * Groups are always read in full, so a delta run of users still sees every membership. The
 * directory owns a linked group's displayName and members. Unchanged groups cost no write; a
 * dry run writes nothing. The Group schema has no description, so none is read.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { sql } from 'drizzle-orm';
import { parseDn } from '../../agent/connectors/ldap/dn.ts';
import { type Entry, MAX_PAGE_SIZE } from '../../agent/protocol.ts';
import { changedAttributes, recordAudit } from '../../api/identity/audit.ts';
import { textArray } from '../../db/arrays.ts';
import type { Tx } from '../../db/client.ts';
import type { ScimDoc } from '../../db/schema/index.ts';
import { ScimError } from '../../scim/errors.ts';
import { normalizeResource } from '../../scim/resource/normalize.ts';
import { groupKind, SCHEMA } from '../../scim/schemas/index.ts';
import { nameKey } from '../../scim/store/keys.ts';
import { columns, updateResource } from '../../scim/store/resources.ts';
import { anchorOf, MappingError } from '../mapping/index.ts';
import type { Search } from './directory.ts';
import {
  applyMembers,
  changed,
  dnKey,
  type GroupCounts,
  json,
  type Pass,
  texts,
} from './group-members.ts';
import { anchorAttribute, type DirectoryKind, type SyncOptions } from './settings.ts';
import type { EntryError, PageContext } from './users.ts';

export type { GroupCounts };

export type GroupOptions = NonNullable<SyncOptions['groups']>;

export interface GroupSyncResult {
  counts: GroupCounts;
  errors: EntryError[];
}

/** The filter that selects groups when the job's group options have none. */
export const defaultGroupFilter = (d: DirectoryKind) =>
  d === 'activeDirectory' ? '(objectClass=group)' : '(objectClass=groupOfNames)';

/** The group's name: the cn of its RDN when it has one, else its first cn. */
function displayNameOf(entry: Entry): string | undefined {
  const names = texts(entry, 'cn').filter((n) => n.trim() !== '');
  let rdnCn: string | undefined;
  try {
    rdnCn = parseDn(entry.id)[0]?.find((a) => a.type.toLowerCase() === 'cn')?.value;
  } catch {
    rdnCn = undefined;
  }
  const key = rdnCn === undefined ? undefined : nameKey(rdnCn);
  return names.find((n) => nameKey(n) === key) ?? names[0];
}

/**
 * Reads the job's groups and brings the hub's groups and memberships in line with them.
 * Per-entry problems (no anchor, a displayName clash, a cycle) are errors of the run, never
 * a crash; a failed read throws (nothing is half-applied beyond committed pages).
 */
export async function syncGroups(
  ctx: PageContext,
  search: Search,
  opts: GroupOptions,
): Promise<GroupSyncResult> {
  const directory = ctx.settings.options.directory;
  const p: Pass = {
    ctx,
    source: `ldap:${ctx.systemId}`,
    directory,
    byAnchor: new Map(),
    byDn: new Map(),
    state: new Map(),
    counts: {
      read: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      failed: 0,
      membersAdded: 0,
      membersRemoved: 0,
      unresolved: 0,
    },
    errors: [],
    fail(entry, reason) {
      this.counts.failed++;
      this.errors.push({ entry, reason });
    },
  };
  const read = (attribute: string, pageSize: number) =>
    search({
      base: opts.baseDn ?? ctx.baseDn,
      scope: opts.scope,
      filter: opts.filter ?? defaultGroupFilter(directory),
      attributes: [attribute, anchorAttribute(directory)],
      pageSize: Math.min(pageSize, MAX_PAGE_SIZE),
    });
  for await (const page of read('cn', ctx.settings.options.pageSize)) {
    p.counts.read += page.length;
    await applyNames(p, page);
  }
  // Member lists can be long: smaller pages bound what is held at once.
  for await (const page of read('member', Math.min(ctx.settings.options.pageSize, 100))) {
    await applyMembers(p, page);
  }
  const values = [...p.state.values()];
  p.counts.created = values.filter((s) => s === 'created').length;
  p.counts.updated = values.filter((s) => s === 'updated').length;
  p.counts.unchanged = p.byAnchor.size - p.state.size;
  if (!ctx.dryRun) {
    await ctx.db.transaction((tx) =>
      recordAudit(tx, {
        tenantId: ctx.tenantId,
        actor: ctx.actor,
        action: 'syncRun.groups',
        targetType: 'SyncRun',
        targetId: ctx.runId,
        summary: { ...p.counts },
      }),
    );
  }
  return { counts: p.counts, errors: p.errors };
}

// ——— pass 1: names ———

interface Wanted {
  dn: string;
  anchor: string;
  name: string;
  /** The mapped document: displayName and externalId (the anchor). */
  doc: ScimDoc;
}

function prepare(p: Pass, entry: Entry): Wanted | undefined {
  try {
    const anchor = anchorOf(entry, p.directory);
    if (!anchor) {
      p.fail(entry.id, `the group has no ${anchorAttribute(p.directory)} to anchor its link`);
      return undefined;
    }
    const name = displayNameOf(entry);
    if (name === undefined) {
      p.fail(entry.id, 'the group has no cn to take its displayName from');
      return undefined;
    }
    const body = { schemas: [SCHEMA.group], displayName: name, externalId: anchor };
    const { doc } = normalizeResource(groupKind, body, 'create');
    return { dn: entry.id, anchor, name, doc };
  } catch (e) {
    if (e instanceof MappingError || e instanceof ScimError) {
      p.fail(entry.id, e instanceof ScimError ? e.detail : e.message);
      return undefined;
    }
    throw e;
  }
}

type HubGroup = { id: string; doc: ScimDoc; key: string; external_id: string | null };
/** linked: the group has a directory link (its own or another entry's / data source's). */
type Namesake = HubGroup & { linked: boolean };

interface Update {
  w: Wanted;
  id: string;
  before: ScimDoc;
  doc: ScimDoc;
  /** A correlated group: the link is written with the document. */
  link: boolean;
}

function remember(p: Pass, w: Wanted, id: string): void {
  p.byAnchor.set(w.anchor, { id, dn: w.dn });
  p.byDn.set(dnKey(w.dn), id);
}

async function applyNames(p: Pass, entries: Entry[]): Promise<void> {
  const { db, tenantId } = p.ctx;
  const wanted: Wanted[] = [];
  for (const entry of entries) {
    const w = prepare(p, entry);
    if (w && !p.byAnchor.has(w.anchor) && !wanted.some((x) => x.anchor === w.anchor)) {
      wanted.push(w);
    }
  }
  if (!wanted.length) return;
  const linked = await db.execute<HubGroup>(sql`
    select id, doc, display_name_key as key, external_id from groups
    where tenant_id = ${tenantId} and source = ${p.source}
      and external_id = any(${textArray(wanted.map((w) => w.anchor))})`);
  const byAnchor = new Map(linked.map((g) => [g.external_id as string, g]));
  const unlinked = wanted.filter((w) => !byAnchor.has(w.anchor));
  const namesakes = unlinked.length
    ? await db.execute<Namesake>(sql`
        select id, doc, display_name_key as key, external_id,
          (external_id is not null and source like 'ldap:%') as linked
        from groups where tenant_id = ${tenantId}
          and display_name_key = any(${textArray(unlinked.map((w) => nameKey(w.name)))})`)
    : [];
  const byName = new Map(namesakes.map((g) => [g.key, g]));

  const creates: Wanted[] = [];
  const updates: Update[] = [];
  const claimed = new Set<string>();
  for (const w of wanted) {
    const own = byAnchor.get(w.anchor);
    const namesake = own ? undefined : byName.get(nameKey(w.name));
    const match = own ?? namesake;
    if (!match) {
      creates.push(w);
      continue;
    }
    if (namesake && (namesake.linked || claimed.has(namesake.id))) {
      p.fail(w.dn, `displayName "${w.name}" is taken by a group linked to another directory entry`);
      continue;
    }
    claimed.add(match.id);
    remember(p, w, match.id);
    const doc = { ...match.doc, ...w.doc };
    if (!own || !isDeepStrictEqual(doc, match.doc)) {
      updates.push({ w, id: match.id, before: match.doc, doc, link: !own });
    }
  }

  if (p.ctx.dryRun) {
    for (const w of creates) {
      const id = randomUUID();
      remember(p, w, id);
      p.state.set(id, 'created');
    }
    for (const u of updates) p.state.set(u.id, 'updated');
    return;
  }
  await db.transaction(async (tx) => {
    await insertGroups(tx, p, creates);
    for (const u of updates) await updateGroup(tx, p, u);
  });
}

/** One INSERT for the page; a displayName taken meanwhile fails the entry. */
async function insertGroups(tx: Tx, p: Pass, creates: Wanted[]): Promise<void> {
  if (!creates.length) return;
  const rows = creates.map((w) => ({ ...columns('groups', w.doc), doc: w.doc }));
  const inserted = await tx.execute<{ id: string; external_id: string; version: number }>(sql`
    insert into groups (tenant_id, doc, display_name, display_name_key, external_id, source)
    select ${p.ctx.tenantId}::uuid, doc, display_name, display_name_key, external_id, ${p.source}
    from jsonb_to_recordset(${json(rows)}::jsonb) as x(doc jsonb, display_name text,
      display_name_key text, external_id text)
    on conflict do nothing
    returning id, external_id, version`);
  const byAnchor = new Map(inserted.map((r) => [r.external_id, r]));
  for (const w of creates) {
    const r = byAnchor.get(w.anchor);
    if (!r) {
      p.fail(w.dn, `displayName "${w.name}" is already taken by another group`);
      continue;
    }
    remember(p, w, r.id);
    p.state.set(r.id, 'created');
    await changed(tx, p, { id: r.id, version: r.version, dn: w.dn, operation: 'create' });
  }
}

/** Renames (or links) one group in a savepoint: a displayName clash fails only that entry. */
async function updateGroup(tx: Tx, p: Pass, u: Update): Promise<void> {
  const { tenantId } = p.ctx;
  try {
    const row = await tx.transaction(async (t) => {
      const r = await updateResource(t, 'groups', tenantId, u.id, u.doc);
      if (u.link) {
        await t.execute(sql`update groups set source = ${p.source}
          where tenant_id = ${tenantId} and id = ${u.id}`);
      }
      return r;
    });
    p.state.set(u.id, 'updated');
    await changed(tx, p, {
      id: row.id,
      version: row.version,
      dn: u.w.dn,
      operation: 'update',
      summary: { attributes: changedAttributes(u.before, u.doc), linked: u.link || undefined },
    });
  } catch (e) {
    if (!(e instanceof ScimError)) throw e;
    p.fail(u.w.dn, `displayName "${u.w.name}" is already taken by another group`);
    // A correlation that failed leaves the hub group unlinked: its members are not ours.
    if (u.link) {
      p.byAnchor.delete(u.w.anchor);
      p.byDn.delete(dnKey(u.w.dn));
    }
  }
}
