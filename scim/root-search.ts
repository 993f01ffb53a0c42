import { Hono } from 'hono';
import type { AppEnv } from '../api/env.ts';
import { readJson } from './body.ts';
import { ScimError } from './errors.ts';
import { type ListRequest, parseListRequest } from './list.ts';
import { baseUrl } from './location.ts';
import { runList } from './query.ts';
import { scimJson } from './render.ts';
import { groupKind, type ResourceKind, SCHEMA, userKind } from './schemas/index.ts';

/**
 * `POST /.search` at the root (RFC 7644 §3.4.3): searched across Users and Groups, users first,
 * paged over the concatenation. Attributes must make sense for both types.
 */
export const rootSearchRoutes = new Hono<AppEnv>().post('/.search', async (c) => {
  const body = await readJson(c);
  if (!Array.isArray(body.schemas) || !body.schemas.includes(SCHEMA.searchRequest)) {
    throw new ScimError(
      400,
      'invalidSyntax',
      `a search request must carry the schema ${SCHEMA.searchRequest}`,
    );
  }
  const { schemas: _s, ...params } = body;
  const { db, config } = c.get('services');
  const tenantId = c.get('principal').tenantId;
  const req = parseListRequest(params, config.scim.maxResults);
  if (req.cursor !== undefined)
    throw new ScimError(400, 'invalidValue', 'cursor paging is per resource type');
  // A filter or attribute that exists for one type only (userName, members) selects nothing of
  // the other type; only when it fits neither is it the client's error.
  const errors: ScimError[] = [];
  const tryList = async (kind: ResourceKind, r: ListRequest) => {
    try {
      return await runList(db, tenantId, kind, r, baseUrl(c));
    } catch (e) {
      if (!(e instanceof ScimError) || e.status !== 400) throw e;
      errors.push(e);
      return { totalResults: 0, Resources: [] } as Record<string, unknown>;
    }
  };
  const users = await tryList(userKind, req);
  const userTotal = users.totalResults as number;
  const usersShown = (users.Resources as unknown[] | undefined) ?? [];
  const groupStart = Math.max(1, req.startIndex - userTotal);
  const groupCount = Math.max(0, req.count - usersShown.length);
  const groups = await tryList(groupKind, { ...req, startIndex: groupStart, count: groupCount });
  if (errors.length === 2) throw errors[0];
  const all = [...usersShown, ...((groups.Resources as unknown[] | undefined) ?? [])];
  return scimJson(c, {
    schemas: [SCHEMA.listResponse],
    totalResults: userTotal + (groups.totalResults as number),
    itemsPerPage: all.length,
    startIndex: req.startIndex,
    ...(req.count > 0 ? { Resources: all } : {}),
  });
});
