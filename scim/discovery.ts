import { Hono } from 'hono';
import type { AppEnv } from '../api/env.ts';
import { notFound } from './errors.ts';
import { baseUrl } from './location.ts';
import { scimJson } from './render.ts';
import {
  type AttributeDef,
  allSchemas,
  resourceKinds,
  SCHEMA,
  type SchemaDef,
} from './schemas/index.ts';

/** What this server really supports; every flag is backed by tests. */
function serviceProviderConfig(
  base: string,
  maxResults: number,
  maxOps: number,
  maxPayload: number,
) {
  return {
    schemas: [SCHEMA.serviceProviderConfig],
    documentationUri: 'https://github.com/idhub/idhub#readme',
    patch: { supported: true },
    bulk: { supported: true, maxOperations: maxOps, maxPayloadSize: maxPayload },
    filter: { supported: true, maxResults },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    pagination: {
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: 100,
      maxPageSize: maxResults,
      cursorTimeout: 3600,
    },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Authentication with a bearer token issued by the idhub tenant administrator',
        primary: true,
      },
    ],
    meta: {
      resourceType: 'ServiceProviderConfig',
      location: `${base}/ServiceProviderConfig`,
    },
  };
}

const renderAttr = (a: AttributeDef): Record<string, unknown> => ({
  name: a.name,
  type: a.type,
  multiValued: a.multiValued,
  description: a.description || a.name,
  required: a.required,
  caseExact: a.caseExact,
  mutability: a.mutability,
  returned: a.returned,
  uniqueness: a.uniqueness,
  ...(a.canonicalValues ? { canonicalValues: a.canonicalValues } : {}),
  ...(a.referenceTypes ? { referenceTypes: a.referenceTypes } : {}),
  ...(a.subAttributes ? { subAttributes: a.subAttributes.map(renderAttr) } : {}),
});

const renderSchema = (s: SchemaDef, base: string) => ({
  schemas: [SCHEMA.schema],
  id: s.id,
  name: s.name,
  description: s.description,
  attributes: s.attributes.map(renderAttr),
  meta: { resourceType: 'Schema', location: `${base}/Schemas/${s.id}` },
});

const renderResourceType = (k: (typeof resourceKinds)[number], base: string) => ({
  schemas: [SCHEMA.resourceType],
  ...k.type,
  meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/${k.type.id}` },
});

const list = (resources: unknown[]) => ({
  schemas: [SCHEMA.listResponse],
  totalResults: resources.length,
  itemsPerPage: resources.length,
  startIndex: 1,
  Resources: resources,
});

/** Discovery endpoints (RFC 7644 §4), served without authentication. */
export const discoveryRoutes = new Hono<AppEnv>()
  .get('/serviceproviderconfig', (c) => {
    const { scim } = c.get('services').config;
    return scimJson(
      c,
      serviceProviderConfig(baseUrl(c), scim.maxResults, scim.maxBulkOperations, scim.maxBodyBytes),
    );
  })
  .get('/schemas', (c) => scimJson(c, list(allSchemas.map((s) => renderSchema(s, baseUrl(c))))))
  .get('/schemas/:id', (c) => {
    const id = c.req.param('id').toLowerCase();
    const s = allSchemas.find((x) => x.id.toLowerCase() === id);
    if (!s) throw notFound(`no schema "${c.req.param('id')}"`);
    return scimJson(c, renderSchema(s, baseUrl(c)));
  })
  .get('/resourcetypes', (c) =>
    scimJson(c, list(resourceKinds.map((k) => renderResourceType(k, baseUrl(c))))),
  )
  .get('/resourcetypes/:id', (c) => {
    const id = c.req.param('id').toLowerCase();
    const k = resourceKinds.find((x) => x.type.id.toLowerCase() === id);
    if (!k) throw notFound(`no resource type "${c.req.param('id')}"`);
    return scimJson(c, renderResourceType(k, baseUrl(c)));
  });
