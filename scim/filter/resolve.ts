import { badRequest, ScimError, type ScimType } from '../errors.ts';
import { type ResolvedAttr, type ResourceKind, resolveAttribute } from '../schemas/index.ts';
import { isAttrName } from './path.ts';

/**
 * Resolves a path met in a filter (or sortBy) against the kind's schemas. Inside a value path
 * (`emails[type eq "work"]`) `base` is the outer attribute and `path` must be one of its
 * sub-attribute names. Unknown → 400 (`code`); an attribute that is never returned
 * (password) → 403 sensitive, so a filter can never be used as an oracle for it.
 */
export function resolveFilterPath(
  kind: ResourceKind,
  path: string,
  base?: string,
  code: ScimType = 'invalidFilter',
): ResolvedAttr {
  if (base !== undefined && !isAttrName(path)) {
    throw badRequest(code, `'${path}' is not a sub-attribute name (inside '${base}[...]')`);
  }
  const full = base === undefined ? path : `${base}.${path}`;
  const resolved = resolveAttribute(kind, full);
  if (!resolved) throw badRequest(code, `Unknown attribute '${full}' for ${kind.type.name}`);
  if (resolved.attr.returned === 'never' || resolved.sub?.returned === 'never') {
    throw new ScimError(403, 'sensitive', `Attribute '${full}' cannot be used in a filter or sort`);
  }
  return resolved;
}

/**
 * The attribute a comparison actually compares: RFC 7644 §3.4.2.2 lets a bare multi-valued
 * complex attribute stand for its `value` sub-attribute (`emails co "x"`). Any other complex
 * attribute without a sub-attribute cannot be compared.
 */
export function comparedAttr(
  resolved: ResolvedAttr,
  code: ScimType = 'invalidFilter',
): ResolvedAttr {
  if (resolved.sub || resolved.attr.type !== 'complex') return resolved;
  const value = resolved.attr.multiValued
    ? resolved.attr.subAttributes?.find((s) => s.name === 'value')
    : undefined;
  if (!value) {
    throw badRequest(code, `Complex attribute '${resolved.attr.name}' needs a sub-attribute here`);
  }
  return { ...resolved, sub: value, docPath: [...resolved.docPath, value.name] };
}
