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
    members(first: 5) { totalCount edges { node { __typename ... on User { userName } } } } } } }
  organization { name parent { name } }
  accounts { edges { node { externalKey } } }
  credentials { edges { node { serial certificates { edges { node { serial state } } } } } }
  roles { edges { node { state role { name } } } } } } } }`;

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
    const org = async (name: string, parentId?: string) =>
      dataOf(
        await adminGql(
          t.adminToken,
          'mutation($n: String!, $p: ID) { createOrganization(input: {name: $n, parentId: $p}) { ... on Organization { id } } }',
          { n: name, p: parentId },
        ),
      ).createOrganization.id as string;
    const root = await org('root');
    const orgIds = [await org('o1', root), await org('o2', root)];
    const roleId = dataOf(
      await adminGql(
        t.adminToken,
        'mutation { createRole(input: {name: "staff"}) { ... on Role { id } } }',
      ),
    ).createRole.id;
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
      const user = u.createUser.id;
      const identity = dataOf(
        await adminGql(
          t.adminToken,
          `mutation($u: ID!, $o: ID, $r: ID!, $k: String!) {
            setUserOrganization(userId: $u, organizationId: $o) { __typename }
            linkAccount(input: {userId: $u, systemId: "ad", externalKey: $k}) { __typename }
            assignRole(roleId: $r, userId: $u) { __typename }
            issueCredential(input: {userId: $u, type: CARD, serial: $k}) { ... on Credential { id } } }`,
          { u: user, o: orgIds[i % 2], r: roleId, k: `k${i}` },
        ),
      );
      await adminGql(
        t.adminToken,
        `mutation($c: ID!, $s: String!) { addCertificate(credentialId: $c, input: {serial: $s,
          subjectDn: "CN=u", issuerDn: "CN=CA", notBefore: "2024-01-01T00:00:00Z",
          notAfter: "2030-01-01T00:00:00Z"}) { __typename } }`,
        { c: identity.issueCredential.id, s: `c${i}` },
      );
    }

    const run = async (n: number) => {
      counting.reset();
      const data = dataOf(await gql(t.adminToken, NESTED, { n }));
      expect(data.users.edges).toHaveLength(n);
      for (const { node } of data.users.edges) {
        expect(node.organization.parent.name).toBe('root');
        expect(node.accounts.edges).toHaveLength(1);
        expect(node.credentials.edges[0].node.certificates.edges).toHaveLength(1);
        expect(node.roles.edges[0].node.role.name).toBe('staff');
      }
      return counting.queries();
    };
    await run(1); // warms the pool: a new connection asks PostgreSQL for its array types once
    const small = await run(3);
    const large = await run(30);
    expect(large).toBe(small);
    // users page, user groups, member pages, member counts; organisations (users' and their
    // parents'), accounts, credentials, certificates, role assignments, roles.
    expect(small).toBeLessThanOrEqual(11);
  });
});
