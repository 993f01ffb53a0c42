import { createHash } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import { isUuid } from '../../scim/store/keys.ts';
import {
  afterSql,
  isSortKeyType,
  type KeysetOrder,
  type KeysetPosition,
  orderSql,
} from '../../scim/store/keyset.ts';
import { InvalidInputError } from './schema/errors.ts';

/** Relay connection arguments; only forward paging (first/after) is supported. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

/** A keyset position (shared with SCIM cursors): created_at, id, and the sort key + type. */
export type Position = KeysetPosition;

/** The page size asked for, validated: 0..100, 20 when absent; backward paging is refused. */
export function pageSize(args: PageArgs): number {
  if (args.last != null || args.before != null) {
    throw new InvalidInputError('only forward paging (first/after) is supported', 'invalidValue');
  }
  const first = args.first ?? DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) {
    throw new InvalidInputError(`first must be between 0 and ${MAX_PAGE}`, 'invalidValue');
  }
  return first;
}

const scopeHash = (scope: string) =>
  createHash('sha256').update(scope).digest('base64url').slice(0, 12);

/** A cursor bound to one listing (`scope`: type, filter, sort), so it cannot be replayed elsewhere. */
export function encodeCursor(scope: string, pos: Position): string {
  return Buffer.from(JSON.stringify({ q: scopeHash(scope), ...pos })).toString('base64url');
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

/** Decodes a cursor this listing issued; anything else is an InvalidInputError. */
export function decodeCursor(
  scope: string,
  cursor: string | null | undefined,
): Position | undefined {
  if (cursor == null || cursor === '') return undefined;
  const bad = () =>
    new InvalidInputError('the cursor is not one this listing issued', 'invalidCursor');
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!s || typeof s !== 'object' || s.q !== scopeHash(scope)) throw bad();
  if (typeof s.at !== 'string' || !TIMESTAMP.test(s.at) || Number.isNaN(Date.parse(s.at))) {
    throw bad();
  }
  if (!isUuid(s.id)) throw bad();
  const pos: Position = { at: s.at, id: s.id };
  if ('key' in s) {
    if (!(typeof s.key === 'string' || s.key === null)) throw bad();
    if (!isSortKeyType(s.type)) throw bad();
    pos.key = s.key;
    pos.type = s.type;
  }
  return pos;
}

export type Order = KeysetOrder;
export { afterSql, orderSql };

/** Extra columns a page query selects so every edge gets its own cursor. */
export function positionColumns(at: SQL, order?: Order) {
  return {
    cursorAt: sql<string>`to_json(${at}) #>> '{}'`,
    sortKey: order ? sql<string | null>`(${order.key})::text` : sql<null>`null`,
    sortType: order ? sql<string>`pg_typeof(${order.key})::text` : sql<null>`null`,
  };
}

export interface PositionedRow<R> {
  row: R;
  id: string;
  cursorAt: string;
  sortKey: string | null;
  sortType: string | null;
}

export interface ConnectionShape<R> {
  edges: { cursor: string; node: R }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: () => Promise<number>;
}

/**
 * Builds a connection from up to `size + 1` positioned rows (the extra one only tells that a
 * next page exists).
 */
export function toConnection<R>(
  scope: string,
  rows: PositionedRow<R>[],
  size: number,
  args: PageArgs,
  totalCount: () => Promise<number>,
  sorted: boolean,
): ConnectionShape<R> {
  const page = rows.slice(0, size);
  const edges = page.map((r) => ({
    node: r.row,
    cursor: encodeCursor(scope, {
      at: r.cursorAt,
      id: r.id,
      ...(sorted ? { key: r.sortKey, type: r.sortType ?? 'text' } : {}),
    }),
  }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > size,
      hasPreviousPage: Boolean(args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount,
  };
}

/** Memoises a count so asking for totalCount twice costs one query. */
export function lazyCount(run: () => Promise<number>): () => Promise<number> {
  let p: Promise<number> | undefined;
  return () => {
    p ??= run();
    return p;
  };
}

/**
 * A connection over a list already in memory (small by nature, e.g. a user's groups); the
 * cursor names the last item seen, so a page boundary survives items added elsewhere.
 */
export function arrayConnection<T, N>(
  scope: string,
  items: T[],
  idOf: (item: T) => string,
  nodeOf: (item: T) => N,
  args: PageArgs,
): ConnectionShape<N> & { edges: { cursor: string; node: N; item: T }[] } {
  const size = pageSize(args);
  const q = scopeHash(scope);
  const cursorOf = (item: T) =>
    Buffer.from(JSON.stringify({ q, id: idOf(item) })).toString('base64url');
  let start = 0;
  if (args.after) {
    let s: { q?: unknown; id?: unknown } = {};
    try {
      s = JSON.parse(Buffer.from(args.after, 'base64url').toString('utf8'));
    } catch {
      /* refused below */
    }
    if (s?.q !== q || typeof s.id !== 'string') {
      throw new InvalidInputError('the cursor is not one this listing issued', 'invalidCursor');
    }
    const at = items.findIndex((i) => idOf(i) === s.id);
    start = at === -1 ? items.length : at + 1;
  }
  const page = items.slice(start, start + size);
  const edges = page.map((item) => ({ cursor: cursorOf(item), node: nodeOf(item), item }));
  return {
    edges,
    pageInfo: {
      hasNextPage: start + size < items.length,
      hasPreviousPage: start > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount: async () => items.length,
  };
}
