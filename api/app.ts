import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { agentRoutes } from '../agent/gateway/routes.ts';
import { createScimApp, scimAwarePath } from '../scim/app.ts';
import type { AppEnv, Services } from './env.ts';
import { renderRestError, restError } from './errors.ts';
import { createGraphQLApp } from './graphql/yoga.ts';
import { healthRoutes } from './health.ts';
import { operatorSurfaces } from './operator/index.ts';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The composition root: every route of the hub, built from injected services. */
export function createApp(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ getPath: scimAwarePath });
  const operator = operatorSurfaces(services);
  app.use(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const log = services.logger.child({ requestId });
    c.set('services', services);
    c.set('requestId', requestId);
    c.set('log', log);
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    log.debug(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });
  app.use(operator.observe);
  app.route('/', healthRoutes);
  app.route('/', operator.routes);
  app.route('/scim/v2', createScimApp());
  app.route('/graphql', createGraphQLApp());
  app.route('/agent/v1', agentRoutes(services.gateway));
  app.notFound((c) => restError(c, 404, 'not_found', 'no such route'));
  app.onError(renderRestError);
  return app;
}
