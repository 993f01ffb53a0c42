import { isDeepStrictEqual } from 'node:util';
import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { auditLog } from '../../db/schema/index.ts';

/** Who performs a change: an API token (admin or SCIM), the platform operator, or idhub itself. */
export interface Actor {
  type: 'token' | 'operator' | 'system';
  /** Token id for `token`; a job or component name for `system` (e.g. `directory-sync`). */
  id?: string;
  /** The HTTP request (or job run) the change belongs to. */
  requestId?: string;
}

export interface AuditEntry {
  tenantId: string | null;
  actor: Actor;
  /** Dotted verb, e.g. `organization.move`, `scim.user.patch`. */
  action: string;
  targetType: string;
  targetId?: string | null;
  /** What changed: attribute names, counts, states — never secret values. */
  summary?: Record<string, unknown>;
  /** Defaults to `actor.requestId`. */
  requestId?: string;
}

/** `token:<id>`, `operator`, `system:<name>`: how an actor is written in history columns. */
export const actorLabel = (a: Actor) => (a.id ? `${a.type}:${a.id}` : a.type);

const row = (e: AuditEntry) => ({
  tenantId: e.tenantId,
  actorType: e.actor.type,
  actorId: e.actor.id ?? null,
  action: e.action,
  targetType: e.targetType,
  targetId: e.targetId ?? null,
  summary: e.summary ?? null,
  requestId: e.requestId ?? e.actor.requestId ?? null,
});

/** Records one audit row in the caller's transaction (so it commits or rolls back with the change). */
export async function recordAudit(tx: Tx, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values(row(entry));
}

/**
 * Records several audit rows in one statement whatever their number (cascades and syncs touch
 * many targets): the rows travel as one JSON parameter, expanded by jsonb_to_recordset.
 */
export async function recordAudits(tx: Tx, entries: AuditEntry[]): Promise<void> {
  if (!entries.length) return;
  const rows = entries.map((e) => {
    const r = row(e);
    return {
      tenant_id: r.tenantId,
      actor_type: r.actorType,
      actor_id: r.actorId,
      action: r.action,
      target_type: r.targetType,
      target_id: r.targetId,
      summary: r.summary,
      request_id: r.requestId,
    };
  });
  await tx.execute(sql`insert into audit_log
      (tenant_id, actor_type, actor_id, action, target_type, target_id, summary, request_id)
    select tenant_id, actor_type, actor_id, action, target_type, target_id, summary, request_id
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(tenant_id uuid, actor_type text,
      actor_id text, action text, target_type text, target_id text, summary jsonb, request_id text)`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The names of the attributes that differ between two SCIM documents, for an audit summary:
 * top-level names, and `urn:…:name` for attributes inside an extension. Values never appear.
 */
export function changedAttributes(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): string[] {
  const names = new Set<string>();
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key];
    const b = after[key];
    if (isDeepStrictEqual(a, b)) continue;
    if (key.startsWith('urn:') && (isObject(a) || isObject(b))) {
      const inner = changedAttributes(isObject(a) ? a : {}, isObject(b) ? b : {});
      for (const n of inner) names.add(`${key}:${n}`);
      if (!inner.length) names.add(key);
    } else names.add(key);
  }
  return [...names].sort();
}
