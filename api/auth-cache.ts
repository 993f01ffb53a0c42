import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import { authenticateToken, hashToken, type Principal } from './tenants.ts';

export interface TokenAuthenticator {
  /** The principal of a bearer token, or null when it is unknown, revoked or expired. */
  authenticate(token: string): Promise<Principal | null>;
  close(): Promise<void>;
}

interface Entry {
  principal: Principal;
  /** When this entry stops being trusted: the TTL, or the token's own expiry if sooner. */
  until: number;
}

/**
 * Caches successful token lookups for a short time, so a busy SCIM client costs one query
 * per request instead of two. Revocations, expiries and tenant changes reach every replica at
 * once through PostgreSQL NOTIFY (triggers in migration 0002); when the listening connection
 * is (re)established the cache is emptied, since notifications may have been missed. Unknown
 * tokens are never cached.
 */
export async function createAuthCache(
  db: Db,
  logger: Logger,
  opts: { ttlMs?: number; maxEntries?: number } = {},
): Promise<TokenAuthenticator> {
  const ttlMs = opts.ttlMs ?? 30_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const cache = new Map<string, Entry>();
  const invalidate = (payload: string) => {
    let change: { tokenId?: string; tenantId?: string };
    try {
      change = JSON.parse(payload);
    } catch {
      cache.clear();
      return;
    }
    for (const [key, e] of cache) {
      if (e.principal.tokenId === change.tokenId || e.principal.tenantId === change.tenantId)
        cache.delete(key);
    }
  };
  const listener = await db.sql.listen('idhub_auth', invalidate, () => cache.clear());
  return {
    async authenticate(token) {
      const key = hashToken(token);
      const hit = cache.get(key);
      if (hit && hit.until > Date.now()) return hit.principal;
      cache.delete(key);
      const found = await authenticateToken(db.db, token);
      if (!found) return null;
      const { expiresAt, ...principal } = found;
      if (cache.size >= maxEntries) cache.clear();
      cache.set(key, {
        principal,
        until: Math.min(Date.now() + ttlMs, expiresAt?.getTime() ?? Number.POSITIVE_INFINITY),
      });
      return principal;
    },
    async close() {
      await listener.unlisten().catch((err: unknown) => logger.warn({ err }, 'unlisten'));
      cache.clear();
    },
  };
}

/**
 * The same authenticator, started on first use: for composition roots that are built
 * synchronously (tests, tools).
 */
export function lazyAuthCache(db: Db, logger: Logger): TokenAuthenticator {
  let started: Promise<TokenAuthenticator> | undefined;
  return {
    authenticate: async (token) => {
      started ??= createAuthCache(db, logger);
      return (await started).authenticate(token);
    },
    close: async () => {
      if (started) await (await started).close();
    },
  };
}
