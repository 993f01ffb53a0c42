/**
 * One page of directory entries → hub users, set-based: a page costs a handful of statements
 * whatever its size, in one transaction with its outbox rows, audit rows, account links and
 * the run's counters (so the counters never claim more than what was applied).
 *
 * Per entry: map (pure) → anchor → correlate (account link by anchor first; otherwise the
 * configured attribute, which then creates the link) → compare the stored state hash → write
 * only what changed. A rename or move keeps the anchor, so it updates the same user.
 * Deactivation goes through the identity model's cascade (credentials, certificates, roles).
 */
import { sql } from 'drizzle-orm';
import type { Entry } from '../../agent/protocol.ts';
import { type Actor, type AuditEntry, recordAudits } from '../../api/identity/audit.ts';
import { deactivateUsers, reactivateUser } from '../../api/identity/cascade.ts';
import { textArray, uuidArray } from '../../db/arrays.ts';
import type { Database, Tx } from '../../db/client.ts';
import type { ScimDoc, SyncJobKind } from '../../db/schema/index.ts';
import { pgCode } from '../../scim/render.ts';
import { isObject } from '../../scim/resource/util.ts';
import { SCHEMA } from '../../scim/schemas/index.ts';
import { nameKey } from '../../scim/store/keys.ts';
import { columns, storedDoc } from '../../scim/store/resources.ts';
import { anchorOf, applyMapping, MappingError } from '../mapping/index.ts';
import type { OrganizationResolver } from './organizations.ts';
import type { JobSettings } from './settings.ts';

export interface PageContext {
  db: Database;
  tenantId: string;
  runId: string;
  /** accounts.system_id of this data source's links. */
  systemId: string;
  kind: SyncJobKind;
  dryRun: boolean;
  baseDn: string;
  settings: JobSettings;
  organizations: OrganizationResolver;
  actor: Actor;
}

export interface PageCounts {
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  deactivated: number;
  failed: number;
  skipped: number;
}

export interface EntryError {
  entry: string;
  reason: string;
}

export interface PageResult {
  counts: PageCounts;
  errors: EntryError[];
}

export const zeroCounts = (): PageCounts => ({
  read: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  deactivated: 0,
  failed: 0,
  skipped: 0,
});

/** An entry ready to apply. */
export interface Candidate {
  dn: string;
  anchor: string;
  /** The mapped document (SCIM-canonical as mapped), organisation excluded. */
  doc: ScimDoc;
  /** Whether the mapping owns the organisation, and the one it gives (null: none). */
  organization: { id: string | null } | undefined;
  active: boolean;
  /** Hash of the mapped attributes; `hash` adds the wanted state (stored on the link). */
  attrHash: string;
  hash: string;
  username: string;
  /** Correlation value (already a key: lower-cased userName, or externalId as is). */
  match: string | undefined;
}

/** Top-level attributes (and extension sub-attributes) a mapping writes: the directory owns them whole. */
export function ownedAttributes(settings: JobSettings): {
  core: Set<string>;
  ext: Map<string, Set<string>>;
} {
  const core = new Set<string>();
  const ext = new Map<string, Set<string>>();
  for (const rule of settings.mapping.rules) {
    const t = rule.target;
    if (t.organization) continue;
    const top = t.docPath[0];
    if (!top) continue;
    if (t.schema === SCHEMA.user) core.add(top);
    else {
      const set = ext.get(t.schema) ?? new Set<string>();
      set.add(top);
      ext.set(t.schema, set);
    }
  }
  core.add('active');
  return { core, ext };
}

/** The current document with every owned attribute replaced by what the directory says now. */
export function mergeDoc(
  current: ScimDoc,
  mapped: ScimDoc,
  owned: ReturnType<typeof ownedAttributes>,
): ScimDoc {
  const out: ScimDoc = { ...current };
  for (const k of owned.core) delete out[k];
  for (const [urn, keys] of owned.ext) {
    const e = out[urn];
    if (!isObject(e)) continue;
    const rest = Object.fromEntries(Object.entries(e).filter(([k]) => !keys.has(k)));
    if (Object.keys(rest).length) out[urn] = rest;
    else delete out[urn];
  }
  for (const [k, v] of Object.entries(mapped)) {
    if (k === 'schemas') continue;
    out[k] = isObject(v) && isObject(out[k]) ? { ...(out[k] as object), ...v } : v;
  }
  const schemas = new Set<string>([SCHEMA.user]);
  for (const k of Object.keys(out)) if (k.startsWith('urn:') && isObject(out[k])) schemas.add(k);
  out.schemas = [...schemas];
  return out;
}

function desiredActive(kind: SyncJobKind, mapped: ScimDoc): boolean {
  if (kind === 'import_active') return true;
  if (kind === 'import_inactive') return false;
  return mapped.active !== false;
}

/** A mapped entry, with what deciding whether it changed needs. */
interface Mapped {
  entry: Entry;
  anchor: string;
  user: ScimDoc;
  organizationPath: string[] | undefined;
  attrHash: string;
  active: boolean;
}

function mapEntries(
  ctx: PageContext,
  entries: Entry[],
  fail: (entry: string, reason: string) => void,
): Mapped[] {
  const out: Mapped[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    try {
      const mapped = applyMapping(ctx.settings.mapping, entry, { baseDn: ctx.baseDn });
      if (!mapped.ok) {
        fail(entry.id, mapped.problems.join('; '));
        continue;
      }
      const anchor = anchorOf(entry, ctx.settings.options.directory);
      if (!anchor) {
        fail(
          entry.id,
          `the entry has no ${ctx.settings.options.directory === 'activeDirectory' ? 'objectGUID' : 'entryUUID'} to anchor its link`,
        );
        continue;
      }
      if (seen.has(anchor)) continue;
      seen.add(anchor);
      out.push({
        entry,
        anchor,
        user: mapped.user,
        organizationPath: mapped.organizationPath,
        attrHash: mapped.hash,
        active: desiredActive(ctx.kind, mapped.user),
      });
    } catch (e) {
      if (e instanceof MappingError) fail(entry.id, e.message);
      else throw e;
    }
  }
  return out;
}

/**
 * A mapped entry as a candidate for writing. The mapping's output is already what SCIM
 * normalisation would make of it (targets resolved against the schemas, typed non-empty values,
 * at most one primary: sync/mapping/canonical.test.ts), so it is not normalised again.
 */
async function toCandidate(ctx: PageContext, m: Mapped, hasOrgRule: boolean): Promise<Candidate> {
  const doc: ScimDoc = m.user;
  doc.active = m.active;
  let organization: Candidate['organization'];
  if (hasOrgRule && ctx.settings.options.organizations) {
    organization = { id: await ctx.organizations.resolve(m.organizationPath ?? []) };
  }
  const userName = String(doc.userName);
  const match =
    ctx.settings.correlation.attribute === 'userName'
      ? nameKey(userName)
      : ctx.settings.correlation.attribute === 'externalId' && typeof doc.externalId === 'string'
        ? doc.externalId
        : undefined;
  return {
    dn: m.entry.id,
    anchor: m.anchor,
    doc,
    organization,
    active: m.active,
    attrHash: m.attrHash,
    hash: `${m.attrHash}:${m.active ? 1 : 0}`,
    username: userName,
    match,
  };
}

/** Whether a linked entry needs nothing: same attributes, same DN, same state. */
const unchangedLink = (link: Linked, m: Mapped) =>
  link.state_hash === `${m.attrHash}:${m.active ? 1 : 0}` &&
  link.dn === m.entry.id &&
  link.active === m.active;

type Linked = {
  account_id: string;
  external_key: string;
  user_id: string;
  state_hash: string | null;
  dn: string | null;
  active: boolean;
};

type Matched = {
  key: string;
  user_id: string;
  active: boolean;
  /** The anchor of this user's link to another entry of the same source, if any. */
  linked_key: string | null;
};

const json = (v: unknown) => JSON.stringify(v);

async function linkedAccounts(ctx: PageContext, anchors: string[]): Promise<Map<string, Linked>> {
  const rows = await ctx.db.execute<Linked>(sql`
    select a.id as account_id, a.external_key, a.user_id, a.state_hash, a.dn, u.active
    from accounts a join users u on u.id = a.user_id
    where a.tenant_id = ${ctx.tenantId} and a.system_id = ${ctx.systemId}
      and a.external_key = any(${textArray(anchors)})`);
  return new Map(rows.map((r) => [r.external_key, r]));
}

async function correlate(ctx: PageContext, keys: string[]): Promise<Map<string, Matched>> {
  if (!keys.length || ctx.settings.correlation.attribute === 'none') return new Map();
  const column =
    ctx.settings.correlation.attribute === 'userName' ? sql`u.user_name_key` : sql`u.external_id`;
  const rows = await ctx.db.execute<Matched>(sql`
    select ${column} as key, u.id as user_id, u.active,
      (select a.external_key from accounts a where a.tenant_id = u.tenant_id and a.user_id = u.id
         and a.system_id = ${ctx.systemId} limit 1) as linked_key
    from users u
    where u.tenant_id = ${ctx.tenantId}
      and ${column} = any(${textArray(keys)})`);
  const out = new Map<string, Matched>();
  for (const r of rows) if (!out.has(r.key)) out.set(r.key, r);
  return out;
}

interface Planned {
  c: Candidate;
  /** Existing user (update) or undefined (create). */
  userId?: string;
  currentActive?: boolean;
  /** The link exists (by anchor) or must be created. */
  accountExists: boolean;
  /** The user's attributes (or its link's DN) changed: its document is written. A change of
   * state alone goes through the cascade only. */
  docWrite: boolean;
}

/** A page mapped and validated, not yet compared with the hub (the CPU half of a page). */
export interface PreparedPage {
  /** Entries to create or update. */
  candidates: Candidate[];
  counts: PageCounts;
  errors: EntryError[];
  /** Links of this page's anchors, as found when it was prepared. */
  linked: Map<string, Linked>;
  /** Linked entries with nothing to change (reconcile marks them seen). */
  unchangedAccounts: string[];
}

/**
 * The CPU half of a page: map, anchor, look up links. It writes no user or link, so the run
 * prepares the next page while the previous one is written (it yields to the event loop as
 * it goes, so that write keeps moving).
 */
export async function prepareUserPage(ctx: PageContext, entries: Entry[]): Promise<PreparedPage> {
  const counts = zeroCounts();
  counts.read = entries.length;
  const errors: EntryError[] = [];
  const fail = (entry: string, reason: string) => {
    counts.failed++;
    errors.push({ entry, reason });
  };
  const mapped = mapEntries(ctx, entries, fail);
  counts.skipped = entries.length - mapped.length - counts.failed;
  // Anchors are unique in a read, so an earlier page still being written cannot link these.
  const linked = await linkedAccounts(
    ctx,
    mapped.map((m) => m.anchor),
  );
  const hasOrgRule = ctx.settings.mapping.rules.some((r) => r.target.organization);
  const candidates: Candidate[] = [];
  const unchanged: string[] = [];
  let n = 0;
  for (const m of mapped) {
    const link = linked.get(m.anchor);
    if (link && unchangedLink(link, m)) {
      unchanged.push(link.account_id);
      continue;
    }
    // Let the previous page's statements go on between slices of this CPU work.
    if (++n % 100 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    candidates.push(await toCandidate(ctx, m, hasOrgRule));
  }
  counts.unchanged = unchanged.length;
  return { candidates, counts, errors, linked, unchangedAccounts: unchanged };
}

/** Applies one page; returns what it did (or, in a dry run, what it would do). */
export async function applyUserPage(ctx: PageContext, entries: Entry[]): Promise<PageResult> {
  return applyPreparedPage(ctx, await prepareUserPage(ctx, entries));
}

/** Plans and writes a prepared page. */
export async function applyPreparedPage(ctx: PageContext, page: PreparedPage): Promise<PageResult> {
  return writePlan(ctx, await planPage(ctx, page));
}

/** What a page will do, decided against the hub's current state (nothing written yet). */
export interface PagePlan {
  page: PreparedPage;
  creates: Planned[];
  updates: Planned[];
  /** Entries refused by correlation (an identity already linked to another entry). */
  refused: EntryError[];
  /**
   * It links existing users found by attribute: such a page is planned and written only after
   * every earlier page's write has committed, so two pages never link one identity twice.
   */
  correlates: boolean;
}

/** Correlates a prepared page against the hub and decides creates and updates (no writes). */
export async function planPage(ctx: PageContext, page: PreparedPage): Promise<PagePlan> {
  const { candidates, linked } = page;
  const refused: EntryError[] = [];
  const unlinked = candidates.filter((c) => !linked.has(c.anchor));
  const matches = await correlate(
    ctx,
    unlinked.flatMap((c) => (c.match === undefined ? [] : [c.match])),
  );
  const creates: Planned[] = [];
  const updates: Planned[] = [];
  const claimed = new Set<string>();
  for (const c of candidates) {
    const link = linked.get(c.anchor);
    if (link) {
      // Linked and not unchanged (prepareUserPage kept those out): attributes, DN or state.
      const docWrite = link.state_hash?.split(':')[0] !== c.attrHash || link.dn !== c.dn;
      updates.push({
        c,
        userId: link.user_id,
        currentActive: link.active,
        accountExists: true,
        docWrite,
      });
      claimed.add(link.user_id);
      continue;
    }
    const m = c.match === undefined ? undefined : matches.get(c.match);
    if (m) {
      if (m.linked_key !== null || claimed.has(m.user_id)) {
        refused.push({
          entry: c.dn,
          reason: `user "${c.username}" is already linked to another entry of this data source${m.linked_key ? ` (anchor ${m.linked_key})` : ''}; not overwritten`,
        });
        continue;
      }
      claimed.add(m.user_id);
      updates.push({
        c,
        userId: m.user_id,
        currentActive: m.active,
        accountExists: false,
        docWrite: true,
      });
    } else creates.push({ c, accountExists: false, docWrite: true });
  }
  return {
    page,
    creates,
    updates,
    refused,
    correlates: updates.some((u) => !u.accountExists),
  };
}

/** Writes a planned page in one transaction (or, in a dry run, only counts it). */
export async function writePlan(ctx: PageContext, plan: PagePlan): Promise<PageResult> {
  const { creates, updates, page } = plan;
  const { candidates, counts, errors, linked, unchangedAccounts } = page;
  const fail = (entry: string, reason: string) => {
    counts.failed++;
    errors.push({ entry, reason });
  };
  for (const r of plan.refused) fail(r.entry, r.reason);

  if (ctx.dryRun) {
    counts.created = creates.length;
    counts.updated = updates.filter((p) => p.docWrite).length;
    counts.deactivated = updates.filter((p) => p.currentActive && !p.c.active).length;
    // Seeing an entry is an observation, not a change: a dry reconcile needs it to tell which
    // linked entries are gone.
    if (ctx.kind === 'reconcile') {
      const seen = candidates.flatMap((c) => {
        const link = linked.get(c.anchor);
        return link ? [link.account_id] : [];
      });
      await markSeen(ctx.db, ctx.runId, [...unchangedAccounts, ...seen]);
    }
    return { counts, errors };
  }

  await ctx.db.transaction(async (tx) => {
    const written = await writeUsers(tx, ctx, creates, updates, fail);
    counts.created = written.created;
    counts.updated = written.updated;
    counts.deactivated = written.deactivated;
    if (ctx.kind === 'reconcile') await markSeen(tx, ctx.runId, unchangedAccounts);
  });
  return { counts, errors };
}

/** Records that a run saw these linked accounts (reconcile tells the missing ones by it). */
async function markSeen(db: Database | Tx, runId: string, accountIds: string[]): Promise<void> {
  if (!accountIds.length) return;
  await db.execute(sql`update accounts set last_seen_run = ${runId}, last_seen_at = now()
    where id = any(${uuidArray(accountIds)})`);
}

type UserRow = {
  id: string;
  doc: ScimDoc;
  organization_id: string | null;
  active: boolean;
};

const withOrg = (p: Planned, current: string | null): string | null =>
  p.c.organization ? p.c.organization.id : current;

/** An account link written again for the same entry (anchor) takes the entry's current state. */
const LINK_UPSERT = sql`on conflict (tenant_id, system_id, external_key) do update set
  user_id = excluded.user_id, dn = excluded.dn, username = excluded.username,
  state = excluded.state, state_hash = excluded.state_hash,
  last_seen_at = excluded.last_seen_at, last_seen_run = excluded.last_seen_run,
  updated_at = now()`;

/** The column projection SCIM uses, from a full document plus the organisation column. */
function rowOf(doc: ScimDoc, organizationId: string | null) {
  const cols = columns('users', doc) as { user_name: string; user_name_key: string } & Record<
    string,
    unknown
  >;
  return { ...cols, organization_id: organizationId, doc: storedDoc('users', doc) };
}

async function writeUsers(
  tx: Tx,
  ctx: PageContext,
  creates: Planned[],
  updates: Planned[],
  fail: (entry: string, reason: string) => void,
): Promise<{ created: number; updated: number; deactivated: number }> {
  const owned = ownedAttributes(ctx.settings);
  const source = ctx.systemId;
  const audits: AuditEntry[] = [];
  const outbox: { id: string; version: number; operation: 'create' | 'update' }[] = [];
  const links: { userId: string; p: Planned }[] = [];
  const toDeactivate: string[] = [];
  const toReactivate: string[] = [];

  // Creates: one statement for the users and their links, outbox rows and audit rows. A
  // userName taken by a user the correlation did not match (or twice in this page) fails the entry.
  let created = 0;
  if (creates.length) {
    const keys = new Set<string>();
    const rows = creates.flatMap((p) => {
      // A new user starts in its final state only when that is active; an inactive one is
      // created active-less (no credentials or roles yet), so no cascade is needed.
      const r = rowOf(p.c.doc, p.c.organization?.id ?? null);
      const key = String(r.user_name_key);
      if (keys.has(key)) {
        fail(p.c.dn, `userName "${p.c.username}" is taken by another entry of this read`);
        return [];
      }
      keys.add(key);
      return [
        {
          ...r,
          entry: p.c.anchor,
          dn: p.c.dn,
          username: p.c.username,
          state: p.c.active ? 'active' : 'disabled',
          state_hash: p.c.hash,
        },
      ];
    });
    const inserted = await tx.execute<{ id: string; entry: string }>(sql`
      with input as (
        select * from jsonb_to_recordset(${json(rows)}::jsonb) as x(
          entry text, doc jsonb, user_name text, user_name_key text, external_id text,
          active boolean, display_name text, organization_id uuid, dn text, username text,
          state text, state_hash text)
      ), ins as (
        insert into users (tenant_id, doc, user_name, user_name_key, external_id, active,
          display_name, organization_id, source)
        select ${ctx.tenantId}::uuid, doc, user_name, user_name_key, external_id, active, display_name,
          organization_id, ${`ldap:${source}`} from input
        on conflict (tenant_id, user_name_key) do nothing
        returning id, user_name_key, version
      ), made as (
        select ins.id, ins.version, input.* from ins join input using (user_name_key)
      ), links as (
        insert into accounts (tenant_id, user_id, system_id, external_key, dn, username, state,
          state_hash, last_seen_at, last_seen_run)
        select ${ctx.tenantId}::uuid, id, ${ctx.systemId}, entry, dn, username, state, state_hash,
          now(), ${ctx.runId}::uuid from made
        ${LINK_UPSERT}
        returning 1
      ), changes as (
        insert into outbox (tenant_id, resource_type, resource_id, version, operation, detail)
        select ${ctx.tenantId}::uuid, 'User', id, version, 'create',
          jsonb_build_object('source', ${`ldap:${source}`}::text, 'runId', ${ctx.runId}::text)
        from made
        returning 1
      ), audited as (
        insert into audit_log (tenant_id, actor_type, actor_id, action, target_type, target_id, summary)
        select ${ctx.tenantId}::uuid, ${ctx.actor.type}, ${ctx.actor.id ?? null}::text,
          'syncRun.userCreate', 'User', id::text,
          jsonb_build_object('dn', dn, 'runId', ${ctx.runId}::text)
        from made
        returning 1
      )
      select id, entry from made`);
    const byAnchor = new Map(inserted.map((r) => [r.entry, r]));
    for (const row of rows) {
      if (byAnchor.has(row.entry)) created++;
      else fail(row.dn, `userName "${row.username}" is already taken by another user`);
    }
  }

  // Updates: lock the rows, merge, write in one UPDATE; a userName clash falls back to one by one.
  let updated = 0;
  if (updates.length) {
    const ids = updates.map((p) => p.userId as string);
    const current = await tx.execute<UserRow>(sql`
      select id, doc, organization_id, active from users
      where tenant_id = ${ctx.tenantId}
        and id = any(${uuidArray(ids)})
      order by id for update`);
    const byId = new Map(current.map((r) => [r.id, r]));
    const rows: (ReturnType<typeof rowOf> & { id: string; entry: string })[] = [];
    const planned = new Map<string, Planned>();
    for (const p of updates) {
      const cur = byId.get(p.userId as string);
      if (!cur) {
        fail(p.c.dn, 'the linked user was deleted meanwhile; the next run creates it again');
        continue;
      }
      // Activation changes go through the cascade below, so the row keeps its state here.
      if (cur.active && !p.c.active) toDeactivate.push(cur.id);
      if (!cur.active && p.c.active) toReactivate.push(cur.id);
      if (!p.docWrite) {
        links.push({ userId: cur.id, p });
        continue;
      }
      const doc = mergeDoc(cur.doc, p.c.doc, owned);
      doc.active = cur.active;
      rows.push({ ...rowOf(doc, withOrg(p, cur.organization_id)), id: cur.id, entry: p.c.anchor });
      planned.set(cur.id, p);
    }
    const done = await updateRows(tx, ctx, rows, (row, reason) => {
      const p = planned.get(row.id);
      if (p) fail(p.c.dn, reason);
      planned.delete(row.id);
    });
    for (const r of done) {
      const p = planned.get(r.id);
      if (!p) continue;
      updated++;
      links.push({ userId: r.id, p });
      outbox.push({ id: r.id, version: r.version, operation: 'update' });
      audits.push(audit(ctx, 'syncRun.userUpdate', r.id, { dn: p.c.dn }));
    }
  }

  if (links.length) {
    const rows = links.map(({ userId, p }) => ({
      user_id: userId,
      external_key: p.c.anchor,
      dn: p.c.dn,
      username: p.c.username,
      state: p.c.active ? 'active' : 'disabled',
      state_hash: p.c.hash,
    }));
    await tx.execute(sql`
      insert into accounts (tenant_id, user_id, system_id, external_key, dn, username, state,
        state_hash, last_seen_at, last_seen_run)
      select ${ctx.tenantId}::uuid, user_id, ${ctx.systemId}, external_key, dn, username, state,
        state_hash, now(), ${ctx.runId}::uuid
      from jsonb_to_recordset(${json(rows)}::jsonb) as x(user_id uuid, external_key text,
        dn text, username text, state text, state_hash text)
      ${LINK_UPSERT}`);
  }
  if (outbox.length) {
    await tx.execute(sql`
      insert into outbox (tenant_id, resource_type, resource_id, version, operation, detail)
      select ${ctx.tenantId}::uuid, 'User', id, version, operation,
        jsonb_build_object('source', ${`ldap:${source}`}::text, 'runId', ${ctx.runId}::text)
      from jsonb_to_recordset(${json(outbox)}::jsonb) as x(id uuid, version int, operation text)`);
  }
  await recordAudits(tx, audits);

  // State changes through the identity model, in this transaction: the cascade set-based for
  // the page; reactivation (rare) restores the user only, one by one.
  const reason = `directory sync run ${ctx.runId}`;
  const deactivated = await deactivateUsers(tx, ctx.tenantId, toDeactivate, ctx.actor, { reason });
  for (const id of toReactivate) await reactivateUser(tx, ctx.tenantId, id, ctx.actor);
  return { created, updated, deactivated: deactivated.filter((d) => d.wasActive).length };
}

const audit = (
  ctx: PageContext,
  action: string,
  userId: string,
  summary: Record<string, unknown>,
): AuditEntry => ({
  tenantId: ctx.tenantId,
  actor: ctx.actor,
  action,
  targetType: 'User',
  targetId: userId,
  summary: { ...summary, runId: ctx.runId },
});

type UpdateRow = ReturnType<typeof rowOf> & { id: string; entry: string };

/** One UPDATE for the page; on a userName clash, one savepoint per row to find the culprits. */
async function updateRows(
  tx: Tx,
  ctx: PageContext,
  rows: UpdateRow[],
  onClash: (row: UpdateRow, reason: string) => void,
): Promise<{ id: string; version: number }[]> {
  if (!rows.length) return [];
  const run = (t: Tx, batch: UpdateRow[]) =>
    t.execute<{ id: string; version: number }>(sql`
      update users u set doc = x.doc, user_name = x.user_name, user_name_key = x.user_name_key,
        external_id = x.external_id, display_name = x.display_name,
        organization_id = x.organization_id, version = u.version + 1,
        updated_at = greatest(now(), u.updated_at + interval '1 millisecond')
      from jsonb_to_recordset(${json(batch)}::jsonb) as x(id uuid, doc jsonb, user_name text,
        user_name_key text, external_id text, display_name text, organization_id uuid)
      where u.tenant_id = ${ctx.tenantId} and u.id = x.id
      returning u.id, u.version`);
  try {
    return [...(await tx.transaction((t) => run(t, rows)))];
  } catch (e) {
    if (pgCode(e) !== '23505') throw e;
  }
  const out: { id: string; version: number }[] = [];
  for (const row of rows) {
    try {
      out.push(...(await tx.transaction((t) => run(t, [row]))));
    } catch (e) {
      if (pgCode(e) !== '23505') throw e;
      onClash(row, `userName "${String(row.user_name)}" is already taken by another user`);
    }
  }
  return out;
}
