import { encodeGlobalID } from '@pothos/plugin-relay';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHarness, OPERATOR_TOKEN, type TestTenant } from '../../test/harness.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();
const gql = gqlClient(h);

/** Tenant B's objects, probed with tenant A's admin token: nothing resolves, nothing changes. */
describe('GraphQL tenant isolation', () => {
  let a: TestTenant;
  let b: TestTenant;
  let ids: { user: string; group: string; token: string; tenant: string; aGroup: string };
  let before: unknown;

  const snapshot = async () =>
    dataOf(
      await gql(
        b.adminToken,
        `{ users { edges { node { id userName version displayName groups { edges { node { id } } } } } }
           groups { edges { node { id displayName version members { edges { node { ... on User { id } } } } } } }
           viewer { tenant { name status apiTokens { edges { node { id revokedAt } } } } } }`,
      ),
    );

  beforeAll(async () => {
    a = await h.tenant();
    b = await h.tenant();
    const user = dataOf(
      await gql(
        b.adminToken,
        'mutation { createUser(input: {userName: "bob"}) { ... on User { id } } }',
      ),
    ).createUser.id;
    const group = dataOf(
      await gql(
        b.adminToken,
        'mutation($m: [ID!]) { createGroup(input: {displayName: "b-team", memberIds: $m}) { ... on Group { id } } }',
        { m: [user] },
      ),
    ).createGroup.id;
    const viewer = dataOf(
      await gql(b.adminToken, '{ viewer { token { id } tenant { id } } }'),
    ).viewer;
    const aGroup = dataOf(
      await gql(
        a.adminToken,
        'mutation { createGroup(input: {displayName: "a-team"}) { ... on Group { id } } }',
      ),
    ).createGroup.id;
    ids = { user, group, token: viewer.token.id, tenant: viewer.tenant.id, aGroup };
    before = await snapshot();
  });

  it('node and nodes answer null for every type of object', async () => {
    const all = [ids.user, ids.group, ids.token, ids.tenant];
    for (const id of all) {
      const data = dataOf(
        await gql(a.adminToken, 'query($id: ID!) { node(id: $id) { id } }', { id }),
      );
      expect(data.node, id).toBeNull();
    }
    const many = dataOf(
      await gql(a.adminToken, 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: all }),
    );
    expect(many.nodes).toEqual([null, null, null, null]);
  });

  it('user(id) and group(id) answer null, by global id and by SCIM id', async () => {
    const scimUser = Buffer.from(ids.user, 'base64').toString().split(':')[1];
    for (const id of [ids.user, scimUser]) {
      expect(
        dataOf(await gql(a.adminToken, 'query($id: ID!) { user(id: $id) { id } }', { id })).user,
      ).toBeNull();
    }
    expect(
      dataOf(
        await gql(a.adminToken, 'query($id: ID!) { group(id: $id) { id } }', { id: ids.group }),
      ).group,
    ).toBeNull();
  });

  it('lists show only the caller’s tenant, whatever the filter', async () => {
    const data = dataOf(
      await gql(
        a.adminToken,
        `{ users(filter: "userName eq \\"bob\\"") { totalCount edges { node { id } } }
           groups(filter: "displayName pr") { totalCount edges { node { id } } }
           viewer { tenant { apiTokens { edges { node { id } } } } } }`,
      ),
    );
    expect(data.users).toEqual({ totalCount: 0, edges: [] });
    expect(data.groups.edges.map((e: any) => e.node.id)).toEqual([ids.aGroup]);
    expect(JSON.stringify(data)).not.toContain(ids.token);
  });

  it('every mutation on another tenant’s ids is NotFound (or refused) and changes nothing', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [
        'mutation($id: ID!) { r: updateUser(id: $id, input: {displayName: "pwned"}) { __typename } }',
        { id: ids.user },
        'NotFoundError',
      ],
      [
        'mutation($id: ID!) { r: deleteUser(id: $id) { __typename } }',
        { id: ids.user },
        'NotFoundError',
      ],
      [
        'mutation($id: ID!) { r: renameGroup(id: $id, displayName: "pwned") { __typename } }',
        { id: ids.group },
        'NotFoundError',
      ],
      [
        'mutation($id: ID!) { r: deleteGroup(id: $id) { __typename } }',
        { id: ids.group },
        'NotFoundError',
      ],
      [
        'mutation($id: ID!, $m: [ID!]!) { r: addGroupMembers(groupId: $id, memberIds: $m) { __typename } }',
        { id: ids.group, m: [] },
        'NotFoundError',
      ],
      [
        'mutation($id: ID!, $m: [ID!]!) { r: removeGroupMembers(groupId: $id, memberIds: $m) { __typename } }',
        { id: ids.group, m: [ids.user] },
        'NotFoundError',
      ],
      [
        'mutation($id: ID!, $m: [ID!]!) { r: addGroupMembers(groupId: $id, memberIds: $m) { __typename } }',
        { id: ids.aGroup, m: [ids.user] },
        'InvalidInputError',
      ],
      [
        'mutation($id: ID!) { r: revokeApiToken(id: $id) { __typename } }',
        { id: ids.token },
        'NotFoundError',
      ],
      [
        'mutation($id: ID!) { r: updateUser(id: $id, input: {active: false}) { __typename } }',
        { id: encodeGlobalID('Group', ids.group) },
        'NotFoundError',
      ],
    ];
    for (const [q, vars, expected] of cases) {
      const data = dataOf(await gql(a.adminToken, q, vars));
      expect(data.r.__typename, q).toBe(expected);
    }
    expect(await snapshot()).toEqual(before);
    // B's token still works: it was not revoked.
    expect((await gql(b.adminToken, '{ viewer { kind } }')).status).toBe(200);
  });

  it('tenant management is the operator’s only, and the operator sees no tenant data', async () => {
    const q = 'mutation($id: ID!) { r: disableTenant(id: $id) { __typename } }';
    const res = await gql(a.adminToken, q, { id: ids.tenant });
    expect(res.body.data).toBeNull();
    for (const id of [ids.user, ids.group]) {
      const data = dataOf(
        await gql(OPERATOR_TOKEN, 'query($id: ID!) { node(id: $id) { id } }', { id }),
      );
      expect(data.node).toBeNull();
    }
    expect(await snapshot()).toEqual(before);
  });
});
