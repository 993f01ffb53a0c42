import type { BenchContext } from './context.ts';
import { expectStatus, scimClient } from './http.ts';
import { summarize, timeSequential } from './stats.ts';
import { fmt, latencyCell, type Row } from './table.ts';

const PAGE = 100;
const REPEATS = 50;
const COLS = 'id, doc, external_id, version, created_at, updated_at';

const ratioRow = (name: string, hub: number[], base: number[], baseNote: string): Row => {
  const h = summarize(hub);
  const b = summarize(base);
  return {
    name,
    hub: latencyCell(h),
    baseline: `${latencyCell(b)} (${baseNote})`,
    ratio: fmt.ratio(h.p50 / b.p50, 'p50'),
  };
};

/** `GET /Users?startIndex=…&count=100` deep in the list vs the same OFFSET query in SQL. */
export async function indexPagingRow(ctx: BenchContext): Promise<Row> {
  const { tenantId, token, users } = ctx.seeded;
  const startIndex = Math.floor(users.length / 2) + 1;
  const client = scimClient(ctx.hub.url, token);
  const path = `/Users?startIndex=${startIndex}&count=${PAGE}`;
  const first = await expectStatus(client, 200, 'GET', path);
  if (first.Resources?.[0]?.id !== users[startIndex - 1]?.id)
    throw new Error('index paging returned the wrong page');
  ctx.progress(`paging: index startIndex=${startIndex}, ${REPEATS} sequential requests`);
  const hub = await timeSequential(REPEATS, () => expectStatus(client, 200, 'GET', path));
  const base = await timeSequential(REPEATS, () =>
    ctx.db.sql.unsafe(
      `select ${COLS} from users where tenant_id = $1
      order by created_at, id offset ${startIndex - 1} limit ${PAGE}`,
      [tenantId],
      { prepare: true },
    ),
  );
  return ratioRow(
    `GET /Users?startIndex=${startIndex}&count=${PAGE} (index paging), ${REPEATS} sequential`,
    hub,
    base,
    `OFFSET ${startIndex - 1} LIMIT ${PAGE}`,
  );
}

/** One SQL keyset page after (createdAt, id). */
const keysetPage = (ctx: BenchContext, after: { createdAt: string; id: string }) =>
  ctx.db.sql.unsafe<{ id: string; created_at: Date }[]>(
    `select ${COLS} from users where tenant_id = $1 and (created_at, id) > ($2::timestamptz, $3::uuid)
      order by created_at, id limit ${PAGE}`,
    [ctx.seeded.tenantId, after.createdAt, after.id],
    { prepare: true },
  );

/** Walks SCIM cursors from the first page to `target`; returns per-page latencies and the last cursor. */
async function walkCursors(ctx: BenchContext, target: number, deadline: number) {
  const client = scimClient(ctx.hub.url, ctx.seeded.token);
  const latencies: number[] = [];
  let cursor = '';
  for (let page = 1; page < target && Date.now() < deadline; page++) {
    const t = performance.now();
    const body = await expectStatus(
      client,
      200,
      'GET',
      `/Users?cursor=${encodeURIComponent(cursor)}&count=${PAGE}`,
    );
    latencies.push(performance.now() - t);
    if (!body.nextCursor) throw new Error(`cursor walk ended early at page ${page}`);
    cursor = body.nextCursor;
  }
  return { latencies, cursor, reached: latencies.length + 1 };
}

/** The same walk in SQL (keyset on created_at, id). */
async function walkKeyset(ctx: BenchContext, pages: number) {
  const latencies: number[] = [];
  let after = { createdAt: '-infinity', id: '00000000-0000-0000-0000-000000000000' };
  for (let page = 1; page <= pages; page++) {
    const t = performance.now();
    const rows = await keysetPage(ctx, after);
    latencies.push(performance.now() - t);
    const last = rows[rows.length - 1];
    if (!last) throw new Error('keyset walk ended early');
    after = { createdAt: new Date(last.created_at).toISOString(), id: last.id };
  }
  return { latencies, after };
}

/**
 * Cursor paging (RFC 9865): walk `?cursor=&count=100` from page 1 to the page holding the
 * same users as startIndex=N/2+1, then fetch that page repeatedly. Two rows: the walk, and
 * the deep page.
 */
export async function cursorPagingRows(ctx: BenchContext): Promise<Row[]> {
  const { token, users } = ctx.seeded;
  const target = Math.floor(users.length / 2 / PAGE) + 1;
  ctx.progress(`paging: cursor walk pages 1→${target}`);
  const walk = await walkCursors(ctx, target, Date.now() + 90_000);
  const sqlWalk = await walkKeyset(ctx, walk.latencies.length);
  const client = scimClient(ctx.hub.url, token);
  const path = `/Users?cursor=${encodeURIComponent(walk.cursor)}&count=${PAGE}`;
  const page = await expectStatus(client, 200, 'GET', path);
  const expectedFirst = users[(walk.reached - 1) * PAGE]?.id;
  if (page.Resources?.[0]?.id !== expectedFirst)
    throw new Error(`cursor page ${walk.reached} holds the wrong users`);
  ctx.progress(`paging: cursor page ${walk.reached}, ${REPEATS} sequential requests`);
  const hub = await timeSequential(REPEATS, () => expectStatus(client, 200, 'GET', path));
  const base = await timeSequential(REPEATS, () => keysetPage(ctx, sqlWalk.after));
  const totalS = walk.latencies.reduce((a, b) => a + b, 0) / 1000;
  const sqlTotalS = sqlWalk.latencies.reduce((a, b) => a + b, 0) / 1000;
  const walkRow = ratioRow(
    `Cursor walk, GET /Users?cursor=…&count=${PAGE}: pages 1→${walk.latencies.length} sequential, per page`,
    walk.latencies,
    sqlWalk.latencies,
    `keyset LIMIT ${PAGE}`,
  );
  walkRow.hub += ` · total ${fmt.s(totalS)}`;
  walkRow.baseline = walkRow.baseline.replace(' (', ` · total ${fmt.s(sqlTotalS)} (`);
  return [
    walkRow,
    ratioRow(
      `Cursor page ${walk.reached} (same users as startIndex ${(walk.reached - 1) * PAGE + 1}), ${REPEATS} sequential`,
      hub,
      base,
      `keyset after row ${((walk.reached - 1) * PAGE).toLocaleString('en-US')}`,
    ),
  ];
}
