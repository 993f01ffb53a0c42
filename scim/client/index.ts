export {
  type CallOptions,
  createScimClient,
  type ListQuery,
  type ListResponse,
  type ScimAuth,
  type ScimClient,
  type ScimClientOptions,
  type ScimResource,
} from './client.ts';
export { parseRetryAfter, ScimClientError, type ScimClientFailure } from './errors.ts';
export type { FetchLike } from './transport.ts';
