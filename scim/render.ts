import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../api/env.ts';
import { ScimError } from './errors.ts';
import { SCHEMA } from './schemas/index.ts';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/** Sends a SCIM JSON body with the SCIM media type. */
export function scimJson(
  c: Context<AppEnv>,
  body: unknown,
  status: ContentfulStatusCode = 200,
  headers: Record<string, string> = {},
): Response {
  return c.body(JSON.stringify(body), status, { 'Content-Type': SCIM_CONTENT_TYPE, ...headers });
}

/** Maps a driver error to the PostgreSQL SQLSTATE, looking through drizzle's wrapper. */
export function pgCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && i < 4; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The one renderer of SCIM errors (RFC 7644 §3.12). Unexpected errors are logged 500/503s. */
export function renderScimError(err: unknown, c: Context<AppEnv>): Response {
  const requestId = c.get('requestId');
  let scimErr: ScimError;
  if (err instanceof ScimError) scimErr = err;
  else if (isStorageOutage(err)) {
    c.get('log').error({ err }, 'storage unavailable');
    scimErr = new ScimError(503, undefined, `storage unavailable (request ${requestId})`, {
      'Retry-After': '5',
    });
  } else {
    c.get('log').error({ err }, 'unhandled error in SCIM route');
    scimErr = new ScimError(500, undefined, `internal server error (request ${requestId})`);
  }
  const body: Record<string, unknown> = { schemas: [SCHEMA.error], status: String(scimErr.status) };
  if (scimErr.scimType) body.scimType = scimErr.scimType;
  body.detail = scimErr.detail;
  return scimJson(c, body, scimErr.status as ContentfulStatusCode, scimErr.headers);
}

/** PostgreSQL unreachable, restarting or shutting down (not a defect of the request). */
export const isStorageOutage = (err: unknown): boolean =>
  pgCode(err)?.startsWith('08') === true ||
  pgCode(err)?.startsWith('57P') === true ||
  isConnectionError(err);

function isConnectionError(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 4; i++) {
    const code = (e as { code?: unknown }).code;
    if (
      code === 'ECONNREFUSED' ||
      code === 'ECONNRESET' ||
      code === 'CONNECTION_CLOSED' ||
      code === 'CONNECT_TIMEOUT' ||
      code === 'CONNECTION_ENDED' ||
      code === 'CONNECTION_DESTROYED'
    )
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
