import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from './env.ts';

/** The body of every failure on non-SCIM routes: `{error:{code,message,requestId}}`. */
export function restError<E extends AppEnv>(
  c: Context<E>,
  status: ContentfulStatusCode,
  code: string,
  message: string,
): Response {
  return c.json({ error: { code, message, requestId: c.get('requestId') } }, status);
}

/** Renders a thrown failure on non-SCIM routes. */
export function renderRestError(err: unknown, c: Context<AppEnv>): Response {
  if (err instanceof HTTPException) return restError(c, err.status, 'http_error', err.message);
  c.get('log')?.error({ err }, 'unhandled error');
  return restError(c, 500, 'internal', 'internal server error');
}
