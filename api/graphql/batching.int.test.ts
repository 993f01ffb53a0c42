import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import * as schema from '../../db/schema/index.ts';
import { createHarness } from '../../test/harness.ts';
import { createApp } from '../app.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();

/** A Db that counts the statements sent to PostgreSQL. */
function countingDb() {
  let count = 0;
  const client = postgres(inject('databaseUrl'), {
    max: 2,
    onnotice: () => {},
    debug: () => count++,
  });
  const db: Db = { db: drizzle(client, { schema }), sql: client, close: () => client.end() };
  return { db, queries: () => count, reset: () => (count = 0) };
}

const counting = countingDb();
afterAll(() => counting.db.close());
const app = createApp({ ...h.services, db: counting.db });
const gql = gqlClient({ ...h, request: appRequest });

async function appRequest(method: string, path: string, opts: any) {
  const headers: Record<string, string> = {
    ...opts.headers,
    Authorization: `Bearer ${opts.token}`,
  };
  const res = await app.request(`http://hub.test${path}`, {
    method,
    headers,
    body: JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
}

const NESTED = `query($n: Int!) { users(first: $n, sortBy: "userName") { edges { node { userName
  groups { edges { direct node { displayName
    members(first: 5) { totalCount edges { node { __typename ... on User { userName } } } } } } } } } } }`;

describe('GraphQL batching (no N+1)', () => {
  it('runs the same number of SQL statements for 3 users as for 30', async () => {
    const t = await h.tenant();
    const adminGql = gqlClient(h);
    const groupIds: string[] = [];
    for (const name of ['g1', 'g2', 'g3']) {
      const d = dataOf(
        await adminGql(
          t.adminToken,
          `mutation { createGroup(input: {displayName: "${name}"}) { ... on Group { id } } }`,
        ),
      );
      groupIds.push(d.createGroup.id);
    }
    // g3 nests g1: members of g1 are indirect members of g3.
    await adminGql(
      t.adminToken,
      'mutation($g: ID!, $m: [ID!]!) { addGroupMembers(groupId: $g, memberIds: $m) { __typename } }',
      { g: groupIds[2], m: [groupIds[0]] },
    );
    for (let i = 0; i < 30; i++) {
      const u = dataOf(
        await adminGql(
          t.adminToken,
          `mutation { createUser(input: {userName: "u${String(i).padStart(2, '0')}"}) { ... on User { id } } }`,
        ),
      );
      await adminGql(
        t.adminToken,
        'mutation($g: ID!, $m: [ID!]!) { addGroupMembers(groupId: $g, memberIds: $m) { __typename } }',
        { g: groupIds[i % 2], m: [u.createUser.id] },
      );
    }

    const run = async (n: number) => {
      counting.reset();
      const data = dataOf(await gql(t.adminToken, NESTED, { n }));
      expect(data.users.edges).toHaveLength(n);
      return counting.queries();
    };
    await run(1); // warms the pool: a new connection asks PostgreSQL for its array types once
    const small = await run(3);
    const large = await run(30);
    expect(large).toBe(small);
    // users page, user groups, member pages, member counts.
    expect(small).toBeLessThanOrEqual(4);
  });
});
