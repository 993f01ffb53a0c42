import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from './env.ts';

/** Renders a failure on non-SCIM routes as `{error:{code,message,requestId}}`. */
export function renderRestError(err: unknown, c: Context<AppEnv>): Response {
  const requestId = c.get('requestId');
  if (err instanceof HTTPException) {
    return c.json({ error: { code: 'http_error', message: err.message, requestId } }, err.status);
  }
  c.get('log')?.error({ err }, 'unhandled error');
  return c.json({ error: { code: 'internal', message: 'internal server error', requestId } }, 500);
}
