import { Hono, type MiddlewareHandler } from 'hono';
import type { AppEnv, Services } from '../env.ts';
import { operatorOnly } from './auth.ts';
import { dashboardRoutes } from './dashboard.ts';
import { createMetrics } from './metrics.ts';

export interface OperatorSurfaces {
  /** Records every request in the metrics; mount it before the routes. */
  observe: MiddlewareHandler<AppEnv>;
  /** `/metrics` and the `/admin/queues` dashboard. */
  routes: Hono<AppEnv>;
}

/**
 * What operators look at: Prometheus `/metrics` (behind operator auth unless
 * `IDHUB_METRICS_PUBLIC=true`) and the queue dashboard. Health routes live in api/health.ts.
 */
export function operatorSurfaces(services: Services): OperatorSurfaces {
  const metrics = createMetrics(services);
  const routes = new Hono<AppEnv>();
  if (!services.config.metricsPublic) routes.use('/metrics', operatorOnly({ bearer: true }));
  routes.get('/metrics', async (c) =>
    c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType }),
  );
  routes.route('/', dashboardRoutes(services.queues));
  return { observe: metrics.observe, routes };
}
