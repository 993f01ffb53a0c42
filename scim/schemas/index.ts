import { commonAttributes } from './common.ts';
import { enterpriseUserSchema } from './enterprise.ts';
import { groupSchema } from './group.ts';
import { idhubUserSchema } from './idhub.ts';
import { organizationSchema } from './organization.ts';
import { type AttributeDef, type ResourceTypeDef, SCHEMA, type SchemaDef } from './types.ts';
import { userSchema } from './user.ts';

export * from './types.ts';
export {
  commonAttributes,
  enterpriseUserSchema,
  groupSchema,
  idhubUserSchema,
  organizationSchema,
  userSchema,
};

/** A resource type with its core schema and extensions, as the protocol code sees it. */
export interface ResourceKind {
  type: ResourceTypeDef;
  core: SchemaDef;
  extensions: SchemaDef[];
}

export const userKind: ResourceKind = {
  type: {
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: SCHEMA.user,
    schemaExtensions: [
      { schema: SCHEMA.enterprise, required: false },
      { schema: SCHEMA.idhubUser, required: false },
    ],
  },
  core: userSchema,
  extensions: [enterpriseUserSchema, idhubUserSchema],
};

export const groupKind: ResourceKind = {
  type: {
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Group',
    schema: SCHEMA.group,
    schemaExtensions: [],
  },
  core: groupSchema,
  extensions: [],
};

export const organizationKind: ResourceKind = {
  type: {
    id: 'Organization',
    name: 'Organization',
    endpoint: '/Organizations',
    description: "The tenant's organisation tree",
    schema: SCHEMA.organization,
    schemaExtensions: [],
  },
  core: organizationSchema,
  extensions: [],
};

export const resourceKinds: ResourceKind[] = [userKind, groupKind, organizationKind];
export const allSchemas: SchemaDef[] = [
  userSchema,
  enterpriseUserSchema,
  idhubUserSchema,
  groupSchema,
  organizationSchema,
];

/** An attribute path resolved against a resource kind's schemas. */
export interface ResolvedAttr {
  /** Schema URN the attribute belongs to (core URN for id/externalId/meta). */
  schema: string;
  /** True when the attribute lives under the extension URN key in the stored document. */
  extension: boolean;
  attr: AttributeDef;
  sub?: AttributeDef;
  /** Key path in the stored document, canonical case: e.g. ['name','givenName'] or [urn,'manager','value']. */
  docPath: string[];
}

const findAttr = (list: AttributeDef[], name: string) => {
  const lower = name.toLowerCase();
  return list.find((a) => a.name.toLowerCase() === lower);
};

/** Splits an attribute path into an optional schema URN and the attribute part ("a.b"). */
export function splitUrn(kind: ResourceKind, path: string): { urn?: string; rest: string } {
  if (!path.toLowerCase().startsWith('urn:')) return { rest: path };
  const lower = path.toLowerCase();
  for (const s of schemasLongestFirst(kind)) {
    const id = s.id.toLowerCase();
    if (lower === id) return { urn: s.id, rest: '' };
    if (lower.startsWith(`${id}:`)) return { urn: s.id, rest: path.slice(id.length + 1) };
  }
  return { urn: '', rest: path };
}

const byLength = new WeakMap<ResourceKind, { id: string }[]>();
/** A kind's schemas, longest URN first (so an extension wins over a prefix of it); cached. */
function schemasLongestFirst(kind: ResourceKind): { id: string }[] {
  let list = byLength.get(kind);
  if (!list) {
    list = [kind.core, ...kind.extensions].sort((a, b) => b.id.length - a.id.length);
    byLength.set(kind, list);
  }
  return list;
}

/**
 * Resolves "[urn:]attr[.sub]" against a kind. Returns undefined for anything unknown, so callers
 * answer 400 (invalidFilter / invalidPath / noTarget) instead of guessing.
 */
export function resolveAttribute(kind: ResourceKind, path: string): ResolvedAttr | undefined {
  const { urn, rest } = splitUrn(kind, path);
  if (urn === '' || rest === '') return undefined;
  const parts = rest.split('.');
  if (parts.length > 2 || parts.some((p) => p === '')) return undefined;
  const [first, second] = parts as [string, string | undefined];
  const ext = urn ? kind.extensions.find((e) => e.id === urn) : undefined;
  let attrDef: AttributeDef | undefined;
  if (ext) attrDef = findAttr(ext.attributes, first);
  else attrDef = findAttr(commonAttributes, first) ?? findAttr(kind.core.attributes, first);
  if (!attrDef) return undefined;
  const docPath = ext ? [ext.id, attrDef.name] : [attrDef.name];
  const resolved: ResolvedAttr = {
    schema: ext?.id ?? kind.core.id,
    extension: !!ext,
    attr: attrDef,
    docPath,
  };
  if (second === undefined) return resolved;
  const sub = findAttr(attrDef.subAttributes ?? [], second);
  if (!sub) return undefined;
  return { ...resolved, sub, docPath: [...docPath, sub.name] };
}

/** The computed reference list of a kind: a group's members, a user's groups; none otherwise. */
export function relatedKeyOf(kind: ResourceKind): 'members' | 'groups' | undefined {
  if (kind.core.id === SCHEMA.group) return 'members';
  return kind.core.id === SCHEMA.user ? 'groups' : undefined;
}

/** Finds a resource kind by endpoint segment ("users", "Groups"), case-insensitively. */
export function kindByEndpoint(segment: string): ResourceKind | undefined {
  const lower = `/${segment.toLowerCase()}`;
  return resourceKinds.find((k) => k.type.endpoint.toLowerCase() === lower);
}
