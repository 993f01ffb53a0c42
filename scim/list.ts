import { createHash } from 'node:crypto';
import { badRequest } from './errors.ts';
import type { FilterNode } from './filter/ast.ts';
import { parseAttributeList, parseFilter } from './filter/parse.ts';
import { isUuid } from './store/keys.ts';
import { isSortKeyType, type KeysetPosition } from './store/keyset.ts';

/** A list/search request, from GET query parameters or a POST /.search body. */
export interface ListRequest {
  filter?: FilterNode;
  filterText?: string;
  sortBy?: string;
  descending: boolean;
  startIndex: number;
  count: number;
  /** Present (possibly '') when the client asked for cursor pagination (RFC 9865). */
  cursor?: string;
  attributes?: string[];
  excludedAttributes?: string[];
}

const DEFAULT_COUNT = 100;

function intParam(name: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isFinite(n)) throw badRequest('invalidValue', `${name} must be an integer`);
  return Math.trunc(n);
}

function listParam(raw: unknown): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw)) return raw.flatMap((r) => parseAttributeList(String(r)));
  return parseAttributeList(String(raw));
}

/**
 * Builds a ListRequest from parameters whose names are matched case-insensitively
 * (Entra sends `startindex`, Okta `startIndex`).
 */
export function parseListRequest(params: Record<string, unknown>, maxResults: number): ListRequest {
  const p = new Map(Object.entries(params).map(([k, v]) => [k.toLowerCase(), v]));
  const filterText = p.get('filter');
  if (filterText !== undefined && typeof filterText !== 'string')
    throw badRequest('invalidFilter', 'filter must be a string');
  const sortBy = p.get('sortby');
  const sortOrder = String(p.get('sortorder') ?? 'ascending').toLowerCase();
  if (sortOrder !== 'ascending' && sortOrder !== 'descending') {
    throw badRequest('invalidValue', 'sortOrder must be "ascending" or "descending"');
  }
  const count = intParam('count', p.get('count'));
  const startIndex = intParam('startIndex', p.get('startindex'));
  const cursor = p.get('cursor');
  const req: ListRequest = {
    descending: sortOrder === 'descending',
    // Clamped so OFFSET stays a valid bigint (startIndex=1e20 was a 500).
    startIndex: Math.min(Math.max(1, startIndex ?? 1), Number.MAX_SAFE_INTEGER),
    count: Math.min(Math.max(0, count ?? DEFAULT_COUNT), maxResults),
  };
  if (filterText !== undefined && filterText.trim() !== '') {
    req.filter = parseFilter(filterText);
    req.filterText = filterText;
  }
  if (typeof sortBy === 'string' && sortBy.trim()) req.sortBy = sortBy.trim();
  if (cursor !== undefined) {
    if (startIndex !== undefined)
      throw badRequest('invalidValue', 'use either cursor or startIndex, not both');
    req.cursor = String(cursor);
  }
  const attributes = listParam(p.get('attributes'));
  const excluded = listParam(p.get('excludedattributes'));
  if (attributes?.length) req.attributes = attributes;
  if (excluded?.length) req.excludedAttributes = excluded;
  return req;
}

/** What a cursor remembers: the query it belongs to and where the next page starts. */
interface CursorState {
  q: string;
  after?: KeysetPosition;
  offset?: number;
}

const queryHash = (resource: string, r: ListRequest) =>
  createHash('sha256')
    .update(JSON.stringify([resource, r.filterText ?? '', r.sortBy ?? '', r.descending]))
    .digest('base64url')
    .slice(0, 16);

export function encodeCursor(
  resource: string,
  r: ListRequest,
  pos: Omit<CursorState, 'q'>,
): string {
  return Buffer.from(JSON.stringify({ q: queryHash(resource, r), ...pos })).toString('base64url');
}

/** Decodes a cursor; one from another query or tampered with is 400 invalidCursor. */
export function decodeCursor(resource: string, r: ListRequest): Omit<CursorState, 'q'> {
  if (!r.cursor) return {};
  let state: CursorState;
  try {
    state = JSON.parse(Buffer.from(r.cursor, 'base64url').toString('utf8')) as CursorState;
  } catch {
    throw badRequest('invalidCursor', 'the cursor is not one this server issued');
  }
  if (!state || state.q !== queryHash(resource, r)) {
    throw badRequest('invalidCursor', 'the cursor does not belong to this query');
  }
  const validAfter =
    state.after &&
    isUuid(state.after.id) &&
    typeof state.after.at === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(state.after.at) &&
    !Number.isNaN(Date.parse(state.after.at)) &&
    // A sorted listing's cursor carries the sort key (text or null) and its type; others none.
    (r.sortBy
      ? (typeof state.after.key === 'string' || state.after.key === null) &&
        isSortKeyType(state.after.type)
      : state.after.key === undefined);
  if (state.after && !validAfter) throw badRequest('invalidCursor', 'the cursor is malformed');
  if (state.offset !== undefined && !(Number.isSafeInteger(state.offset) && state.offset >= 0)) {
    throw badRequest('invalidCursor', 'the cursor is malformed');
  }
  return { after: state.after, offset: state.offset };
}
