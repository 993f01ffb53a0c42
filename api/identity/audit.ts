import { isDeepStrictEqual } from 'node:util';
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

/** Rows per INSERT: 8 parameters each, well under PostgreSQL's 65,535 per statement. */
const AUDIT_CHUNK = 1000;

/** Records several audit rows, a statement per thousand (cascades and syncs touch many targets). */
export async function recordAudits(tx: Tx, entries: AuditEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += AUDIT_CHUNK) {
    await tx.insert(auditLog).values(entries.slice(i, i + AUDIT_CHUNK).map(row));
  }
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
