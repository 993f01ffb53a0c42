import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { IServerAdapter } from '@bull-board/api/typings/app';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { QueueRegistry } from '../../sync/queues.ts';
import type { AppEnv } from '../env.ts';
import { operatorOnly } from './auth.ts';

export const DASHBOARD_PATH = '/admin/queues';

/**
 * The bull-board queue dashboard for every queue of the registry, mounted at DASHBOARD_PATH
 * behind operator Basic auth (pages, static assets and its JSON API alike).
 */
export function dashboardRoutes(queues: QueueRegistry): Hono<AppEnv> {
  const adapter = new HonoAdapter(serveStatic).setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.all.map((q) => new BullMQAdapter(q)),
    // @bull-board/hono pins its own copy of @bull-board/api (a patch version behind), whose
    // classes TypeScript tells apart by their private fields; the shapes are the same.
    serverAdapter: adapter as unknown as IServerAdapter,
    options: { uiConfig: { boardTitle: 'idhub queues' } },
  });
  const app = new Hono<AppEnv>();
  app.use(DASHBOARD_PATH, operatorOnly());
  app.use(`${DASHBOARD_PATH}/*`, operatorOnly());
  app.route(DASHBOARD_PATH, adapter.registerPlugin());
  return app;
}
