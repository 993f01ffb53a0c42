import { randomUUID } from 'node:crypto';
import { nameKey } from '../../scim/store/keys.ts';
import type { BenchContext } from './context.ts';
import { expectStatus, scimClient } from './http.ts';
import { runLoad } from './load.ts';
import { copyUsers, type SeededUser, userDoc } from './seed.ts';
import { summarize, timeConcurrent, timeSequential } from './stats.ts';
import { fmt, latencyCell, type Row, throughputCell } from './table.ts';

const POSTS = 5000;

/** `POST /Users` with unique userNames vs single-row INSERTs at the same concurrency. */
export async function postRow(ctx: BenchContext): Promise<Row> {
  const { tenantId, token } = ctx.seeded;
  const run = `${Date.now().toString(36)}`;
  ctx.progress(`post: hub, ${POSTS} creates at ${ctx.connections} connections`);
  const hub = await runLoad({
    url: ctx.hub.url,
    token,
    connections: ctx.connections,
    duration: 30,
    amount: POSTS,
    method: 'POST',
    next: (i) => ({ path: '/scim/v2/Users', body: JSON.stringify(userDoc(i, `p${run}-`)) }),
  });
  ctx.progress(`post: raw SQL, ${POSTS} single-row INSERTs at ${ctx.connections} concurrent`);
  const sql = ctx.db.sql;
  const base = await timeConcurrent(
    { concurrency: ctx.connections, durationMs: 30_000, amount: POSTS },
    (i) => {
      const doc = userDoc(i, `q${run}-`);
      const userName = doc.userName as string;
      return sql`insert into users (id, tenant_id, user_name, user_name_key, active, doc)
      values (${randomUUID()}, ${tenantId}, ${userName}, ${nameKey(userName)}, true, ${JSON.stringify(doc)}::jsonb)`;
    },
  );
  return {
    name: `POST /Users (unique userNames), ${hub.count.toLocaleString('en-US')} creates, ${ctx.connections} conns`,
    hub: `${throughputCell(hub)}${hub.errors ? ` · ${hub.errors} errors (${hub.statuses})` : ''}`,
    baseline: `${throughputCell(base, 'rows/s')} (autocommit INSERT)`,
    ratio: fmt.ratio(hub.rate / base.rate, 'throughput'),
  };
}

const addMember = (userId: string) => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
  Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }],
});

const N_PATCH = 200;
const WARMUP = 10;

/** The SQL a member add boils down to: insert the membership and bump the group, in one transaction. */
const sqlAddMember = (ctx: BenchContext, groupId: string, userId: string) =>
  ctx.db.sql.begin(async (tx) => {
    await tx`insert into group_members (tenant_id, group_id, member_id, member_type)
      values (${ctx.seeded.tenantId}, ${groupId}, ${userId}, 'User') on conflict do nothing`;
    await tx`update groups set version = version + 1, updated_at = now() where id = ${groupId}`;
  });

/** Every timed add really added a member (a 204 for a no-op would flatter the hub). */
async function expectMembers(ctx: BenchContext, groupId: string, n: number): Promise<void> {
  const [row] = await ctx.db.sql<{ n: number }[]>`select count(*)::int as n from group_members
    where group_id = ${groupId}`;
  if (row?.n !== n) throw new Error(`group ${groupId} has ${row?.n} members, expected ${n}`);
}

/** Alternates big/small so drift on a noisy machine hits both sides equally. */
async function alternate(
  n: number,
  big: (i: number) => Promise<unknown>,
  small: (i: number) => Promise<unknown>,
) {
  const b: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < n; i++) {
    b.push(...(await timeSequential(1, () => big(i))));
    s.push(...(await timeSequential(1, () => small(i))));
  }
  return { big: summarize(b), small: summarize(s) };
}

/**
 * PATCH adding one member to the 100k-member group vs to the 10-member group. Every request
 * adds a different user that is not yet a member; the big group's candidates are extra users
 * created for the purpose.
 */
export async function patchRows(ctx: BenchContext): Promise<Row[]> {
  const { tenantId, token, users, bigGroupId, smallGroupId } = ctx.seeded;
  const per = N_PATCH + WARMUP;
  const extras: SeededUser[] = await copyUsers(ctx.db, tenantId, users.length, 2 * per, 'x');
  const smallCandidates = users.slice(10, 10 + per + N_PATCH);
  const client = scimClient(ctx.hub.url, token);
  const patch = (groupId: string, u: SeededUser | undefined) =>
    expectStatus(client, 204, 'PATCH', `/Groups/${groupId}`, addMember((u as SeededUser).id));
  ctx.progress(`patch: hub, ${N_PATCH} adds to each group (alternating)`);
  await alternate(
    WARMUP,
    (i) => patch(bigGroupId, extras[i]),
    (i) => patch(smallGroupId, smallCandidates[i]),
  );
  const hub = await alternate(
    N_PATCH,
    (i) => patch(bigGroupId, extras[WARMUP + i]),
    (i) => patch(smallGroupId, smallCandidates[WARMUP + i]),
  );
  ctx.progress(`patch: raw SQL, ${N_PATCH} adds to each group (alternating)`);
  const base = await alternate(
    N_PATCH,
    (i) => sqlAddMember(ctx, bigGroupId, (extras[per + i] as SeededUser).id),
    (i) => sqlAddMember(ctx, smallGroupId, (smallCandidates[per + i] as SeededUser).id),
  );
  await expectMembers(ctx, bigGroupId, users.length + per + N_PATCH);
  await expectMembers(ctx, smallGroupId, 10 + per + N_PATCH);
  const ratio = hub.big.p50 / hub.small.p50;
  const n = users.length.toLocaleString('en-US');
  const row = (label: string, h: typeof hub.big, b: typeof hub.big): Row => ({
    name: `PATCH Groups add 1 member → ${label} group, ${N_PATCH} sequential`,
    hub: latencyCell(h),
    baseline: `${latencyCell(b)} (INSERT member + bump group, 1 txn)`,
    ratio: fmt.ratio(h.p50 / b.p50, 'p50'),
  });
  return [
    row('10-member', hub.small, base.small),
    {
      ...row(`${n}-member`, hub.big, base.big),
      hub: `${latencyCell(hub.big)} = ${fmt.ratio(ratio, '')}10-member p50`,
      budget: '≤ 2 × the 10-member p50',
      pass: ratio <= 2,
    },
  ];
}
