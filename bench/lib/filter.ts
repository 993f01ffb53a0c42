import { authenticateToken } from '../../api/tenants.ts';
import { parseListRequest } from '../../scim/list.ts';
import { runList } from '../../scim/query.ts';
import { userKind } from '../../scim/schemas/index.ts';
import { nameKey } from '../../scim/store/keys.ts';
import { type BenchContext, pick } from './context.ts';
import { expectStatus, scimClient } from './http.ts';
import { runLoad } from './load.ts';
import { timeConcurrent } from './stats.ts';
import { fmt, type Row, throughputCell } from './table.ts';

const filterPath = (userName: string) =>
  `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`;

/** Checks the filter finds exactly the user asked for before timing it. */
async function sanityCheck(ctx: BenchContext): Promise<void> {
  const user = pick(ctx.seeded.users);
  const client = scimClient(ctx.hub.url, ctx.seeded.token);
  const body = await expectStatus(
    client,
    200,
    'GET',
    filterPath(user.userName).slice('/scim/v2'.length),
  );
  if (body.totalResults !== 1 || body.Resources?.[0]?.id !== user.id) {
    throw new Error(`filter sanity check failed: ${JSON.stringify(body).slice(0, 300)}`);
  }
}

/** `GET /Users?filter=userName eq "…"` at N connections vs the same lookup in SQL. */
export async function filterRow(ctx: BenchContext): Promise<Row> {
  const { users, tenantId, token } = ctx.seeded;
  await sanityCheck(ctx);
  const load = (duration: number) =>
    runLoad({
      url: ctx.hub.url,
      token,
      connections: ctx.connections,
      duration,
      next: () => ({ path: filterPath(pick(users).userName) }),
    });
  ctx.progress('filter: warm-up 3 s');
  await load(3);
  ctx.progress(`filter: hub, ${ctx.connections} connections, ${ctx.duration} s`);
  const hub = await load(ctx.duration);
  ctx.progress(`filter: raw SQL, ${ctx.connections} concurrent, ${ctx.duration} s`);
  const keys = users.map((u) => nameKey(u.userName));
  const sql = ctx.db.sql;
  const base = await timeConcurrent(
    { concurrency: ctx.connections, durationMs: ctx.duration * 1000 },
    () => sql`select id, doc, external_id, version, created_at, updated_at from users
      where tenant_id = ${tenantId} and user_name_key = ${pick(keys)}`,
  );
  const pass = hub.rate >= 2000 && hub.p99 <= 25 && hub.errors === 0;
  return {
    name: `GET /Users?filter=userName eq (random of ${users.length.toLocaleString('en-US')}), ${ctx.connections} conns, ${ctx.duration} s`,
    hub: `${throughputCell(hub)}${hub.errors ? ` · ${hub.errors} errors (${hub.statuses})` : ''}`,
    baseline: `${throughputCell(base, 'q/s')} (1 indexed select)`,
    ratio: fmt.ratio(hub.rate / base.rate, 'throughput'),
    budget: '≥ 2,000 req/s and p99 ≤ 25 ms',
    pass,
  };
}

/**
 * Diagnostic: the hub's own code for the same request — `authenticateToken` + `runList` +
 * JSON — called in this process without HTTP. Hub minus this = HTTP/Hono/process cost;
 * this minus the raw select = what the hub's SQL and rendering add.
 */
export async function filterCodePathRow(ctx: BenchContext): Promise<Row> {
  const { users, token } = ctx.seeded;
  const op = async () => {
    const principal = await authenticateToken(ctx.db.db, token);
    if (!principal) throw new Error('token rejected');
    const filter = `userName eq "${pick(users).userName}"`;
    const req = parseListRequest({ filter }, 1000);
    const body = await runList(
      ctx.db,
      principal.tenantId,
      userKind,
      req,
      'http://hub.bench/scim/v2',
    );
    if (body.totalResults !== 1) throw new Error('filter found no user');
    return JSON.stringify(body);
  };
  const seconds = Math.min(ctx.duration, 5);
  ctx.progress(`filter: hub code path without HTTP, ${ctx.connections} concurrent, ${seconds} s`);
  await timeConcurrent({ concurrency: ctx.connections, durationMs: 1000 }, op);
  const r = await timeConcurrent({ concurrency: ctx.connections, durationMs: seconds * 1000 }, op);
  const base = await timeConcurrent(
    { concurrency: ctx.connections, durationMs: seconds * 1000 },
    () =>
      ctx.db.sql`select id, doc, external_id, version, created_at, updated_at from users
      where tenant_id = ${ctx.seeded.tenantId} and user_name_key = ${nameKey(pick(users).userName)}`,
  );
  return {
    name: `(diagnostic) same filter through authenticateToken + runList in-process, no HTTP, ${ctx.connections} concurrent`,
    hub: `${throughputCell(r)}${r.errors ? ` · ${r.errors} errors` : ''}`,
    baseline: `${throughputCell(base, 'q/s')} (1 indexed select)`,
    ratio: fmt.ratio(r.rate / base.rate, 'throughput'),
  };
}
