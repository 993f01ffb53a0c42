import { sql } from 'drizzle-orm';
import { type Actor, recordAudit } from '../api/identity/audit.ts';
import { IdentityError } from '../api/identity/errors.ts';
import {
  createOrganization,
  deleteOrganization,
  moveOrganization,
  renameOrganization,
} from '../api/identity/organizations.ts';
import type { Tx } from '../db/client.ts';
import type { ScimDoc } from '../db/schema/index.ts';
import { badRequest, notFound, ScimError } from './errors.ts';
import { checkIfMatch } from './preconditions.ts';
import { normalizeResource } from './resource/normalize.ts';
import { applyPatch, parsePatchRequest } from './resource/patch.ts';
import { organizationKind } from './schemas/index.ts';
import type { WriteContext } from './service.ts';
import { isUuid } from './store/keys.ts';
import { recordChange } from './store/outbox.ts';
import { getResource } from './store/resources.ts';
import type { ResourceRow } from './store/types.ts';

/**
 * SCIM writes of the Organization resource. The tree rules (sibling-unique names, paths, moves,
 * cycles, "not empty") belong to api/identity/organizations.ts, which these call inside the
 * request's transaction; this module maps SCIM documents onto those operations and domain
 * errors onto SCIM errors. Every change records its outbox event in the same transaction.
 */

const missing = (id: string) => notFound(`Organization ${id} not found`);

/** The request's token; absent, a `system` write (as service.ts audits it). */
const actorOf = (ctx: WriteContext): Actor => ctx.actor ?? { type: 'system', id: 'scim' };

function toScimError(e: unknown, id?: string): unknown {
  if (!(e instanceof IdentityError)) return e;
  switch (e.code) {
    case 'not_found':
      return id ? missing(id) : badRequest('invalidValue', e.message);
    case 'conflict':
      return new ScimError(409, 'uniqueness', e.message);
    case 'not_empty':
      return new ScimError(409, undefined, e.message);
    default:
      return badRequest('invalidValue', e.message);
  }
}

async function domain<T>(run: () => Promise<T>, id?: string): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw toScimError(e, id);
  }
}

/**
 * The tenant's tree lock, taken before any row lock — the order api/identity uses — so a SCIM
 * write and an admin write of the same tree cannot deadlock. Same key as there.
 */
async function lockTree(tx: Tx, tenantId: string): Promise<void> {
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`idhub.org-tree:${tenantId}`}, 0))`,
  );
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);

function parentOf(doc: ScimDoc): string | null {
  const p = doc.parent;
  const value = p && typeof p === 'object' ? (p as Record<string, unknown>).value : undefined;
  return typeof value === 'string' ? value.toLowerCase() : null;
}

/** A parent must be an organisation of the same tenant: anything else is a 400, never a 404. */
async function checkParent(tx: Tx, tenantId: string, parentId: string | null): Promise<void> {
  if (parentId === null) return;
  const rows = isUuid(parentId)
    ? await tx.execute(
        sql`select 1 from organizations where tenant_id = ${tenantId} and id = ${parentId}`,
      )
    : [];
  if (!rows.length) throw badRequest('invalidValue', `unknown parent organization "${parentId}"`);
}

async function reread(tx: Tx, tenantId: string, id: string): Promise<ResourceRow> {
  const row = await getResource(tx, 'organizations', tenantId, id, { withRelated: false });
  if (!row) throw missing(id);
  return row;
}

/** POST /Organizations. */
export async function createOrganizationResource(
  ctx: WriteContext,
  body: Record<string, unknown>,
): Promise<ResourceRow> {
  const { doc } = normalizeResource(organizationKind, body, 'create');
  return ctx.db.db.transaction(async (tx) => {
    await lockTree(tx, ctx.tenantId);
    const parentId = parentOf(doc);
    await checkParent(tx, ctx.tenantId, parentId);
    const org = await domain(() =>
      createOrganization(tx, ctx.tenantId, actorOf(ctx), {
        name: String(doc.displayName),
        parentId,
        externalId: str(doc.externalId),
        source: 'scim',
      }),
    );
    return reread(tx, ctx.tenantId, org.id);
  });
}

async function lockCurrent(ctx: WriteContext, tx: Tx, id: string): Promise<ResourceRow> {
  if (!isUuid(id)) throw missing(id);
  await lockTree(tx, ctx.tenantId);
  const row = await getResource(tx, 'organizations', ctx.tenantId, id, {
    withRelated: false,
    lock: true,
  });
  if (!row) throw missing(id);
  checkIfMatch(ctx.ifMatch, row.version);
  return row;
}

async function setExternalId(ctx: WriteContext, tx: Tx, id: string, externalId: string | null) {
  const [row] = await tx.execute<{ version: number }>(sql`update organizations
    set external_id = ${externalId}, version = version + 1,
      updated_at = greatest(now(), updated_at + interval '1 millisecond')
    where tenant_id = ${ctx.tenantId} and id = ${id} returning version`);
  await recordChange(tx, {
    tenantId: ctx.tenantId,
    resourceType: organizationKind.type.name,
    resourceId: id,
    version: row?.version ?? 0,
    operation: 'update',
    detail: { attributes: ['externalId'] },
  });
  await recordAudit(tx, {
    tenantId: ctx.tenantId,
    actor: actorOf(ctx),
    action: 'organization.update',
    targetType: organizationKind.type.name,
    targetId: id,
    summary: { attributes: ['externalId'] },
  });
}

/** Applies the differences between the current and the new document: rename, move, externalId. */
async function commit(ctx: WriteContext, tx: Tx, current: ResourceRow, doc: ScimDoc) {
  const { id } = current;
  const actor = actorOf(ctx);
  const name = String(doc.displayName);
  if (name !== current.doc.displayName) {
    await domain(() => renameOrganization(tx, ctx.tenantId, actor, id, name), id);
  }
  const parentId = parentOf(doc);
  if (parentId !== parentOf(current.doc)) {
    await checkParent(tx, ctx.tenantId, parentId);
    await domain(() => moveOrganization(tx, ctx.tenantId, actor, id, parentId), id);
  }
  const externalId = str(doc.externalId);
  if (externalId !== current.externalId) await setExternalId(ctx, tx, id, externalId);
  return reread(tx, ctx.tenantId, id);
}

/** PUT /Organizations/{id}: an absent parent makes the organisation a root (RFC 7644 replace). */
export async function replaceOrganizationResource(
  ctx: WriteContext,
  id: string,
  body: Record<string, unknown>,
): Promise<ResourceRow> {
  return ctx.db.db.transaction(async (tx) => {
    const current = await lockCurrent(ctx, tx, id);
    const { doc } = normalizeResource(organizationKind, body, 'replace', current);
    return commit(ctx, tx, current, doc);
  });
}

/** PATCH /Organizations/{id}: all operations or none. */
export async function patchOrganizationResource(
  ctx: WriteContext,
  id: string,
  body: Record<string, unknown>,
): Promise<ResourceRow> {
  const ops = parsePatchRequest(body);
  return ctx.db.db.transaction(async (tx) => {
    const current = await lockCurrent(ctx, tx, id);
    const result = applyPatch(organizationKind, { id: current.id, doc: current.doc }, ops);
    return result.changed ? commit(ctx, tx, current, result.doc) : current;
  });
}

/** DELETE /Organizations/{id}: refused (409) while it has child organisations or users. */
export async function removeOrganizationResource(ctx: WriteContext, id: string): Promise<void> {
  await ctx.db.db.transaction(async (tx) => {
    const current = await lockCurrent(ctx, tx, id);
    await domain(() => deleteOrganization(tx, ctx.tenantId, actorOf(ctx), current.id), id);
  });
}
