import type { PatchPath } from '../filter/ast.ts';

/** A stored resource document: core attributes at top level, extensions under their URN. */
export type ScimDoc = Record<string, unknown>;

/** One group member reference, as normalised from a request (`$ref` dropped). */
export interface MemberRef {
  value: string;
  type?: 'User' | 'Group';
  /** A label the client sent (`display`, or `displayName` as some clients do); shown back. */
  display?: string;
}

/** A membership change derived from a PATCH; the caller applies them in order to the table. */
export type MemberOp =
  | { kind: 'add'; members: MemberRef[] }
  | { kind: 'remove'; ids: string[] }
  | { kind: 'replace'; members: MemberRef[] }
  | { kind: 'clear' };

export type PatchOpName = 'add' | 'replace' | 'remove';
export type SetMode = 'add' | 'replace';

/** One validated PatchOp operation; `path` is parsed but not yet resolved against a schema. */
export interface PatchOperation {
  op: PatchOpName;
  path?: PatchPath;
  /** The path as the client wrote it, for error messages. */
  pathText?: string;
  /** Absent for `remove` without a value; `null` is kept (it means "unassign"). */
  value?: unknown;
}

/** What normalizeResource returns for a POST or PUT body. */
export interface NormalizedResource {
  doc: ScimDoc;
  /** Group members, only when the body carried `members` (absent: leave membership alone). */
  members?: MemberRef[];
  /** True when the body carried a password; it is never part of `doc`. */
  hasPassword: boolean;
}

/** What applyPatch returns. */
export interface PatchResult {
  doc: ScimDoc;
  /** Membership changes, in request order (groups only). */
  members: MemberOp[];
  /** True when `doc` differs from the input document (member ops are not counted). */
  changed: boolean;
  /** True when an operation set `password` (dropped from `doc`). */
  passwordSet: boolean;
}
