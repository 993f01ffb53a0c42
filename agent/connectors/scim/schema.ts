/**
 * Attribute and resource-type listings from SCIM discovery (RFC 7643 §6–7): the User resource
 * type's core schema and extensions. Names are SCIM attribute paths: `userName`, `name.givenName`;
 * extension attributes carry their schema URN, `urn:…:enterprise:2.0:User:employeeNumber`.
 */
import type { ListResponse, ScimResource } from '../../../scim/client/index.ts';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

interface ScimAttribute {
  name?: unknown;
  type?: unknown;
  multiValued?: unknown;
  required?: unknown;
  description?: unknown;
  subAttributes?: unknown;
}

export interface AttributeInfo {
  name: string;
  type?: string;
  multiValued: boolean;
  required: boolean;
  description?: string;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Schema URNs of the User resource type (core first), or the core User schema alone. */
export function userSchemaIds(resourceTypes: ListResponse): string[] {
  const user = resourceTypes.Resources.find((t) => t.name === 'User' || t.endpoint === '/Users');
  const core = str(user?.schema) ?? USER_SCHEMA;
  const extensions = asArray(user?.schemaExtensions).flatMap((e) =>
    e && typeof e === 'object' ? (str((e as { schema?: unknown }).schema) ?? []) : [],
  );
  return [core, ...extensions];
}

export function attributesOf(schemas: ListResponse, ids: string[]): AttributeInfo[] {
  return ids.flatMap((id, i) => {
    const schema = schemas.Resources.find((s) => s.id === id);
    const prefix = i === 0 ? '' : `${id}:`;
    return asArray(schema?.attributes).flatMap((a) => describe(a as ScimAttribute, prefix));
  });
}

/** The attribute, then its sub-attributes as `name.sub` (multi-valued when the parent is). */
function describe(a: ScimAttribute, prefix: string, parent?: AttributeInfo): AttributeInfo[] {
  const name = str(a.name);
  if (!name) return [];
  const type = str(a.type);
  const description = str(a.description);
  const info: AttributeInfo = {
    name: parent ? `${parent.name}.${name}` : `${prefix}${name}`,
    multiValued: a.multiValued === true || (parent?.multiValued ?? false),
    required: a.required === true,
    ...(type ? { type } : {}),
    ...(description ? { description } : {}),
  };
  if (parent) return [info];
  return [info, ...asArray(a.subAttributes).flatMap((s) => describe(s as ScimAttribute, '', info))];
}

export function resourceTypesOf(list: ListResponse) {
  return list.Resources.flatMap((t: ScimResource) => {
    const name = str(t.name);
    if (!name) return [];
    const endpoint = str(t.endpoint);
    const schema = str(t.schema);
    const description = str(t.description);
    return [
      {
        name,
        ...(endpoint ? { endpoint } : {}),
        ...(schema ? { schema } : {}),
        ...(description ? { description } : {}),
      },
    ];
  });
}
