import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database, Tx } from '../db/client.ts';
import { apiTokens, type TokenScope, tenants } from '../db/schema/index.ts';
import { isUuid } from '../scim/store/keys.ts';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class TenantError extends Error {
  constructor(
    readonly code: 'tenant_exists' | 'tenant_not_found' | 'token_not_found' | 'invalid_name',
    message: string,
  ) {
    super(message);
    this.name = 'TenantError';
  }
}

export interface Tenant {
  id: string;
  name: string;
  status: 'active' | 'disabled';
}

/** Creates a tenant; names are unique case-insensitively. */
export async function createTenant(db: Database | Tx, name: string): Promise<Tenant> {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 200 || /\p{Cc}/u.test(trimmed)) {
    throw new TenantError('invalid_name', 'tenant name must be 1–200 printable characters');
  }
  const rows = await db
    .insert(tenants)
    .values({ name: trimmed })
    .onConflictDoNothing()
    .returning({ id: tenants.id, name: tenants.name, status: tenants.status });
  const row = rows[0];
  if (!row) throw new TenantError('tenant_exists', `a tenant named "${trimmed}" already exists`);
  return row;
}

/** Finds a tenant by id or (case-insensitive) name. */
export async function findTenant(db: Database, idOrName: string): Promise<Tenant> {
  const where = isUuid(idOrName)
    ? eq(tenants.id, idOrName)
    : sql`lower(${tenants.name}) = lower(${idOrName})`;
  const rows = await db
    .select({ id: tenants.id, name: tenants.name, status: tenants.status })
    .from(tenants)
    .where(where);
  const row = rows[0];
  if (!row) throw new TenantError('tenant_not_found', `no tenant "${idOrName}"`);
  return row;
}

export interface IssuedToken {
  id: string;
  token: string;
  prefix: string;
  scopes: TokenScope[];
  expiresAt: Date | null;
}

/** Issues a token. The clear token is returned once; only its SHA-256 is stored. */
export async function createToken(
  db: Database | Tx,
  tenantId: string,
  scopes: TokenScope[],
  opts: { name?: string; expiresAt?: Date } = {},
): Promise<IssuedToken> {
  const token = `idh_${randomBytes(32).toString('base64url')}`;
  const prefix = token.slice(0, 12);
  const [row] = await db
    .insert(apiTokens)
    .values({
      tenantId,
      name: opts.name,
      prefix,
      hash: hashToken(token),
      scopes: [...new Set(scopes)],
      expiresAt: opts.expiresAt,
    })
    .returning({ id: apiTokens.id });
  if (!row) throw new Error('token insert returned nothing');
  return { id: row.id, token, prefix, scopes, expiresAt: opts.expiresAt ?? null };
}

/** Revokes a token; revoking twice is harmless. */
export async function revokeToken(db: Database | Tx, tokenId: string): Promise<void> {
  if (!isUuid(tokenId)) throw new TenantError('token_not_found', `no token "${tokenId}"`);
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
    .where(eq(apiTokens.id, tokenId))
    .returning({ id: apiTokens.id });
  if (rows.length === 0) throw new TenantError('token_not_found', `no token "${tokenId}"`);
}

export interface Principal {
  tokenId: string;
  tenantId: string;
  scopes: TokenScope[];
}

/** Resolves a presented bearer token to its principal, or null when unknown/revoked/expired. */
export async function authenticateToken(
  db: Database,
  token: string,
): Promise<(Principal & { expiresAt: Date | null }) | null> {
  if (token.length < 10 || token.length > 200) return null;
  const rows = await db
    .select({
      tokenId: apiTokens.id,
      tenantId: apiTokens.tenantId,
      scopes: apiTokens.scopes,
      expiresAt: apiTokens.expiresAt,
    })
    .from(apiTokens)
    .innerJoin(tenants, eq(tenants.id, apiTokens.tenantId))
    .where(
      and(
        eq(apiTokens.hash, hashToken(token)),
        isNull(apiTokens.revokedAt),
        eq(tenants.status, 'active'),
        sql`(${apiTokens.expiresAt} is null or ${apiTokens.expiresAt} > now())`,
      ),
    );
  return rows[0] ?? null;
}

/**
 * Records token use at most once a minute per token per process, off the request path,
 * so a busy SCIM client does not turn every read into a write.
 */
export function createUsageRecorder(db: Database, onError: (e: unknown) => void) {
  const lastWritten = new Map<string, number>();
  /** Returns the pending write, or undefined when this use was within the minute. */
  return (tokenId: string): Promise<void> | undefined => {
    const now = Date.now();
    if ((lastWritten.get(tokenId) ?? 0) > now - 60_000) return undefined;
    lastWritten.set(tokenId, now);
    if (lastWritten.size > 10_000) lastWritten.clear();
    return db
      .update(apiTokens)
      .set({ lastUsedAt: sql`now()` })
      .where(eq(apiTokens.id, tokenId))
      .then(() => undefined, onError);
  };
}
