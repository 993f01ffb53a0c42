/**
 * SCIM resources as protocol entries. Flattening is one level deep and lossless:
 * each top-level attribute becomes a list of strings —
 *   - a string stays as is                        userName: "alice"        → ["alice"]
 *   - a number / boolean becomes its JSON text    active: true             → ["true"]
 *   - an object becomes its JSON text             name: {givenName: "A"}   → ['{"givenName":"A"}']
 *   - an array gives one value per element, each by the rules above
 *                                                 emails: [{value: "a@x"}] → ['{"value":"a@x"}']
 *   - null and empty arrays are left out.
 * Extension schemas are top-level attributes named by their URN, so they become one JSON text.
 */
import type { Entry } from '../../protocol.ts';

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export function flattenResource(resource: Record<string, unknown>): Entry {
  const attributes: Entry['attributes'] = {};
  for (const [name, value] of Object.entries(resource)) {
    if (value === null || value === undefined) continue;
    const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== null);
    if (values.length) attributes[name] = values.map(text);
  }
  return { id: typeof resource.id === 'string' ? resource.id : '', attributes };
}
