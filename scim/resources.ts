import { type Context, Hono } from 'hono';
import type { AppEnv } from '../api/env.ts';
import { readJson } from './body.ts';
import { ScimError } from './errors.ts';
import { parseListRequest } from './list.ts';
import { baseUrl } from './location.ts';
import { notModified } from './preconditions.ts';
import { applyProjection, compileProjection, computedSet, wantsKey } from './projection.ts';
import { runList } from './query.ts';
import { scimJson } from './render.ts';
import { type ResourceKind, relatedKeyOf, SCHEMA } from './schemas/index.ts';
import { etagOf, renderResource } from './serialize.ts';
import {
  createResource,
  patchResource,
  readResource,
  removeResource,
  replaceResource,
  type WriteContext,
} from './service.ts';
import type { ResourceRow } from './store/types.ts';

function writeCtx(c: Context<AppEnv>, kind: ResourceKind): WriteContext {
  return {
    db: c.get('services').db,
    tenantId: c.get('principal').tenantId,
    kind,
    ifMatch: c.req.header('if-match'),
    actor: { type: 'token', id: c.get('principal').tokenId, requestId: c.get('requestId') },
  };
}

function queryParams(c: Context<AppEnv>): Record<string, string> {
  return Object.fromEntries(new URL(c.req.url).searchParams);
}

/** Renders one resource honouring `attributes`/`excludedAttributes` from the query string. */
async function respond(
  c: Context<AppEnv>,
  kind: ResourceKind,
  row: ResourceRow,
  status: 200 | 201,
) {
  const params = parseListRequest(queryParams(c), 1);
  const proj = compileProjection(kind, params);
  // A user just created belongs to no group yet: nothing to read back.
  const rel = relatedKeyOf(kind);
  let full = status === 201 && rel === 'groups' ? { ...row, related: [] } : row;
  const computed = computedSet(kind, proj);
  // `returned: request` attributes (roles, certificates, accounts, …) are read when asked for.
  const more = computed !== undefined && Object.values(computed).some(Boolean);
  if ((rel && !full.related && wantsKey(proj, rel)) || more) {
    full = await readResource(
      c.get('services').db,
      c.get('principal').tenantId,
      kind,
      row.id,
      true,
      computed,
    );
  }
  const body = applyProjection(renderResource(kind, full, baseUrl(c)), proj);
  const headers: Record<string, string> = { ETag: etagOf(full.version) };
  if (status === 201)
    headers.Location =
      (body.meta as { location: string } | undefined)?.location ??
      `${baseUrl(c)}${kind.type.endpoint}/${row.id}`;
  return scimJson(c, body, status, headers);
}

/** Users or Groups: list, search, create, read, replace, patch, delete. */
export function resourceRoutes(kind: ResourceKind): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .get('/', async (c) => {
      const req = parseListRequest(queryParams(c), c.get('services').config.scim.maxResults);
      return scimJson(
        c,
        await runList(c.get('services').db, c.get('principal').tenantId, kind, req, baseUrl(c)),
      );
    })
    .post('/.search', async (c) => {
      const body = await readJson(c);
      const schemas = body.schemas;
      if (!Array.isArray(schemas) || !schemas.includes(SCHEMA.searchRequest)) {
        throw new ScimError(
          400,
          'invalidSyntax',
          `a search request must carry the schema ${SCHEMA.searchRequest}`,
        );
      }
      const { schemas: _s, ...params } = body;
      const req = parseListRequest(params, c.get('services').config.scim.maxResults);
      return scimJson(
        c,
        await runList(c.get('services').db, c.get('principal').tenantId, kind, req, baseUrl(c)),
      );
    })
    .on(['GET', 'PUT', 'PATCH', 'DELETE'], '/.search', () => {
      // Registered before `/:id`, which would otherwise take `.search` for an id (a 404).
      throw new ScimError(405, undefined, '.search only answers POST', { Allow: 'POST' });
    })
    .post('/', async (c) =>
      respond(c, kind, await createResource(writeCtx(c, kind), await readJson(c)), 201),
    )
    .get('/:id', async (c) => {
      const params = parseListRequest(queryParams(c), 1);
      const proj = compileProjection(kind, params);
      const rel = relatedKeyOf(kind);
      const withRelated = rel !== undefined && wantsKey(proj, rel);
      const row = await readResource(
        c.get('services').db,
        c.get('principal').tenantId,
        kind,
        c.req.param('id'),
        withRelated,
        computedSet(kind, proj),
      );
      if (notModified(c.req.header('if-none-match'), row.version)) {
        return c.body(null, 304, { ETag: etagOf(row.version) });
      }
      return scimJson(c, applyProjection(renderResource(kind, row, baseUrl(c)), proj), 200, {
        ETag: etagOf(row.version),
      });
    })
    .put('/:id', async (c) =>
      respond(
        c,
        kind,
        await replaceResource(writeCtx(c, kind), c.req.param('id'), await readJson(c)),
        200,
      ),
    )
    .patch('/:id', async (c) => {
      const row = await patchResource(writeCtx(c, kind), c.req.param('id'), await readJson(c));
      const asked = new URL(c.req.url).searchParams;
      // 204 by default (RFC 7644 §3.5.2 allows it; Entra and Okta accept it); a group's body
      // could be 100k members. Asking for `attributes`/`excludedAttributes` returns 200 + body.
      const wantsBody = [...asked.keys()].some((k) => /^(excluded)?attributes$/i.test(k));
      if (!wantsBody) return c.body(null, 204, { ETag: etagOf(row.version) });
      return respond(c, kind, row, 200);
    })
    .delete('/:id', async (c) => {
      await removeResource(writeCtx(c, kind), c.req.param('id'));
      return c.body(null, 204);
    });
}
