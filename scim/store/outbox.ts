import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';

export interface ChangeEvent {
  tenantId: string;
  resourceType: string;
  resourceId: string;
  version: number;
  operation: 'create' | 'update' | 'delete';
  detail?: Record<string, unknown>;
}

/** Records a change in the same transaction as the change itself. */
export async function recordChange(tx: Tx, e: ChangeEvent): Promise<void> {
  await tx.execute(sql`insert into outbox (tenant_id, resource_type, resource_id, version, operation, detail)
    values (${e.tenantId}, ${e.resourceType}, ${e.resourceId}, ${e.version}, ${e.operation},
            ${e.detail ? JSON.stringify(e.detail) : null}::jsonb)`);
}
