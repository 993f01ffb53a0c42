import { badRequest } from '../errors.ts';
import { parsePatchPath } from '../filter/parse.ts';
import { SCHEMA } from '../schemas/index.ts';
import type { PatchOperation, PatchOpName } from './types.ts';
import { getCI, isObject } from './util.ts';

/** Most operations accepted in one PatchOp request; more is a 400 tooMany. */
export const MAX_PATCH_OPERATIONS = 1000;

const OP_NAMES: ReadonlySet<string> = new Set(['add', 'replace', 'remove']);

const syntax = (detail: string) => badRequest('invalidSyntax', detail);

function checkSchemas(body: Record<string, unknown>): void {
  const schemas = getCI(body, 'schemas');
  const wanted = SCHEMA.patchOp.toLowerCase();
  const ok =
    Array.isArray(schemas) &&
    schemas.some((s) => typeof s === 'string' && s.toLowerCase() === wanted);
  if (!ok) throw syntax(`schemas must contain "${SCHEMA.patchOp}"`);
}

function operationList(body: Record<string, unknown>): unknown[] {
  const ops = getCI(body, 'Operations');
  if (!Array.isArray(ops) || ops.length === 0) {
    throw syntax('Operations must be a non-empty array');
  }
  if (ops.length > MAX_PATCH_OPERATIONS) {
    throw badRequest(
      'tooMany',
      `A PatchOp request may hold at most ${MAX_PATCH_OPERATIONS} operations, got ${ops.length}`,
    );
  }
  return ops;
}

function opName(raw: unknown, at: string): PatchOpName {
  const lower = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (!OP_NAMES.has(lower)) {
    throw syntax(`${at}.op must be "add", "replace" or "remove", got ${JSON.stringify(raw)}`);
  }
  return lower as PatchOpName;
}

function parseOperation(raw: unknown, index: number): PatchOperation {
  const at = `Operations[${index}]`;
  if (!isObject(raw)) throw syntax(`${at} must be an object`);
  const op = opName(getCI(raw, 'op'), at);
  const pathText = getCI(raw, 'path');
  const value = getCI(raw, 'value');
  const result: PatchOperation = { op };
  if (pathText !== undefined && pathText !== null) {
    if (typeof pathText !== 'string')
      throw badRequest('invalidPath', `${at}.path must be a string`);
    result.path = parsePatchPath(pathText);
    result.pathText = pathText;
  } else if (op === 'remove') {
    throw badRequest('noTarget', `${at}: remove needs a path`);
  }
  if (value === undefined && op !== 'remove') throw syntax(`${at}: ${op} needs a value`);
  if (value !== undefined) result.value = value;
  return result;
}

/**
 * Validates a PatchOp body (RFC 7644 §3.5.2) and parses every path. Operation names and
 * member keys are case-insensitive (`Replace`, `operations`); the paths are resolved against
 * a schema later, in applyPatch. Throws ScimError 400.
 */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw syntax('The body must be a JSON object');
  checkSchemas(body);
  return operationList(body).map(parseOperation);
}
