export { MAX_JSON_DEPTH, parseJsonBody } from './json.ts';
export { normalizeAttributeValue, normalizeResource } from './normalize.ts';
export { applyPatch, MAX_PATCH_OPERATIONS, parsePatchRequest } from './patch.ts';
export type {
  MemberOp,
  MemberRef,
  NormalizedResource,
  PatchOperation,
  PatchResult,
  ScimDoc,
} from './types.ts';
