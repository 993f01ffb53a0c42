import { isDeepStrictEqual } from 'node:util';
import { changedAttributes, recordAudit } from '../api/identity/audit.ts';
import type { Db } from '../db/client.ts';
import type { ScimDoc } from '../db/schema/index.ts';
import { notFound, ScimError } from './errors.ts';
import {
  createOrganizationResource,
  patchOrganizationResource,
  removeOrganizationResource,
  replaceOrganizationResource,
} from './organizations.ts';
import { checkIfMatch } from './preconditions.ts';
import { normalizeResource } from './resource/normalize.ts';
import { applyPatch, parsePatchRequest } from './resource/patch.ts';
import { groupKind, type ResourceKind, SCHEMA } from './schemas/index.ts';
import type { ComputedSet } from './store/computed.ts';
import { isUuid } from './store/keys.ts';
import { applyMemberChanges, type MemberDelta } from './store/members.ts';
import { recordChange } from './store/outbox.ts';
import {
  deleteResource,
  getResource,
  insertResource,
  touchResource,
  updateResource,
} from './store/resources.ts';
import type { MemberChange, ResourceRow } from './store/types.ts';

/** Who and where a write happens: the tenant comes only from the authenticated token. */
export interface WriteContext {
  db: Db;
  tenantId: string;
  kind: ResourceKind;
  ifMatch?: string;
  /** The SCIM token writing, recorded in the audit log (absent: a `system` write). */
  actor?: { type: 'token'; id: string; requestId?: string };
}

type Tx = Parameters<Parameters<Db['db']['transaction']>[0]>[0];

/** Audits a SCIM write in its transaction: attribute names and member counts, never values. */
async function audit(
  ctx: WriteContext,
  tx: Tx,
  verb: 'create' | 'replace' | 'patch' | 'delete',
  id: string,
  summary: Record<string, unknown>,
): Promise<void> {
  await recordAudit(tx, {
    tenantId: ctx.tenantId,
    actor: ctx.actor ?? { type: 'system', id: 'scim' },
    action: `scim.${ctx.kind.type.name.toLowerCase()}.${verb}`,
    targetType: ctx.kind.type.name,
    targetId: id,
    summary,
  });
}

/** Member change counts for an audit summary (also used by the directory sync). */
export const memberCounts = (d: MemberDelta | undefined) =>
  d && (d.added.length || d.removed.length || d.cleared)
    ? { members: { added: d.added.length, removed: d.removed.length, cleared: d.cleared } }
    : {};

const tableOf = (kind: ResourceKind) =>
  kind.core.id === SCHEMA.group
    ? 'groups'
    : kind.core.id === SCHEMA.organization
      ? 'organizations'
      : 'users';
/** Users and groups are written here; organisations through the identity model's tree rules. */
const writableTable = (kind: ResourceKind) => (kind.core.id === SCHEMA.group ? 'groups' : 'users');
const isGroup = (kind: ResourceKind) => kind.core.id === SCHEMA.group;
const isOrganization = (kind: ResourceKind) => kind.core.id === SCHEMA.organization;

const missing = (kind: ResourceKind, id: string) => notFound(`${kind.type.name} ${id} not found`);

/** Caps the ids an outbox event carries; consumers re-read state when `complete` is false. */
export function memberDetail(d: MemberDelta): Record<string, unknown> | undefined {
  if (!d.added.length && !d.removed.length && !d.cleared) return undefined;
  const cap = 1000;
  return {
    members: {
      added: d.added.slice(0, cap),
      removed: d.removed.slice(0, cap),
      cleared: d.cleared,
      complete: d.added.length <= cap && d.removed.length <= cap,
    },
  };
}

/** POST: creates a resource (and its members) and records the change, atomically. */
export async function createResource(
  ctx: WriteContext,
  body: Record<string, unknown>,
): Promise<ResourceRow> {
  if (isOrganization(ctx.kind)) return createOrganizationResource(ctx, body);
  const { doc, members } = normalizeResource(ctx.kind, body, 'create');
  return ctx.db.db.transaction(async (tx) => {
    const row = await insertResource(tx, writableTable(ctx.kind), ctx.tenantId, doc);
    let delta: MemberDelta | undefined;
    if (isGroup(ctx.kind) && members?.length) {
      delta = await applyMemberChanges(tx, ctx.tenantId, row.id, [{ kind: 'add', members }]);
    }
    const detail = delta ? memberDetail(delta) : undefined;
    await recordChange(tx, {
      tenantId: ctx.tenantId,
      resourceType: ctx.kind.type.name,
      resourceId: row.id,
      version: row.version,
      operation: 'create',
      detail,
    });
    await audit(ctx, tx, 'create', row.id, {
      attributes: changedAttributes({}, doc),
      ...memberCounts(delta),
    });
    return row;
  });
}

async function lockCurrent(
  ctx: WriteContext,
  tx: Parameters<Parameters<Db['db']['transaction']>[0]>[0],
  id: string,
) {
  if (!isUuid(id)) throw missing(ctx.kind, id);
  const row = await getResource(tx, tableOf(ctx.kind), ctx.tenantId, id, {
    withRelated: false,
    lock: true,
  });
  if (!row) throw missing(ctx.kind, id);
  checkIfMatch(ctx.ifMatch, row.version);
  return row;
}

/**
 * Writes a new document and member changes for a locked row; bumps the version once when
 * anything changed, and records one outbox event.
 */
async function commitChange(
  ctx: WriteContext,
  tx: Tx,
  verb: 'replace' | 'patch',
  current: ResourceRow,
  doc: ScimDoc,
  docChanged: boolean,
  memberChanges: MemberChange[],
): Promise<ResourceRow> {
  const table = writableTable(ctx.kind);
  const delta = memberChanges.length
    ? await applyMemberChanges(tx, ctx.tenantId, current.id, memberChanges)
    : undefined;
  const detail = delta ? memberDetail(delta) : undefined;
  if (!docChanged && !detail) return current;
  const row = docChanged
    ? await updateResource(tx, table, ctx.tenantId, current.id, doc)
    : await touchResource(tx, table, ctx.tenantId, current.id);
  await recordChange(tx, {
    tenantId: ctx.tenantId,
    resourceType: ctx.kind.type.name,
    resourceId: row.id,
    version: row.version,
    operation: 'update',
    detail,
  });
  await audit(ctx, tx, verb, row.id, {
    attributes: docChanged ? changedAttributes(current.doc, doc) : [],
    ...memberCounts(delta),
  });
  return row;
}

/** PUT: replaces the resource. An absent `active` keeps the current state; absent `members` keep membership. */
export async function replaceResource(
  ctx: WriteContext,
  id: string,
  body: Record<string, unknown>,
): Promise<ResourceRow> {
  if (isOrganization(ctx.kind)) return replaceOrganizationResource(ctx, id, body);
  return ctx.db.db.transaction(async (tx) => {
    const current = await lockCurrent(ctx, tx, id);
    const { doc, members } = normalizeResource(ctx.kind, body, 'replace', {
      id: current.id,
      doc: current.doc,
    });
    const changed = !isDeepStrictEqual(doc, current.doc);
    const changes: MemberChange[] =
      isGroup(ctx.kind) && members ? [{ kind: 'replace', members }] : [];
    return commitChange(ctx, tx, 'replace', current, doc, changed, changes);
  });
}

/** PATCH: all operations apply in one transaction holding the row lock, or none do. */
export async function patchResource(
  ctx: WriteContext,
  id: string,
  body: Record<string, unknown>,
): Promise<ResourceRow> {
  if (isOrganization(ctx.kind)) return patchOrganizationResource(ctx, id, body);
  const ops = parsePatchRequest(body);
  return ctx.db.db.transaction(async (tx) => {
    const current = await lockCurrent(ctx, tx, id);
    const result = applyPatch(ctx.kind, { id: current.id, doc: current.doc }, ops);
    return commitChange(
      ctx,
      tx,
      'patch',
      current,
      result.doc,
      result.changed,
      result.members as MemberChange[],
    );
  });
}

/** DELETE: removes the resource and the memberships pointing at it. */
export async function removeResource(ctx: WriteContext, id: string): Promise<void> {
  if (isOrganization(ctx.kind)) return removeOrganizationResource(ctx, id);
  await ctx.db.db.transaction(async (tx) => {
    const current = await lockCurrent(ctx, tx, id);
    const leftGroups = await deleteResource(tx, writableTable(ctx.kind), ctx.tenantId, current.id);
    if (!leftGroups) throw missing(ctx.kind, id);
    await recordChange(tx, {
      tenantId: ctx.tenantId,
      resourceType: ctx.kind.type.name,
      resourceId: current.id,
      version: current.version + 1,
      operation: 'delete',
    });
    await audit(ctx, tx, 'delete', current.id, { groupsLeft: leftGroups.length });
    // The groups it was a member of changed too.
    for (const g of leftGroups) {
      await recordChange(tx, {
        tenantId: ctx.tenantId,
        resourceType: groupKind.type.name,
        resourceId: g.id,
        version: g.version,
        operation: 'update',
        detail: memberDetail({ added: [], removed: [current.id], cleared: false }),
      });
    }
  });
}

/** GET by id; ids of other tenants answer exactly like unknown ids. */
export async function readResource(
  db: Db,
  tenantId: string,
  kind: ResourceKind,
  id: string,
  withRelated: boolean,
  computed?: ComputedSet,
): Promise<ResourceRow> {
  if (!isUuid(id)) throw missing(kind, id);
  const row = await getResource(db.db, tableOf(kind), tenantId, id, { withRelated, computed });
  if (!row) throw missing(kind, id);
  return row;
}

export { ScimError, tableOf };
