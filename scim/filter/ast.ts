/**
 * SCIM filter tree (RFC 7644 §3.4.2.2). Attribute paths are kept as written (with an optional
 * URN prefix); resolution against a schema happens in the consumer (SQL compiler, matcher).
 */
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterValue = string | number | boolean | null;

export type FilterNode =
  | { kind: 'compare'; path: string; op: CompareOp; value: FilterValue }
  | { kind: 'present'; path: string }
  | { kind: 'and'; left: FilterNode; right: FilterNode }
  | { kind: 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; filter: FilterNode }
  /** attrPath "[" valFilter "]": the inner filter's paths are relative to `path`'s elements. */
  | { kind: 'valuePath'; path: string; filter: FilterNode };

/** A PATCH path (RFC 7644 §3.5.2): attrPath, or valuePath with an optional ".subAttr". */
export interface PatchPath {
  /** "[urn:]attr" or "[urn:]attr.sub" when there is no value filter. */
  path: string;
  filter?: FilterNode;
  /** Sub-attribute after the closing bracket: emails[type eq "work"].value → "value". */
  subAttr?: string;
}
