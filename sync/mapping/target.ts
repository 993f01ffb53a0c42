import { ScimError } from '../../scim/errors.ts';
import type { FilterNode } from '../../scim/filter/ast.ts';
import { parsePatchPath } from '../../scim/filter/parse.ts';
import { resolveTarget, type Target } from '../../scim/resource/patch-target.ts';
import { findSub } from '../../scim/resource/values.ts';
import { type AttributeDef, SCHEMA, userKind } from '../../scim/schemas/index.ts';
import { MappingError } from './values.ts';

/** The kinds of value a SCIM target takes from a transform chain. */
export type TargetKind = 'text' | 'boolean' | 'path';

/** A target path checked against the User schemas (core, enterprise, idhub). */
export interface CompiledTarget {
  text: string;
  kind: TargetKind;
  /** Schema URN the value lives under (the core URN for core attributes). */
  schema: string;
  /** Canonical key path in the document; for an element target, the path of the array. */
  docPath: string[];
  /** `emails[type eq "work"].value` → the element `{type: "work"}` and its `value`. */
  element?: { match: Record<string, string | boolean>; sub: string };
  /** The idhub organisation: a path of names, resolved to an Organization by the sync engine. */
  organization: boolean;
  /** The schema requires it (userName): a rule for it is always required. */
  required: boolean;
  /** Equal for two paths that name the same place, however they are spelled. */
  key: string;
}

function resolve(text: string): Target {
  try {
    const target = resolveTarget(userKind, parsePatchPath(text), text, 'skip');
    if (!target) throw new MappingError(`unknown SCIM attribute "${text}"`);
    return target;
  } catch (e) {
    if (!(e instanceof ScimError)) throw e;
    if (e.scimType === 'mutability') {
      throw new MappingError(`SCIM attribute "${text}" is readOnly; a mapping cannot set it`);
    }
    throw new MappingError(e.detail);
  }
}

/** `type eq "work" and primary eq true` → {type:"work", primary:true}: the element to create. */
function elementMatch(node: FilterNode, attr: AttributeDef, out: Record<string, string | boolean>) {
  if (node.kind === 'and') {
    elementMatch(node.left, attr, out);
    elementMatch(node.right, attr, out);
    return out;
  }
  const sub = node.kind === 'compare' && node.op === 'eq' ? findSub(attr, node.path) : undefined;
  if (node.kind !== 'compare' || !sub) {
    throw new MappingError('the filter must be "sub eq value" terms joined by "and"');
  }
  const ok =
    (sub.type === 'boolean' && typeof node.value === 'boolean') ||
    (sub.type === 'string' && typeof node.value === 'string');
  if (!ok) throw new MappingError(`"${sub.name}" takes a ${sub.type} value in the filter`);
  out[sub.name] = node.value as string | boolean;
  return out;
}

function kindOf(def: AttributeDef, text: string): TargetKind {
  if (def.type === 'string' || def.type === 'reference') return 'text';
  if (def.type === 'boolean') return 'boolean';
  if (def.type === 'complex') {
    throw new MappingError(`"${text}" is complex: name a sub-attribute (e.g. name.givenName)`);
  }
  throw new MappingError(`"${text}" has type ${def.type}, which no transform produces`);
}

/** Resolves a mapping target against the User schemas; throws MappingError with the reason. */
export function compileTarget(text: string): CompiledTarget {
  const t = resolve(text);
  const { attr, sub, schema, docPath } = t.resolved;
  const leaf = t.subAttr ?? sub ?? attr;
  if (leaf.mutability === 'writeOnly') {
    throw new MappingError(`SCIM attribute "${text}" is writeOnly; a mapping cannot set it`);
  }
  const organization = schema === SCHEMA.idhubUser && attr.name === 'organization';
  if (organization && sub) {
    // The value is an Organization id of the hub, which a directory cannot know.
    throw new MappingError(`map a DN to "${SCHEMA.idhubUser}:organization" with dnToOrganization`);
  }
  const kind: TargetKind = organization ? 'path' : kindOf(leaf, text);
  const base = { text, kind, schema, docPath, organization, required: leaf.required };
  if (!t.filter || !t.subAttr) return { ...base, key: docPath.join('.').toLowerCase() };
  const match = elementMatch(t.filter, attr, {});
  if (Object.hasOwn(match, t.subAttr.name)) {
    throw new MappingError(`the filter already sets "${t.subAttr.name}"`);
  }
  const element = { match, sub: t.subAttr.name };
  const sorted = Object.entries(match).sort(([a], [b]) => a.localeCompare(b));
  const key = `${docPath.join('.')}${JSON.stringify(sorted)}.${element.sub}`.toLowerCase();
  return { ...base, element, key };
}
