import { describe, expect, it } from 'vitest';
import { createHarness } from '../harness.ts';
import {
  createGroup,
  createUser,
  expectError,
  guard,
  memberIds,
  patchOp,
  URN,
  uniq,
  userRow,
} from './helpers.ts';

/**
 * Races that real clients produce: Entra and Okta retry and parallelise, so uniqueness and
 * If-Match must hold under concurrency, enforced by the database, not by a read-then-write.
 */
const h = guard(createHarness());

const tally = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((acc, s) => {
    acc[s] = (acc[s] ?? 0) + 1;
    return acc;
  }, {});

async function userRows(tenantId: string) {
  return h.db.sql<{ id: string; user_name: string }[]>`
    select id::text, user_name from users where tenant_id = ${tenantId}`;
}

async function outboxOps(tenantId: string) {
  return h.db.sql<{ operation: string; n: number }[]>`
    select operation, count(*)::int as n from outbox where tenant_id = ${tenantId}
    group by operation order by operation`;
}

describe('concurrency', () => {
  it('100 concurrent POSTs of the same userName → one 201, 99 × 409 uniqueness, one row', async () => {
    const t = await h.tenant();
    const userName = `race-${uniq()}@x.test`;
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        t.c.post('/Users', { schemas: [URN.user], userName, active: true }),
      ),
    );
    expect(tally(results.map((r) => r.status))).toEqual({ 201: 1, 409: 99 });
    for (const r of results.filter((r) => r.status === 409)) expectError(r, 409, 'uniqueness');
    const rows = await userRows(t.tenantId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBe(results.find((r) => r.status === 201)?.body.id);
    expect(await outboxOps(t.tenantId)).toEqual([{ operation: 'create', n: 1 }]);
  });

  it('100 concurrent POSTs of case variants of one userName → one 201, 99 × 409', async () => {
    const t = await h.tenant();
    const base = `Race.Case-${uniq()}@Example.COM`;
    const variants = [base, base.toLowerCase(), base.toUpperCase(), base.replace(/e/gi, 'E')];
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        t.c.post('/Users', { schemas: [URN.user], userName: variants[i % variants.length] }),
      ),
    );
    expect(tally(results.map((r) => r.status))).toEqual({ 201: 1, 409: 99 });
    for (const r of results.filter((r) => r.status === 409)) expectError(r, 409, 'uniqueness');
    const rows = await userRows(t.tenantId);
    expect(rows).toHaveLength(1);
    expect(variants).toContain(rows[0]?.user_name);
    const found = await t.c.get(`/Users?filter=${encodeURIComponent(`userName eq "${base}"`)}`);
    expect(found.body.totalResults).toBe(1);
  });

  it('concurrent group POSTs of one displayName → one 201, the rest 409', async () => {
    const t = await h.tenant();
    const name = `Race Group ${uniq()}`;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t.c.post('/Groups', {
          schemas: [URN.group],
          displayName: i % 2 ? name : name.toUpperCase(),
        }),
      ),
    );
    expect(tally(results.map((r) => r.status))).toEqual({ 201: 1, 409: 29 });
    const [n] = await h.db.sql<{ n: number }[]>`
      select count(*)::int as n from groups where tenant_id = ${t.tenantId}`;
    expect(n?.n).toBe(1);
  });

  it('concurrent PATCHes with If-Match of the same version: one succeeds, the rest 412', async () => {
    const t = await h.tenant();
    const id = await createUser(t.c, uniq());
    const etag = (await t.c.get(`/Users/${id}`)).headers.get('etag') as string;
    expect(etag).toBe('W/"1"');
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t.c.patch(
          `/Users/${id}`,
          patchOp({ op: 'replace', path: 'displayName', value: `writer-${i}` }),
          { 'If-Match': etag },
        ),
      ),
    );
    expect(tally(results.map((r) => r.status))).toEqual({ 204: 1, 412: 29 });
    const winner = results.findIndex((r) => r.status === 204);
    const row = await userRow(h, id);
    expect(row?.version).toBe(2);
    expect(row?.doc.displayName).toBe(`writer-${winner}`);
    expect(results[winner]?.headers.get('etag')).toBe('W/"2"');
    expect(await outboxOps(t.tenantId)).toEqual([
      { operation: 'create', n: 1 },
      { operation: 'update', n: 1 },
    ]);
  });

  it('concurrent PUTs with If-Match of the same version: one succeeds, the rest 412', async () => {
    const t = await h.tenant();
    const gid = await createGroup(t.c, uniq('g'));
    const read = (await t.c.get(`/Groups/${gid}`)).body;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.c.put(
          `/Groups/${gid}`,
          { ...read, displayName: `${read.displayName}-${i}` },
          {
            'If-Match': read.meta.version,
          },
        ),
      ),
    );
    expect(tally(results.map((r) => r.status))).toEqual({ 200: 1, 412: 19 });
  });

  it('concurrent member adds without If-Match lose no update', async () => {
    const t = await h.tenant();
    const gid = await createGroup(t.c, uniq('g'));
    const users: string[] = [];
    for (let i = 0; i < 40; i++) users.push(await createUser(t.c, `m${i}-${uniq()}`));
    const results = await Promise.all(
      users.map((u) =>
        t.c.patch(`/Groups/${gid}`, patchOp({ op: 'add', path: 'members', value: [{ value: u }] })),
      ),
    );
    expect(tally(results.map((r) => r.status))).toEqual({ 204: 40 });
    expect(await memberIds(h, gid)).toEqual([...users].sort());
    const [g] = await h.db.sql<{ version: number }[]>`select version from groups where id = ${gid}`;
    expect(g?.version).toBe(41);
  });
});
