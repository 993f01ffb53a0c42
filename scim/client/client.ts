/**
 * The hub's outbound SCIM 2.0 client (RFC 7644): one per target application, with its own
 * keep-alive agent and CA. Every call is relative to `baseUrl`; failures are ScimClientError.
 */
import { parseRetryAfter, ScimClientError } from './errors.ts';
import { resolvePath } from './path.ts';
import {
  type FetchLike,
  fetchTransport,
  nodeTransport,
  type Transport,
  type TransportResponse,
} from './transport.ts';

export type ScimAuth =
  | { type: 'bearer'; token: string }
  | { type: 'basic'; userName: string; password: string };

export interface ScimClientOptions {
  /** e.g. `https://app.example.com/scim/v2` (a trailing slash is ignored). */
  baseUrl: string;
  /** Kept in this closure only: never logged, never in an error. */
  auth: ScimAuth;
  /** PEM CA bundle for a server certificate that is not publicly trusted. */
  ca?: string | Buffer;
  /** Whole-request deadline, default 30 s. */
  timeoutMs?: number;
  /** Cap on request and response bodies, default 10 MiB. */
  maxBodyBytes?: number;
  /** Send through this instead of node:http(s) (an in-process app in tests); no `ca` then. */
  fetchImpl?: FetchLike;
}

export type ScimResource = Record<string, unknown> & { id?: string };
export interface ListResponse<T = ScimResource> {
  schemas?: string[];
  totalResults: number;
  startIndex?: number;
  itemsPerPage?: number;
  Resources: T[];
}
export interface ListQuery {
  filter?: string;
  startIndex: number;
  count: number;
  attributes?: string[];
}
export interface CallOptions {
  signal?: AbortSignal;
}

export interface ScimClient {
  get(path: string, o?: CallOptions): Promise<ScimResource>;
  list(resourcePath: string, q: ListQuery, o?: CallOptions): Promise<ListResponse>;
  create(resourcePath: string, body: object, o?: CallOptions): Promise<ScimResource>;
  replace(path: string, body: object, o?: CallOptions): Promise<ScimResource>;
  /** The resource when the server returns one (200), undefined on 204. */
  patch(path: string, body: object, o?: CallOptions): Promise<ScimResource | undefined>;
  delete(path: string, o?: CallOptions): Promise<void>;
  schemas(o?: CallOptions): Promise<ListResponse>;
  resourceTypes(o?: CallOptions): Promise<ListResponse>;
  serviceProviderConfig(o?: CallOptions): Promise<ScimResource>;
  close(): void;
}

const SCIM_JSON = 'application/scim+json';
const JSON_TYPE = /^application\/(scim\+)?json\s*(;|$)/i;

export function createScimClient(options: ScimClientOptions): ScimClient {
  const base = new URL(options.baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ScimClientError({ reason: 'refused', detail: 'baseUrl must be http(s)' });
  }
  if (options.fetchImpl && options.ca) {
    throw new ScimClientError({ reason: 'refused', detail: 'ca needs the built-in transport' });
  }
  const maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
  const transport: Transport = options.fetchImpl
    ? fetchTransport(options.fetchImpl, maxBodyBytes)
    : nodeTransport({ ca: options.ca, maxBodyBytes });
  const call = caller(base, transport, authorization(options.auth), {
    timeoutMs: options.timeoutMs ?? 30_000,
    maxBodyBytes,
  });
  const resource = (v: unknown) => asObject(v) as ScimResource;
  const list = (v: unknown) => asList(v);

  return {
    get: async (path, o) => resource(await call('GET', path, o)),
    list: async (path, q, o) => list(await call('GET', path, o, undefined, listQuery(q))),
    create: async (path, body, o) => resource(await call('POST', path, o, body)),
    replace: async (path, body, o) => resource(await call('PUT', path, o, body)),
    patch: async (path, body, o) => {
      const out = await call('PATCH', path, o, body);
      return out === undefined ? undefined : resource(out);
    },
    delete: async (path, o) => {
      await call('DELETE', path, o);
    },
    schemas: async (o) => list(await call('GET', '/Schemas', o)),
    resourceTypes: async (o) => list(await call('GET', '/ResourceTypes', o)),
    serviceProviderConfig: async (o) => resource(await call('GET', '/ServiceProviderConfig', o)),
    close: () => transport.close(),
  };
}

function authorization(auth: ScimAuth): string {
  if (auth.type === 'bearer') return `Bearer ${auth.token}`;
  return `Basic ${Buffer.from(`${auth.userName}:${auth.password}`, 'utf8').toString('base64')}`;
}

function listQuery(q: ListQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (q.filter) params.set('filter', q.filter);
  params.set('startIndex', String(q.startIndex));
  params.set('count', String(q.count));
  if (q.attributes?.length) params.set('attributes', q.attributes.join(','));
  return params;
}

type Call = (
  method: string,
  path: string,
  o?: CallOptions,
  body?: object,
  query?: URLSearchParams,
) => Promise<unknown>;

function caller(
  base: URL,
  transport: Transport,
  authHeader: string,
  limits: { timeoutMs: number; maxBodyBytes: number },
): Call {
  return async (method, path, o, body, query) => {
    const url = resolvePath(base, path, query);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    if (payload && payload.length > limits.maxBodyBytes) {
      throw new ScimClientError({
        reason: 'too_large',
        detail: `request body is ${payload.length} bytes, over the ${limits.maxBodyBytes}-byte cap`,
      });
    }
    const headers: Record<string, string> = {
      authorization: authHeader,
      accept: `${SCIM_JSON}, application/json;q=0.9`,
      ...(payload ? { 'content-type': SCIM_JSON } : {}),
    };
    const timeout = AbortSignal.timeout(limits.timeoutMs);
    const signal = o?.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
    let res: TransportResponse;
    try {
      res = await transport.send({ method, url, headers, body: payload, signal });
    } catch (e) {
      throw sendFailure(e, timeout, o?.signal);
    }
    return readResponse(res);
  };
}

function sendFailure(e: unknown, timeout: AbortSignal, caller?: AbortSignal): ScimClientError {
  if (e instanceof ScimClientError) return e;
  if (caller?.aborted)
    return new ScimClientError({ reason: 'aborted', detail: 'aborted', cause: e });
  if (timeout.aborted) {
    return new ScimClientError({ reason: 'timeout', detail: 'request timed out', cause: e });
  }
  const err = e as NodeJS.ErrnoException;
  const code = err.code ? ` (${err.code})` : '';
  return new ScimClientError({ reason: 'network', detail: `${err.message}${code}`, cause: e });
}

function readResponse(res: TransportResponse): unknown {
  const type = res.header('content-type') ?? '';
  const text = res.body.toString('utf8');
  const json = JSON_TYPE.test(type) && text.trim() ? parseJson(text) : undefined;
  if (res.status >= 200 && res.status < 300) {
    if (!text.trim()) return undefined;
    if (json === undefined) {
      throw new ScimClientError({
        reason: 'bad_response',
        status: res.status,
        detail: `expected SCIM JSON, got ${type || 'no content type'}`,
      });
    }
    return json;
  }
  const err = json && typeof json === 'object' ? (json as Record<string, unknown>) : {};
  const retryable = res.status === 429 || res.status === 503;
  const retryAfterMs = retryable ? parseRetryAfter(res.header('retry-after')) : undefined;
  throw new ScimClientError({
    reason: 'status',
    status: res.status,
    detail: typeof err.detail === 'string' ? err.detail : `HTTP ${res.status}`,
    ...(typeof err.scimType === 'string' ? { scimType: err.scimType } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function asObject(v: unknown): Record<string, unknown> {
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  throw new ScimClientError({ reason: 'bad_response', detail: 'expected a JSON object' });
}

function asList(v: unknown): ListResponse {
  const o = asObject(v);
  const resources = o.Resources ?? [];
  if (!Array.isArray(resources) || typeof o.totalResults !== 'number') {
    throw new ScimClientError({ reason: 'bad_response', detail: 'expected a SCIM ListResponse' });
  }
  return { ...o, totalResults: o.totalResults, Resources: resources.map(asObject) };
}
