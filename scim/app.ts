import { Hono } from 'hono';
import type { AppEnv } from '../api/env.ts';
import { scimAuth } from './auth.ts';
import { bulkRoutes } from './bulk.ts';
import { discoveryRoutes } from './discovery.ts';
import { notFound, ScimError } from './errors.ts';
import { renderScimError } from './render.ts';
import { resourceRoutes } from './resources.ts';
import { rootSearchRoutes } from './root-search.ts';
import { groupKind, organizationKind, userKind } from './schemas/index.ts';

/** Methods each SCIM path shape answers; anything else is 405 with `Allow`. */
const ALLOWED: [RegExp, string][] = [
  [/^\/(serviceproviderconfig|schemas|resourcetypes)(\/[^/]+)?$/, 'GET'],
  [/^\/(users|groups|organizations)$/, 'GET, POST'],
  [/^\/(users|groups|organizations)\/\.search$/, 'POST'],
  [/^\/(users|groups|organizations)\/[^/]+$/, 'GET, PUT, PATCH, DELETE'],
  [/^\/\.search$/, 'POST'],
  [/^\/bulk$/, 'POST'],
  [/^\/me$/, 'GET, POST, PUT, PATCH, DELETE'],
];

/**
 * Makes the SCIM part of a path case-insensitive (`/scim/v2/users` = `/Users`) before
 * routing. Ids are UUIDs and schema ids URNs, both compared case-insensitively.
 */
export function scimAwarePath(req: Request): string {
  const url = req.url;
  const start = url.indexOf('/', url.indexOf('://') + 3);
  const q = url.indexOf('?', start);
  let path = url.slice(start, q === -1 ? undefined : q);
  if (path.includes('%')) {
    try {
      path = decodeURI(path);
    } catch {
      /* leave it: routing answers 404 */
    }
  }
  if (!/^\/scim\/v2(\/|$)/i.test(path)) return path;
  // `/Users/` is `/Users` (Microsoft's reference collection sends the trailing slash).
  return path.length > 9 && path.endsWith('/')
    ? path.slice(0, -1).toLowerCase()
    : path.toLowerCase();
}

/** The SCIM 2.0 service (RFC 7644), mounted at /scim/v2. */
export function createScimApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.route('/', discoveryRoutes);
  // Discovery is public, so a wrong method there is a 405 before any token check.
  app.on(
    ['POST', 'PUT', 'PATCH', 'DELETE'],
    ['/serviceproviderconfig', '/schemas/*', '/schemas', '/resourcetypes', '/resourcetypes/*'],
    () => {
      throw new ScimError(405, undefined, 'discovery endpoints are read-only', { Allow: 'GET' });
    },
  );
  app.use('*', scimAuth);
  app.route('/users', resourceRoutes(userKind));
  app.route('/groups', resourceRoutes(groupKind));
  app.route('/organizations', resourceRoutes(organizationKind));
  app.route('/', rootSearchRoutes);
  app.route('/bulk', bulkRoutes);
  app.all('/me', () => {
    throw new ScimError(
      501,
      undefined,
      '/Me is not supported: the hub has no end-user authentication',
    );
  });
  app.all('*', (c) => {
    const sub = c.req.path.replace(/^\/scim\/v2/i, '') || '/';
    const allow = ALLOWED.find(([re]) => re.test(sub))?.[1];
    if (allow) {
      throw new ScimError(405, undefined, `${c.req.method} is not supported here`, {
        Allow: allow,
      });
    }
    throw notFound(`no SCIM endpoint ${sub}`);
  });
  app.onError(renderScimError);
  return app;
}
