import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createDb } from '../db/client.ts';
import { createHarness } from '../test/harness.ts';
import { createApp } from './app.ts';

const h = createHarness();

describe('health endpoints', () => {
  it('/healthz answers while the process is up', async () => {
    const res = await h.request('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
  });

  it('/readyz reports PostgreSQL and Redis ready', async () => {
    const res = await h.request('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ postgres: 'ok', redis: 'ok' });
  });

  it('/readyz answers 503 when a dependency is unreachable', async () => {
    const db = createDb('postgres://nobody:x@127.0.0.1:1/none', { max: 1 });
    const redis = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    const app = createApp({ ...h.services, db, redis });
    const res = await app.request('http://hub.test/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      checks: { postgres: 'unavailable', redis: 'unavailable' },
    });
    redis.disconnect();
    await db.close();
  });

  it('keeps a sane client-supplied request id and replaces a hostile one', async () => {
    const ok = await h.request('GET', '/healthz', { headers: { 'X-Request-Id': 'trace-123' } });
    expect(ok.headers.get('x-request-id')).toBe('trace-123');
    const bad = await h.request('GET', '/healthz', {
      headers: { 'X-Request-Id': 'a b\u0007<script>' },
    });
    expect(bad.headers.get('x-request-id')).not.toContain('<');
  });
});
