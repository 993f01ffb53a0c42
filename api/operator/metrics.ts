import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { syncRunCounters } from '../../db/schema/index.ts';
import type { AppEnv, Services } from '../env.ts';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
const SCRAPE_TIMEOUT_MS = 2000;

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), ms).unref()),
  ]);

/** SCIM resource type names of the URL segments; other segments keep their (route) name. */
const SCIM_TYPES: Record<string, string> = {
  users: 'User',
  groups: 'Group',
  organizations: 'Organization',
  bulk: 'Bulk',
  '.search': 'all',
};
const SCIM_DISCOVERY = new Set(['serviceproviderconfig', 'schemas', 'resourcetypes']);
const SCIM_ROUTE = /^\/scim\/v2\/([^/:*]+)(\/\.search|\/:[^/]+)?\/?$/;

/**
 * The SCIM operation a matched route pattern stands for, from the pattern only (never the raw
 * path), so labels stay bounded. Discovery reads and unmatched paths are no operations.
 */
export function scimOperation(
  method: string,
  route: string,
): { resourceType: string; operation: string } | undefined {
  const m = SCIM_ROUTE.exec(route);
  const segment = m?.[1];
  if (!segment || SCIM_DISCOVERY.has(segment)) return undefined;
  const resourceType = SCIM_TYPES[segment] ?? segment;
  const tail = m[2];
  if (segment === 'bulk') return { resourceType, operation: 'bulk' };
  if (segment === '.search' || tail === '/.search') return { resourceType, operation: 'search' };
  const verbs: Record<string, string> = tail
    ? { GET: 'get', PUT: 'replace', PATCH: 'patch', DELETE: 'delete' }
    : { GET: 'list', POST: 'create' };
  return { resourceType, operation: verbs[method] ?? method.toLowerCase() };
}

const outcome = (status: number) =>
  status >= 500 ? 'server_error' : status >= 400 ? 'client_error' : 'success';

/**
 * The hub's Prometheus metrics, in a registry of its own (one per app, so tests never share
 * or mutate prom-client's global registry). Queue depths and database figures are read at
 * scrape time.
 */
export function createMetrics(services: Services) {
  const registry = new Registry();
  const requests = new Counter({
    name: 'idhub_http_requests_total',
    help: 'HTTP requests by route pattern, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'idhub_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern and method',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const scimOps = new Counter({
    name: 'idhub_scim_operations_total',
    help: 'SCIM operations by resource type, operation and outcome (no tenant label)',
    labelNames: ['resource_type', 'operation', 'outcome'] as const,
    registers: [registry],
  });
  queueGauge(registry, services);
  dbGauges(registry, services);
  syncGauges(registry, services);

  const observe: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = performance.now();
    await next();
    let route = routePath(c);
    if (route === '*' || route === '/*') route = '(unmatched)';
    const status = c.res.status;
    const method = c.req.method;
    requests.inc({ method, route, status: String(status) });
    latency.observe({ method, route }, (performance.now() - started) / 1000);
    const op = scimOperation(method, route);
    if (op) {
      scimOps.inc({
        resource_type: op.resourceType,
        operation: op.operation,
        outcome: outcome(status),
      });
    }
  };

  let defaults = false;
  /** The exposition text. Process metrics join on the first scrape: their GC and event-loop
   * observers then exist only in processes that are scraped, not in every test app. */
  const render = async () => {
    if (!defaults) {
      collectDefaultMetrics({ register: registry });
      defaults = true;
    }
    return Registry.merge([registry, services.gateway.registry]).metrics();
  };
  return { registry, observe, render, contentType: registry.contentType };
}

export type Metrics = ReturnType<typeof createMetrics>;

function queueGauge(registry: Registry, services: Services): void {
  new Gauge({
    name: 'idhub_queue_jobs',
    help: 'Jobs per BullMQ queue and state, read from Redis at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        services.queues.all.map(async (queue) => {
          try {
            const counts = await withTimeout(
              queue.getJobCounts(...QUEUE_STATES),
              SCRAPE_TIMEOUT_MS,
            );
            for (const state of QUEUE_STATES) {
              this.set({ queue: queue.name, state }, counts[state] ?? 0);
            }
          } catch (err) {
            services.logger.warn({ err, queue: queue.name }, 'metrics: queue depth unavailable');
          }
        }),
      );
    },
  });
}

function dbGauges(registry: Registry, services: Services): void {
  new Gauge({
    name: 'idhub_db_pool_max',
    help: 'Largest number of PostgreSQL connections this process opens',
    registers: [registry],
    collect() {
      this.set(services.db.sql.options.max);
    },
  });
  // postgres.js keeps its pool counters private, so open/idle come from the server's view.
  new Gauge({
    name: 'idhub_db_connections',
    help: 'PostgreSQL connections of all idhub processes to this database, by server state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const rows = await withTimeout(
          services.db.sql<{ state: string | null; n: number }[]>`
            select state, count(*)::int as n from pg_stat_activity
            where datname = current_database() and application_name = 'idhub'
            group by state`,
          SCRAPE_TIMEOUT_MS,
        );
        for (const r of rows) this.set({ state: r.state ?? 'unknown' }, r.n);
      } catch (err) {
        services.logger.warn({ err }, 'metrics: database connections unavailable');
      }
    },
  });
}

/**
 * Directory sync runs, read from PostgreSQL at scrape time: whichever replica's worker ran a
 * run, every replica reports the same figures (no tenant label).
 */
function syncGauges(registry: Registry, services: Services): void {
  type Row = {
    kind: string;
    status: string;
    runs: number;
    seconds: number;
    finished: number;
  } & Record<(typeof syncRunCounters)[number], number>;
  let pending: Promise<{ rows: Row[]; oldest: number }> | undefined;
  /** One query per scrape, shared by the gauges below. */
  const read = () => {
    pending ??= (async () => {
      try {
        const rows = await withTimeout(
          services.db.sql<Row[]>`
            select j.kind, r.status, count(*)::int as runs,
              ${services.db.sql.unsafe(syncRunCounters.map((c) => `coalesce(sum(r.${c}), 0)::float8 as ${c}`).join(', '))},
              coalesce(sum(extract(epoch from r.finished_at - r.started_at)), 0)::float8 as seconds,
              count(r.finished_at) filter (where r.started_at is not null)::int as finished
            from sync_runs r join sync_jobs j on j.id = r.job_id
            group by j.kind, r.status`,
          SCRAPE_TIMEOUT_MS,
        );
        const [o] = await withTimeout(
          services.db.sql<
            { s: number | null }[]
          >`select extract(epoch from now() - min(started_at))::float8 as s
            from sync_runs where status = 'running'`,
          SCRAPE_TIMEOUT_MS,
        );
        return { rows: [...rows], oldest: o?.s ?? 0 };
      } finally {
        setImmediate(() => {
          pending = undefined;
        });
      }
    })();
    return pending;
  };
  const failed = (err: unknown) => services.logger.warn({ err }, 'metrics: sync runs unavailable');
  type Data = { rows: Row[]; oldest: number };
  /** A gauge refilled from the shared per-scrape query (empty when it failed). */
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (set: (labels: Record<string, string>, v: number) => void, d: Data) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const data = await read().catch(failed);
        if (data) fill((labels, v) => this.set(labels, v), data);
      },
    });
  gauge(
    'idhub_sync_runs',
    'Directory sync runs by job kind and status (all tenants)',
    ['kind', 'status'],
    (set, d) => {
      for (const r of d.rows) set({ kind: r.kind, status: r.status }, r.runs);
    },
  );
  gauge(
    'idhub_sync_entries',
    'Directory entries handled by sync runs, by job kind and outcome (sums of the run counters)',
    ['kind', 'outcome'],
    (set, d) => {
      for (const kind of new Set(d.rows.map((r) => r.kind))) {
        const rows = d.rows.filter((r) => r.kind === kind);
        for (const c of syncRunCounters)
          set(
            { kind, outcome: c },
            rows.reduce((n, r) => n + Number(r[c]), 0),
          );
      }
    },
  );
  gauge(
    'idhub_sync_run_duration_seconds_sum',
    'Total duration of finished sync runs, by job kind and status',
    ['kind', 'status'],
    (set, d) => {
      for (const r of d.rows) if (r.finished) set({ kind: r.kind, status: r.status }, r.seconds);
    },
  );
  gauge(
    'idhub_sync_run_duration_seconds_count',
    'Finished sync runs counted in idhub_sync_run_duration_seconds_sum',
    ['kind', 'status'],
    (set, d) => {
      for (const r of d.rows) if (r.finished) set({ kind: r.kind, status: r.status }, r.finished);
    },
  );
  gauge(
    'idhub_sync_oldest_running_seconds',
    'Age of the oldest running sync run (0 when none runs): alert when a run is stuck',
    [],
    (set, d) => set({}, d.oldest),
  );
}
