import DataLoader from 'dataloader';
import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { apiTokens, groups, tenants, users } from '../../db/schema/index.ts';
import { isUuid, uuids } from '../../scim/store/keys.ts';
import type { createAgentLoaders } from './loaders-agents.ts';
import type { createIdentityLoaders } from './loaders-identity.ts';
import type { createSyncLoaders } from './loaders-sync.ts';
import type { Position } from './paging.ts';
import {
  type GroupRow,
  groupFromJson,
  type TenantRow,
  type TokenRow,
  type UserRow,
  userFromJson,
} from './rows.ts';

/** A bound uuid[] parameter (drizzle would spread a JS array into a parameter list). */

/** Orders batch results like the keys, with null where nothing was found. */
const byKey = <T extends { id: string }>(keys: readonly string[], rows: T[]) => {
  const map = new Map(rows.map((r) => [r.id, r]));
  return keys.map((k) => map.get(k.toLowerCase()) ?? null);
};

export interface GroupMembership {
  group: GroupRow;
  /** 1 = direct member; more = through nested groups. */
  depth: number;
}

export interface MemberRef {
  member: UserRow | GroupRow;
  addedAt: string;
}

export interface MemberPageKey {
  groupId: string;
  limit: number;
  after?: Position;
}

/**
 * Per-request batch loaders. Every one of them filters by the caller's tenant, so an id of
 * another tenant loads as null — the basis of "global ids never resolve across tenants".
 * The operator (tenantId null) loads no tenant-owned rows at all.
 */
export function createLoaders(db: Db, tenantId: string | null) {
  const d = db.db;
  const none = <T>(keys: readonly unknown[]) => keys.map(() => null as T | null);

  const user = new DataLoader<string, UserRow | null>(async (keys) => {
    const ids = keys.filter(isUuid).map((k) => k.toLowerCase());
    if (!tenantId || ids.length === 0) return none<UserRow>(keys);
    const rows = await d
      .select()
      .from(users)
      .where(and(eq(users.tenantId, tenantId), inArray(users.id, ids)));
    return byKey(
      keys,
      rows.map((r) => ({ ...r, kind: 'User' as const })),
    );
  });

  const group = new DataLoader<string, GroupRow | null>(async (keys) => {
    const ids = keys.filter(isUuid).map((k) => k.toLowerCase());
    if (!tenantId || ids.length === 0) return none<GroupRow>(keys);
    const rows = await d
      .select()
      .from(groups)
      .where(and(eq(groups.tenantId, tenantId), inArray(groups.id, ids)));
    return byKey(
      keys,
      rows.map(({ displayNameKey: _k, ...r }) => ({ ...r, kind: 'Group' as const })),
    );
  });

  /** A user's groups, direct and through nesting (smallest depth wins), by name. */
  const userGroups = new DataLoader<string, GroupMembership[]>(async (keys) => {
    if (!tenantId) return keys.map(() => []);
    const rows = await d.execute<{ user_id: string; depth: number; g: Record<string, unknown> }>(
      sql`with recursive anc(user_id, group_id, depth) as (
          select gm.member_id, gm.group_id, 1 from group_members gm
           where gm.tenant_id = ${tenantId} and gm.member_id = any(${uuids(keys.filter(isUuid))})
          union
          select anc.user_id, gm.group_id, anc.depth + 1 from group_members gm
            join anc on gm.member_id = anc.group_id
           where gm.tenant_id = ${tenantId} and anc.depth < 32)
        select x.user_id, x.depth, row_to_json(g.*) as g
        from (select user_id, group_id, min(depth) as depth from anc group by user_id, group_id) x
        join groups g on g.id = x.group_id
        order by g.display_name_key, g.id`,
    );
    const out = new Map<string, GroupMembership[]>(keys.map((k) => [k, []]));
    for (const r of rows) out.get(r.user_id)?.push({ group: groupFromJson(r.g), depth: r.depth });
    return keys.map((k) => out.get(k) ?? []);
  });

  /** One page of several groups' members in one query (a lateral join per group). */
  const memberPage = new DataLoader<MemberPageKey, MemberRef[], string>(
    async (keys) => {
      if (!tenantId) return keys.map(() => []);
      const spec = keys.map((k, ord) => ({
        ord,
        group_id: k.groupId,
        after_at: k.after?.at ?? null,
        after_id: k.after?.id ?? null,
        lim: k.limit,
      }));
      const rows = await d.execute<{
        ord: number;
        added_at: string;
        u: Record<string, unknown> | null;
        g: Record<string, unknown> | null;
      }>(sql`select k.ord, to_json(gm.added_at) #>> '{}' as added_at,
          row_to_json(u.*) as u, row_to_json(g.*) as g
        from jsonb_to_recordset(${JSON.stringify(spec)}::jsonb)
          as k(ord int, group_id uuid, after_at timestamptz, after_id uuid, lim int)
        cross join lateral (
          select m.* from group_members m
          where m.tenant_id = ${tenantId} and m.group_id = k.group_id
            and (k.after_at is null or (m.added_at, m.member_id) > (k.after_at, k.after_id))
          order by m.added_at, m.member_id limit k.lim) gm
        left join users u on gm.member_type = 'User' and u.id = gm.member_id
        left join groups g on gm.member_type = 'Group' and g.id = gm.member_id
        order by k.ord, gm.added_at, gm.member_id`);
      const out: MemberRef[][] = keys.map(() => []);
      for (const r of rows) {
        const member = r.u ? userFromJson(r.u) : r.g ? groupFromJson(r.g) : undefined;
        if (member) out[r.ord]?.push({ member, addedAt: r.added_at });
      }
      return out;
    },
    { cacheKeyFn: (k) => JSON.stringify([k.groupId, k.limit, k.after ?? null]) },
  );

  const memberCount = new DataLoader<string, number>(async (keys) => {
    if (!tenantId) return keys.map(() => 0);
    const rows = await d.execute<{ group_id: string; n: string }>(
      sql`select group_id, count(*)::text as n from group_members
          where tenant_id = ${tenantId} and group_id = any(${uuids(keys)})
          group by group_id`,
    );
    const map = new Map(rows.map((r) => [r.group_id, Number(r.n)]));
    return keys.map((k) => map.get(k) ?? 0);
  });

  return { user, group, userGroups, memberPage, memberCount };
}

/** Loaders that see platform objects: the operator sees every tenant, a tenant only itself. */
export function createPlatformLoaders(db: Db, tenantId: string | null) {
  const d = db.db;
  const visible = (col: typeof tenants.id | typeof apiTokens.tenantId): SQL | undefined =>
    tenantId ? eq(col, tenantId) : undefined;

  const tenant = new DataLoader<string, TenantRow | null>(async (keys) => {
    const ids = keys.filter(isUuid).map((k) => k.toLowerCase());
    if (ids.length === 0) return keys.map(() => null);
    const rows = await d
      .select({
        id: tenants.id,
        name: tenants.name,
        status: tenants.status,
        createdAt: tenants.createdAt,
      })
      .from(tenants)
      .where(and(inArray(tenants.id, ids), visible(tenants.id)));
    return byKey(
      keys,
      rows.map((r) => ({ ...r, kind: 'Tenant' as const })),
    );
  });

  const token = new DataLoader<string, TokenRow | null>(async (keys) => {
    const ids = keys.filter(isUuid).map((k) => k.toLowerCase());
    if (ids.length === 0) return keys.map(() => null);
    const rows = await d
      .select(tokenColumns)
      .from(apiTokens)
      .where(and(inArray(apiTokens.id, ids), visible(apiTokens.tenantId)));
    return byKey(
      keys,
      rows.map((r) => ({ ...r, kind: 'ApiToken' as const })),
    );
  });

  return { tenant, token };
}

export const tokenColumns = {
  id: apiTokens.id,
  tenantId: apiTokens.tenantId,
  name: apiTokens.name,
  prefix: apiTokens.prefix,
  scopes: apiTokens.scopes,
  createdAt: apiTokens.createdAt,
  lastUsedAt: apiTokens.lastUsedAt,
  expiresAt: apiTokens.expiresAt,
  revokedAt: apiTokens.revokedAt,
};

export type Loaders = ReturnType<typeof createLoaders> &
  ReturnType<typeof createPlatformLoaders> &
  ReturnType<typeof createIdentityLoaders> &
  ReturnType<typeof createAgentLoaders> &
  ReturnType<typeof createSyncLoaders>;
