import { type ResourceKind, SCHEMA } from './schemas/index.ts';
import type { ResourceRow } from './store/types.ts';

export const etagOf = (version: number) => `W/"${version}"`;

/**
 * Renders a stored row as a SCIM resource: schemas from the extensions present, id,
 * externalId, the document, the computed references, and meta. No nulls are emitted.
 */
export function renderResource(
  kind: ResourceKind,
  row: ResourceRow,
  base: string,
): Record<string, unknown> {
  const { schemas: _ignored, ...doc } = row.doc;
  const schemas = [
    kind.core.id,
    ...kind.extensions.filter((e) => doc[e.id] !== undefined).map((e) => e.id),
  ];
  const out: Record<string, unknown> = { schemas, id: row.id };
  if (row.externalId) out.externalId = row.externalId;
  // Schema order reads naturally (userName first); jsonb keeps keys in its own order.
  for (const a of kind.core.attributes) if (doc[a.name] !== undefined) out[a.name] = doc[a.name];
  for (const e of kind.extensions) if (doc[e.id] !== undefined) out[e.id] = doc[e.id];
  if (row.related) {
    const key = kind.core.id === SCHEMA.group ? 'members' : 'groups';
    const refType = kind.core.id === SCHEMA.group ? null : 'Groups';
    if (row.related.length) {
      out[key] = row.related.map((r) => {
        const ref: Record<string, unknown> = { value: r.value };
        const endpoint = refType ?? (r.type === 'Group' ? 'Groups' : 'Users');
        ref.$ref = `${base}/${endpoint}/${r.value}`;
        if (r.display) ref.display = r.display;
        ref.type = r.type;
        return ref;
      });
    }
  }
  out.meta = {
    resourceType: kind.type.name,
    created: row.createdAt.toISOString(),
    lastModified: row.updatedAt.toISOString(),
    location: `${base}${kind.type.endpoint}/${row.id}`,
    version: etagOf(row.version),
  };
  return out;
}
