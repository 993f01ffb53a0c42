import { Hono } from 'hono';
import type { AppEnv } from './env.ts';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), ms)),
  ]);

/** `/healthz`: the process answers. `/readyz`: PostgreSQL and Redis answer too. */
export const healthRoutes = new Hono<AppEnv>()
  .get('/healthz', (c) => c.json({ status: 'ok' }))
  .get('/readyz', async (c) => {
    const { db, redis } = c.get('services');
    const [pg, rd] = await Promise.allSettled([
      withTimeout(db.sql`select 1`, 2000),
      withTimeout(redis.ping(), 2000),
    ]);
    const checks = {
      postgres: pg.status === 'fulfilled' ? 'ok' : 'unavailable',
      redis: rd.status === 'fulfilled' ? 'ok' : 'unavailable',
    };
    const ready = checks.postgres === 'ok' && checks.redis === 'ok';
    return c.json({ status: ready ? 'ready' : 'unavailable', checks }, ready ? 200 : 503);
  });
