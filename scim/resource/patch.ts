import { badRequest } from '../errors.ts';
import type { ResourceKind } from '../schemas/index.ts';
import { checkRequired, pruneEmpty, schemasFor, withoutSchemas } from './document.ts';
import { memberOpForFilter, memberOpForValue, memberValuesImmutable } from './members.ts';
import { isPassword } from './normalize.ts';
import { removeTarget, setTarget } from './patch-apply.ts';
import { resolveTarget, type Target, targetForKey } from './patch-target.ts';
import type {
  MemberOp,
  PatchOperation,
  PatchOpName,
  PatchResult,
  ScimDoc,
  SetMode,
} from './types.ts';
import { deepEqual, isObject } from './util.ts';

export { MAX_PATCH_OPERATIONS, parsePatchRequest } from './patch-request.ts';

interface PatchContext {
  kind: ResourceKind;
  id: string;
  doc: ScimDoc;
  members: MemberOp[];
  passwordSet: boolean;
}

function applyMembers(ctx: PatchContext, op: PatchOpName, t: Target, value: unknown): void {
  if (t.resolved.sub) throw memberValuesImmutable();
  const memberOp = t.filter
    ? memberOpForFilter(op, t.filter, t.subAttr?.name)
    : memberOpForValue(op, value);
  if (memberOp) ctx.members.push(memberOp);
}

function applyPassword(ctx: PatchContext, op: PatchOpName, value: unknown): void {
  if (op === 'remove' || value === null) return;
  if (typeof value !== 'string' || value === '') {
    throw badRequest('invalidValue', 'password must be a non-empty string');
  }
  ctx.passwordSet = true; // never stored: the caller decides what a password change means
}

function applyTarget(ctx: PatchContext, op: PatchOpName, t: Target, value: unknown): void {
  if (t.members) applyMembers(ctx, op, t, value);
  else if (isPassword(t.resolved)) applyPassword(ctx, op, value);
  else if (op === 'remove') removeTarget(ctx.kind, ctx.doc, t, value);
  else setTarget(ctx.kind, ctx.doc, t, op, value);
}

/** Okta renames a group with `{"id": "<same id>", "displayName": "New"}`: same id only. */
function checkIdKey(ctx: PatchContext, value: unknown): void {
  if (value !== ctx.id) throw badRequest('mutability', 'id is readOnly and cannot be changed');
}

/** An extension object inside a no-path value: each of its keys is an attribute of that URN. */
function applyExtension(ctx: PatchContext, mode: SetMode, urn: string, value: unknown): void {
  if (value === null) {
    if (mode === 'replace') delete ctx.doc[urn];
    return;
  }
  if (!isObject(value)) {
    throw badRequest('invalidValue', `${urn}: expected an object, got ${JSON.stringify(value)}`);
  }
  for (const [key, v] of Object.entries(value)) applyKey(ctx, mode, `${urn}:${key}`, v);
}

function applyKey(ctx: PatchContext, mode: SetMode, key: string, value: unknown): void {
  const lower = key.toLowerCase();
  const ext = ctx.kind.extensions.find((e) => e.id.toLowerCase() === lower);
  if (lower === 'schemas') return;
  if (lower === 'id') checkIdKey(ctx, value);
  else if (ext) applyExtension(ctx, mode, ext.id, value);
  else {
    const t = targetForKey(ctx.kind, key);
    // Unknown keys are ignored as in a POST body; readOnly ones were refused by targetForKey.
    if (t) applyTarget(ctx, mode, t, value);
  }
}

/**
 * No-path add / replace: the value is a resource fragment whose keys are attribute names or
 * paths (Entra: "name.givenName", "urn:…:enterprise:2.0:User:department"); each key is applied
 * as if it were the operation's path (RFC 7644 §3.5.2.1, §3.5.2.3).
 */
function applyNoPath(ctx: PatchContext, mode: SetMode, value: unknown): void {
  if (!isObject(value)) {
    throw badRequest('invalidValue', `An ${mode} without a path needs an object value`);
  }
  for (const [key, v] of Object.entries(value)) applyKey(ctx, mode, key, v);
}

function applyOperation(ctx: PatchContext, op: PatchOperation): void {
  if (op.path) {
    const t = resolveTarget(ctx.kind, op.path, op.pathText ?? op.path.path)!;
    applyTarget(ctx, op.op, t, op.value);
  } else if (op.op === 'remove') {
    throw badRequest('noTarget', 'remove needs a path');
  } else applyNoPath(ctx, op.op, op.value);
}

/**
 * Applies parsed PatchOp operations, in order, to a copy of `state.doc` (RFC 7644 §3.5.2 plus
 * the dialects of INTEROP.md). Pure: the first failing operation throws a ScimError and
 * nothing is applied. Group `members` changes come back as MemberOps, never in `doc`.
 */
export function applyPatch(
  kind: ResourceKind,
  state: { id: string; doc: ScimDoc },
  ops: PatchOperation[],
): PatchResult {
  const doc = structuredClone(state.doc);
  const ctx: PatchContext = { kind, id: state.id, doc, members: [], passwordSet: false };
  for (const op of ops) applyOperation(ctx, op);
  pruneEmpty(doc, kind);
  checkRequired(kind, doc, state.doc);
  const changed = !deepEqual(withoutSchemas(state.doc), withoutSchemas(doc));
  doc.schemas = schemasFor(kind, doc);
  return { doc, members: ctx.members, changed, passwordSet: ctx.passwordSet };
}
