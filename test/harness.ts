import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, inject } from 'vitest';
import { createApp } from '../api/app.ts';
import { lazyAuthCache } from '../api/auth-cache.ts';
import { type Config, loadConfig } from '../api/config.ts';
import type { Services } from '../api/env.ts';
import { operatorAuth } from '../api/operator-token.ts';

/** The operator token of every test hub. */
export const OPERATOR_TOKEN = 'idh_op_test-operator-token-0123456789';

import { gatewayFromConfig } from '../agent/gateway/index.ts';
import { createTenant, createToken } from '../api/tenants.ts';
import { createDb } from '../db/client.ts';
import { createQueues } from '../sync/queues.ts';

export interface TestTenant {
  tenantId: string;
  scimToken: string;
  adminToken: string;
}

export interface ScimResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/**
 * An in-process hub on the run's private services. Each test makes its own tenants, so
 * files run in parallel without seeing each other's data.
 */
export function createHarness(
  overrides: Partial<Config> = {},
  opts: {
    /** A private BullMQ key prefix: for a file that runs a worker, so it takes no other file's jobs. */
    queuePrefix?: string;
  } = {},
) {
  const config: Config = {
    ...loadConfig({ LOG_LEVEL: 'silent' }),
    publicUrl: 'http://hub.test',
    ...overrides,
  };
  const db = createDb(inject('databaseUrl'), { max: 5 });
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null, lazyConnect: true });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const services: Services = {
    config,
    db,
    redis,
    logger,
    recordTokenUse: () => {},
    auth: lazyAuthCache(db, logger),
    operator: operatorAuth(OPERATOR_TOKEN),
    queues: createQueues(inject('redisUrl'), {
      logger,
      ...(opts.queuePrefix ? { prefix: opts.queuePrefix } : {}),
    }),
    gateway: gatewayFromConfig(config, db, redis, logger),
  };
  const app = createApp(services);
  afterAll(async () => {
    await services.gateway.close();
    await services.queues.close();
    await services.auth.close();
    await db.close();
    redis.disconnect();
  });

  let counter = 0;
  async function tenant(): Promise<TestTenant> {
    const t = await createTenant(
      db.db,
      `t-${process.pid}-${Date.now()}-${++counter}-${Math.random().toString(36).slice(2, 8)}`,
    );
    const scim = await createToken(db.db, t.id, ['scim']);
    const admin = await createToken(db.db, t.id, ['admin']);
    return { tenantId: t.id, scimToken: scim.token, adminToken: admin.token };
  }

  /** Sends a request through the app in-process; objects are sent as SCIM JSON. */
  async function request(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ScimResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['Content-Type'] ??= 'application/scim+json';
    }
    const res = await app.request(`http://hub.test${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  /** A SCIM client bound to one tenant's token, with paths relative to /scim/v2. */
  function scimClient(token: string) {
    const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
      request(method, `/scim/v2${path}`, { token, body, headers });
    return {
      get: (p: string, h?: Record<string, string>) => call('GET', p, undefined, h),
      post: (p: string, b: unknown, h?: Record<string, string>) => call('POST', p, b, h),
      put: (p: string, b: unknown, h?: Record<string, string>) => call('PUT', p, b, h),
      patch: (p: string, b: unknown, h?: Record<string, string>) => call('PATCH', p, b, h),
      delete: (p: string, h?: Record<string, string>) => call('DELETE', p, undefined, h),
      call,
    };
  }

  return { app, config, db, redis, services, tenant, request, scimClient };
}

export type Harness = ReturnType<typeof createHarness>;
