import type { Db } from '../db/client.ts';
import { badRequest } from './errors.ts';
import { compileFilter, compileSortKey } from './filter/compile.ts';
import { decodeCursor, encodeCursor, type ListRequest } from './list.ts';
import { applyProjection, compileProjection, computedSet, wantsKey } from './projection.ts';
import { pgCode } from './render.ts';
import { type ResourceKind, relatedKeyOf, SCHEMA } from './schemas/index.ts';
import { renderResource } from './serialize.ts';
import { tableOf } from './service.ts';
import { listResources } from './store/resources.ts';

/**
 * Runs a list/search request in PostgreSQL and renders the ListResponse: filter, sort and
 * paging are SQL; `totalResults` is the real count.
 */
export async function runList(
  db: Db,
  tenantId: string,
  kind: ResourceKind,
  req: ListRequest,
  base: string,
): Promise<Record<string, unknown>> {
  const table = tableOf(kind);
  const proj = compileProjection(kind, req);
  const where = req.filter ? compileFilter(req.filter, kind, table) : undefined;
  const orderBy = req.sortBy
    ? { key: compileSortKey(req.sortBy, kind, table), descending: req.descending }
    : undefined;
  const cursorMode = req.cursor !== undefined;
  const pos = cursorMode ? decodeCursor(kind.type.name, req) : {};
  const offset = cursorMode ? (pos.offset ?? 0) : req.startIndex - 1;
  const result = await invalidCursorOnBadKey(
    pos.after !== undefined,
    listResources(db.db, table, tenantId, {
      where,
      orderBy,
      offset: pos.after ? 0 : offset,
      after: pos.after,
      limit: req.count,
      withRelated: relatedKeyOf(kind) !== undefined && wantsKey(proj, relatedKeyOf(kind) ?? ''),
      computed: computedSet(kind, proj),
      withSortKey: cursorMode,
    }),
  );
  const resources = result.rows.map((r) => applyProjection(renderResource(kind, r, base), proj));
  const body: Record<string, unknown> = {
    schemas: [SCHEMA.listResponse],
    totalResults: result.total,
    itemsPerPage: resources.length,
  };
  if (!cursorMode) body.startIndex = req.startIndex;
  if (cursorMode && req.count > 0 && result.rows.length === req.count) {
    // Keyset, not offset: rows inserted before the position mid-walk shift nothing.
    const last = result.rows[result.rows.length - 1];
    const next = last
      ? {
          after: {
            at: last.createdAt.toISOString(),
            id: last.id,
            ...(orderBy ? { key: result.lastKey ?? null, type: result.lastKeyType } : {}),
          },
        }
      : { offset: offset + result.rows.length };
    body.nextCursor = encodeCursor(kind.type.name, req, next);
  }
  if (req.count > 0 || resources.length) body.Resources = resources;
  return body;
}

/** A forged cursor key the sort expression's type cannot read is the client's error. */
async function invalidCursorOnBadKey<T>(hasPosition: boolean, run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (e) {
    if (hasPosition && pgCode(e)?.startsWith('22')) {
      throw badRequest('invalidCursor', 'the cursor is malformed');
    }
    throw e;
  }
}
