/**
 * The SCIM connector: a target application's SCIM 2.0 API through scim/client. Search pages by
 * index (RFC 7644 §3.4.2.4), exports map to POST / PUT / PATCH / DELETE, discovery answers the
 * listings. HTTP failures become the protocol's typed errors.
 */
import {
  type CallOptions,
  createScimClient,
  type ScimAuth,
  ScimClientError,
  type ScimResource,
} from '../../../scim/client/index.ts';
import type { Entry } from '../../protocol.ts';
import { ConnectorError, refused } from '../errors.ts';
import { flattenResource } from './flatten.ts';
import { attributesOf, resourceTypesOf, userSchemaIds } from './schema.ts';

export interface ScimConnectorOptions {
  baseUrl: string;
  auth: ScimAuth;
  ca?: string | Buffer;
  timeoutMs?: number;
}

export interface ScimSearchParams {
  filter?: string;
  attributes?: string[];
  pageSize?: number;
  /** The next startIndex, as returned by the previous page. */
  cookie?: string | null;
  /** Resource endpoint to list, default `/Users` (the payload's `base`). */
  resourcePath?: string;
}

export type ScimExport =
  | { op: 'POST' | 'PUT' | 'PATCH'; path: string; body: Record<string, unknown> }
  | { op: 'DELETE'; path: string };

export interface ScimConnector {
  testConnection(o?: CallOptions): Promise<{ latencyMs: number; details: string }>;
  search(
    p: ScimSearchParams,
    o?: CallOptions,
  ): Promise<{ entries: Entry[]; cookie: string | null }>;
  export(e: ScimExport, o?: CallOptions): Promise<{ id?: string; resource?: ScimResource }>;
  listAttributes(o?: CallOptions): Promise<{ attributes: ReturnType<typeof attributesOf> }>;
  listResourceTypes(
    o?: CallOptions,
  ): Promise<{ resourceTypes: ReturnType<typeof resourceTypesOf> }>;
  close(): Promise<void>;
}

/** 401/403 → auth_failure, 404 → not_found, deadline → timeout, else connector_error + status. */
export function toScimError(e: unknown): ConnectorError {
  if (e instanceof ConnectorError) return e;
  if (!(e instanceof ScimClientError)) {
    return new ConnectorError('connector_error', e instanceof Error ? e.message : String(e));
  }
  const status = e.status || undefined;
  if (e.reason === 'timeout' || e.reason === 'aborted')
    return new ConnectorError('timeout', e.detail);
  if (e.reason === 'too_large') return new ConnectorError('too_large', e.detail);
  if (e.reason === 'refused') return new ConnectorError('refused', e.detail);
  if (e.status === 401 || e.status === 403) {
    return new ConnectorError('auth_failure', e.detail, e.status);
  }
  if (e.status === 404) return new ConnectorError('not_found', e.detail, 404);
  const scimType = e.scimType ? ` (${e.scimType})` : '';
  return new ConnectorError('connector_error', `${e.detail}${scimType}`, status);
}

function startIndexOf(cookie: string | null | undefined): number {
  if (!cookie) return 1;
  if (!/^[1-9]\d{0,9}$/.test(cookie)) throw refused('invalid paging cookie: expected a startIndex');
  return Number(cookie);
}

/** The id a write answered with, else the path's last segment (PATCH 204, DELETE). */
function idOf(path: string, resource?: ScimResource): string | undefined {
  if (typeof resource?.id === 'string') return resource.id;
  const last = path.split('/').filter(Boolean).at(-1);
  return last && path.split('/').filter(Boolean).length > 1 ? decodeURIComponent(last) : undefined;
}

export function createScimConnector(options: ScimConnectorOptions): ScimConnector {
  const client = createScimClient(options);
  const run = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (e) {
      throw toScimError(e);
    }
  };

  async function search(p: ScimSearchParams, o?: CallOptions) {
    const startIndex = startIndexOf(p.cookie);
    const count = p.pageSize ?? 100;
    const list = await client.list(
      p.resourcePath ?? '/Users',
      { startIndex, count, ...(p.filter ? { filter: p.filter } : {}), attributes: p.attributes },
      o,
    );
    const got = list.Resources.length;
    const more = got > 0 && startIndex - 1 + got < list.totalResults;
    return {
      entries: list.Resources.map(flattenResource),
      cookie: more ? String(startIndex + got) : null,
    };
  }

  async function write(e: ScimExport, o?: CallOptions) {
    let resource: ScimResource | undefined;
    if (e.op === 'POST') resource = await client.create(e.path, e.body, o);
    else if (e.op === 'PUT') resource = await client.replace(e.path, e.body, o);
    else if (e.op === 'PATCH') resource = await client.patch(e.path, e.body, o);
    else await client.delete(e.path, o);
    const id = idOf(e.path, resource);
    return { ...(id !== undefined ? { id } : {}), ...(resource ? { resource } : {}) };
  }

  return {
    testConnection: (o) =>
      run(async () => {
        const started = performance.now();
        const config = await client.serviceProviderConfig(o);
        const features = ['patch', 'bulk', 'filter', 'sort', 'etag', 'changePassword'].filter(
          (f) => (config[f] as { supported?: unknown } | undefined)?.supported === true,
        );
        const latencyMs = Math.round(performance.now() - started);
        return { latencyMs, details: `SCIM 2.0; supports: ${features.join(', ') || 'none'}` };
      }),
    search: (p, o) => run(() => search(p, o)),
    export: (e, o) => run(() => write(e, o)),
    listAttributes: (o) =>
      run(async () => {
        const [schemas, types] = await Promise.all([client.schemas(o), client.resourceTypes(o)]);
        return { attributes: attributesOf(schemas, userSchemaIds(types)) };
      }),
    listResourceTypes: (o) =>
      run(async () => ({ resourceTypes: resourceTypesOf(await client.resourceTypes(o)) })),
    close: async () => client.close(),
  };
}
