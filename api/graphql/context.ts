import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { Services } from '../env.ts';
import type { Principal } from '../tenants.ts';
import { createLoaders, createPlatformLoaders, type Loaders } from './loaders.ts';
import { createAgentLoaders } from './loaders-agents.ts';
import { createIdentityLoaders } from './loaders-identity.ts';
import { createSyncLoaders } from './loaders-sync.ts';

/** Who is calling: a tenant token (admin scope checked by scope-auth) or the platform operator. */
export type Viewer = { kind: 'tenant'; principal: Principal } | { kind: 'operator' };

/** One per request: loaders cache per request only, so nothing leaks between callers. */
export interface GraphQLContext {
  services: Services;
  db: Db;
  requestId: string;
  log: Logger;
  viewer: Viewer;
  /** The caller's tenant; null for the operator, whose tenant-scoped lookups find nothing. */
  tenantId: string | null;
  loaders: Loaders;
}

/** What the Hono route hands to yoga for each request. */
export interface ServerContext {
  services: Services;
  requestId: string;
  log: Logger;
  viewer: Viewer;
}

export function createContext(server: ServerContext): GraphQLContext {
  const tenantId = server.viewer.kind === 'tenant' ? server.viewer.principal.tenantId : null;
  const db = server.services.db;
  return {
    services: server.services,
    db,
    requestId: server.requestId,
    log: server.log,
    viewer: server.viewer,
    tenantId,
    loaders: {
      ...createLoaders(db, tenantId),
      ...createPlatformLoaders(db, tenantId),
      ...createIdentityLoaders(db, tenantId),
      ...createAgentLoaders(db, tenantId, server.services.gateway),
      ...createSyncLoaders(db, tenantId),
    },
  };
}

/**
 * The caller's tenant. Fields that call this are guarded by the `admin` scope, so reaching
 * here without a tenant is a programming error, not a client's.
 */
export function tenantOf(ctx: GraphQLContext): string {
  if (!ctx.tenantId) throw new Error('tenant-scoped field resolved without a tenant');
  return ctx.tenantId;
}

/** Who a write is recorded as, in the audit log and history columns. */
export function actorOf(ctx: GraphQLContext): {
  type: 'token' | 'operator';
  id?: string;
  requestId: string;
} {
  return ctx.viewer.kind === 'tenant'
    ? { type: 'token', id: ctx.viewer.principal.tokenId, requestId: ctx.requestId }
    : { type: 'operator', requestId: ctx.requestId };
}

/** The calling token's id, for fields guarded by the `admin` scope. */
export function tokenOf(ctx: GraphQLContext): string {
  if (ctx.viewer.kind !== 'tenant') throw new Error('token-scoped field resolved without a token');
  return ctx.viewer.principal.tokenId;
}
