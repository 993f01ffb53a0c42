/**
 * OU paths → organisations. A path of names from the top (`['Sales', 'EMEA']`) is looked up
 * level by level among siblings (case-insensitively, as the tree's unique index compares) and
 * the missing levels are created through the identity model (tree lock, audit, outbox), with
 * source `ldap:<dataSourceId>`. One resolver per run caches what it found; a dry run only looks.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Actor } from '../../api/identity/audit.ts';
import { IdentityError } from '../../api/identity/errors.ts';
import { createOrganization } from '../../api/identity/organizations.ts';
import type { Database } from '../../db/client.ts';
import { organizations } from '../../db/schema/index.ts';
import { nameKey } from '../../scim/store/keys.ts';

export interface OrganizationResolver {
  /** The id of the organisation at `path`, created when missing; null for an empty path or when a dry run would create it. */
  resolve(path: readonly string[]): Promise<string | null>;
  /** Organisations this resolver created. */
  readonly created: number;
}

export function organizationResolver(
  db: Database,
  tenantId: string,
  actor: Actor,
  opts: { dryRun: boolean; source: string },
): OrganizationResolver {
  const cache = new Map<string, Promise<string | null>>();
  let created = 0;

  async function child(parentId: string | null, name: string): Promise<string | null> {
    const find = async () => {
      const [row] = await db
        .select({ id: organizations.id })
        .from(organizations)
        .where(
          and(
            eq(organizations.tenantId, tenantId),
            parentId ? eq(organizations.parentId, parentId) : isNull(organizations.parentId),
            eq(organizations.nameKey, nameKey(name)),
          ),
        );
      return row?.id;
    };
    const found = await find();
    if (found || opts.dryRun) return found ?? null;
    try {
      const org = await createOrganization(db, tenantId, actor, {
        name,
        parentId,
        source: opts.source,
      });
      created++;
      return org.id;
    } catch (e) {
      // Another run (or an admin) created it first: use theirs.
      if (e instanceof IdentityError && e.code === 'conflict') return (await find()) ?? null;
      throw e;
    }
  }

  function resolve(path: readonly string[]): Promise<string | null> {
    if (!path.length) return Promise.resolve(null);
    const key = path.map(nameKey).join('\u0000');
    let hit = cache.get(key);
    if (!hit) {
      hit = (async () => {
        const parent = await resolve(path.slice(0, -1));
        if (path.length > 1 && parent === null) return null;
        return child(parent, path[path.length - 1] as string);
      })();
      // A failure is not cached: the next entry tries again.
      hit.catch(() => cache.delete(key));
      cache.set(key, hit);
    }
    return hit;
  }

  return {
    resolve,
    get created() {
      return created;
    },
  };
}
