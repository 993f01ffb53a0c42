import type { Context } from 'hono';
import type { AppEnv } from '../api/env.ts';

/**
 * The SCIM base URL of this request: the configured public URL, else the request's origin.
 * Computed per request — never stored on a shared object.
 */
export function baseUrl(c: Context<AppEnv>): string {
  const configured = c.get('services').config.publicUrl;
  const origin = configured ?? new URL(c.req.url).origin;
  return `${origin}/scim/v2`;
}
