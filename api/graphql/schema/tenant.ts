import { and, eq, ne, sql } from 'drizzle-orm';
import type { Database, Tx } from '../../../db/client.ts';
import { tenants } from '../../../db/schema/index.ts';
import { pgCode } from '../../../scim/render.ts';
import { recordAudit } from '../../identity/audit.ts';
import { createTenant, createToken, TenantError } from '../../tenants.ts';
import { builder } from '../builder.ts';
import { actorOf, type GraphQLContext } from '../context.ts';
import { localId } from '../ids.ts';
import {
  afterSql,
  decodeCursor,
  lazyCount,
  orderSql,
  type PositionedRow,
  pageSize,
  toConnection,
} from '../paging.ts';
import type { TenantRow } from '../rows.ts';
import { domain, mutationErrors, NotFoundError, queryInput } from './errors.ts';

export const TenantRef = builder.objectRef<TenantRow>('Tenant');

const TenantStatus = builder.enumType('TenantStatus', {
  values: { ACTIVE: { value: 'active' }, DISABLED: { value: 'disabled' } } as const,
});

builder.node(TenantRef, {
  description: 'A tenant. The operator sees all of them; a tenant admin only its own.',
  authScopes: { admin: true, operator: true },
  id: { resolve: (t) => t.id },
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'kind' in v && v.kind === 'Tenant',
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.tenant.load(id))),
  fields: (t) => ({
    name: t.exposeString('name'),
    status: t.expose('status', { type: TenantStatus }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

/** One page of all tenants, by creation (operator only). */
async function tenantPage(db: Database, args: { first?: number | null; after?: string | null }) {
  const size = pageSize(args);
  const pos = decodeCursor('tenants', args.after);
  const at = sql`${tenants.createdAt}`;
  const id = sql`${tenants.id}`;
  const rows =
    size === 0
      ? []
      : await db
          .select({
            id: tenants.id,
            name: tenants.name,
            status: tenants.status,
            createdAt: tenants.createdAt,
            cursorAt: sql<string>`to_json(${tenants.createdAt}) #>> '{}'`,
          })
          .from(tenants)
          .where(pos ? afterSql(at, id, pos) : undefined)
          .orderBy(orderSql(at, id))
          .limit(size + 1);
  const positioned: PositionedRow<TenantRow>[] = rows.map(({ cursorAt, ...r }) => ({
    row: { ...r, kind: 'Tenant' },
    id: r.id,
    cursorAt,
    sortKey: null,
    sortType: null,
  }));
  const count = lazyCount(async () => {
    const [c] = await db.select({ n: sql<string>`count(*)::text` }).from(tenants);
    return Number(c?.n ?? 0);
  });
  return toConnection('tenants', positioned, size, args, count, false);
}

builder.queryFields((t) => ({
  tenants: t.connection({
    nullable: true,
    type: TenantRef,
    description: 'All tenants (operator only).',
    authScopes: { operator: true },
    resolve: (_, args, ctx) => queryInput(() => tenantPage(ctx.db.db, args)),
  }),
}));

/** Renames a tenant or changes its status, audited; token caches hear of it through NOTIFY. */
function updateTenant(
  ctx: GraphQLContext,
  id: string,
  change: { name?: string; status?: 'active' | 'disabled' },
): Promise<TenantRow> {
  return ctx.db.db.transaction(async (tx) => {
    const row = await writeTenant(tx, id, change);
    const action =
      change.name !== undefined
        ? 'tenant.rename'
        : `tenant.${change.status === 'active' ? 'enable' : 'disable'}`;
    await recordAudit(tx, {
      tenantId: id,
      actor: actorOf(ctx),
      action,
      targetType: 'Tenant',
      targetId: id,
      summary: change,
    });
    return row;
  });
}

async function writeTenant(
  db: Database | Tx,
  id: string,
  change: { name?: string; status?: 'active' | 'disabled' },
): Promise<TenantRow> {
  const set: Partial<typeof tenants.$inferInsert> = { updatedAt: new Date() };
  if (change.name !== undefined) {
    const trimmed = change.name.trim();
    if (!trimmed || trimmed.length > 200 || /\p{Cc}/u.test(trimmed)) {
      throw new TenantError('invalid_name', 'tenant name must be 1–200 printable characters');
    }
    const [taken] = await db
      .select({ id: tenants.id })
      .from(tenants)
      .where(and(sql`lower(${tenants.name}) = lower(${trimmed})`, ne(tenants.id, id)));
    if (taken) throw new TenantError('tenant_exists', `a tenant named "${trimmed}" already exists`);
    set.name = trimmed;
  }
  if (change.status) set.status = change.status;
  try {
    const [row] = await db.update(tenants).set(set).where(eq(tenants.id, id)).returning({
      id: tenants.id,
      name: tenants.name,
      status: tenants.status,
      createdAt: tenants.createdAt,
    });
    if (!row) throw new TenantError('tenant_not_found', `no tenant "${id}"`);
    return { ...row, kind: 'Tenant' };
  } catch (e) {
    // Two renames racing to one name: the unique index decides.
    if (pgCode(e) === '23505') {
      throw new TenantError('tenant_exists', `a tenant named "${change.name}" already exists`);
    }
    throw e;
  }
}

interface CreatedTenant {
  tenant: TenantRow;
  adminToken: string;
  scimToken: string;
}

const CreateTenantPayload = builder.objectRef<CreatedTenant>('CreateTenantPayload').implement({
  description: 'The new tenant and its first tokens, shown this once (only hashes are stored).',
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'adminToken' in v,
  fields: (t) => ({
    tenant: t.field({ type: TenantRef, resolve: (p) => p.tenant }),
    adminToken: t.exposeString('adminToken', { description: 'scope admin: this GraphQL API' }),
    scimToken: t.exposeString('scimToken', { description: 'scope scim: the SCIM API' }),
  }),
});

const requireTenant = (id: string) => {
  const local = localId(id, 'Tenant');
  if (!local) throw new NotFoundError(`no tenant "${id}"`);
  return local;
};

const setStatus = (status: 'active' | 'disabled') =>
  builder.mutationField(status === 'active' ? 'enableTenant' : 'disableTenant', (t) =>
    t.field({
      type: TenantRef,
      description:
        status === 'active'
          ? 'Lets the tenant’s tokens work again.'
          : 'Refuses every token of the tenant at once (all replicas); its data is kept.',
      authScopes: { operator: true },
      errors: { types: mutationErrors, directResult: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: (_, { id }, ctx) => domain(() => updateTenant(ctx, requireTenant(id), { status })),
    }),
  );
setStatus('active');
setStatus('disabled');

builder.mutationFields((t) => ({
  createTenant: t.field({
    type: CreateTenantPayload,
    authScopes: { operator: true },
    errors: { types: mutationErrors, directResult: true },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_, { name }, ctx) =>
      domain(async () => {
        // One transaction: a tenant never exists without its initial tokens, or unaudited.
        const { tenant, scim, admin, row } = await ctx.db.db.transaction(async (tx) => {
          const tenant = await createTenant(tx, name);
          const scim = await createToken(tx, tenant.id, ['scim'], { name: 'initial SCIM token' });
          const admin = await createToken(tx, tenant.id, ['admin'], {
            name: 'initial admin token',
          });
          await recordAudit(tx, {
            tenantId: tenant.id,
            actor: actorOf(ctx),
            action: 'tenant.create',
            targetType: 'Tenant',
            targetId: tenant.id,
            summary: { name: tenant.name, tokens: [scim.prefix, admin.prefix] },
          });
          const [row] = await tx
            .select({ createdAt: tenants.createdAt })
            .from(tenants)
            .where(eq(tenants.id, tenant.id));
          return { tenant, scim, admin, row };
        });
        return {
          tenant: { ...tenant, kind: 'Tenant' as const, createdAt: row?.createdAt ?? new Date() },
          adminToken: admin.token,
          scimToken: scim.token,
        };
      }),
  }),
  renameTenant: t.field({
    type: TenantRef,
    authScopes: { operator: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }), name: t.arg.string({ required: true }) },
    resolve: (_, { id, name }, ctx) => domain(() => updateTenant(ctx, requireTenant(id), { name })),
  }),
}));
