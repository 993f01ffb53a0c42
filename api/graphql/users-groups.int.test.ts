import { describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();
const gql = gqlClient(h);

const CREATE_USER = `mutation($i: CreateUserInput!) { r: createUser(input: $i) {
  __typename ... on User { id scimId userName displayName active version name { givenName } emails { value primary } }
  ... on Error { code message } ... on InvalidInputError { reason } } }`;

describe('GraphQL users and groups', () => {
  it('creates, updates and deletes a user through the SCIM service (versions, outbox, audit)', async () => {
    const t = await h.tenant();
    const created = dataOf(
      await gql(t.adminToken, CREATE_USER, {
        i: {
          userName: 'ada',
          displayName: 'Ada',
          name: { givenName: 'Ada' },
          emails: [{ value: 'ada@x.org', primary: true }],
        },
      }),
    ).r;
    expect(created).toMatchObject({
      __typename: 'User',
      userName: 'ada',
      active: true,
      version: 1,
    });
    expect(created.emails).toEqual([{ value: 'ada@x.org', primary: true }]);

    const scim = await h.scimClient(t.scimToken).get(`/Users/${created.scimId}`);
    expect(scim.body).toMatchObject({ userName: 'ada', displayName: 'Ada' });

    const updated = dataOf(
      await gql(
        t.adminToken,
        'mutation($id: ID!) { r: updateUser(id: $id, input: {displayName: null, active: false}) { ... on User { displayName active version } } }',
        { id: created.id },
      ),
    ).r;
    expect(updated).toEqual({ displayName: null, active: false, version: 2 });

    const outbox = await h.db
      .sql`select operation, version from outbox where resource_id = ${created.scimId} order by id`;
    expect(outbox.map((r) => [r.operation, r.version])).toEqual([
      ['create', 1],
      ['update', 2],
    ]);
    const audit = await h.db
      .sql`select actor_type, action from audit_log where target_id = ${created.scimId} order by id`;
    expect(audit[0]).toMatchObject({ actor_type: 'token', action: 'scim.user.create' });

    const deleted = dataOf(
      await gql(
        t.adminToken,
        'mutation($id: ID!) { r: deleteUser(id: $id) { ... on DeletePayload { deletedId } } }',
        { id: created.id },
      ),
    ).r;
    expect(deleted.deletedId).toBe(created.id);
    expect(
      dataOf(
        await gql(t.adminToken, 'query($id: ID!) { user(id: $id) { id } }', { id: created.id }),
      ).user,
    ).toBeNull();
  });

  it('returns typed errors: Conflict, InvalidInput, NotFound', async () => {
    const t = await h.tenant();
    await gql(t.adminToken, CREATE_USER, { i: { userName: 'dup' } });
    const dup = dataOf(await gql(t.adminToken, CREATE_USER, { i: { userName: 'DUP' } })).r;
    expect(dup).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
    const bad = dataOf(await gql(t.adminToken, CREATE_USER, { i: { userName: '' } })).r;
    expect(bad.__typename).toBe('InvalidInputError');
    const missing = dataOf(
      await gql(
        t.adminToken,
        'mutation { r: deleteUser(id: "nope") { __typename ... on Error { message } } }',
      ),
    ).r;
    expect(missing.__typename).toBe('NotFoundError');
  });

  it('searches with a SCIM filter and sort, and pages with cursors', async () => {
    const t = await h.tenant();
    for (const [u, active] of [
      ['carol', true],
      ['alice', true],
      ['bob', false],
      ['dave', true],
      ['erin', true],
    ] as const) {
      await gql(t.adminToken, CREATE_USER, { i: { userName: u, active } });
    }
    const q = `query($after: String) { users(first: 2, after: $after, filter: "active eq true", sortBy: "userName", sortOrder: DESCENDING) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { userName } } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 3; page++) {
      const conn: any = dataOf(await gql(t.adminToken, q, { after })).users;
      expect(conn.totalCount).toBe(4);
      seen.push(...conn.edges.map((e: any) => e.node.userName));
      after = conn.pageInfo.endCursor;
      if (!conn.pageInfo.hasNextPage) break;
    }
    expect(seen).toEqual(['erin', 'dave', 'carol', 'alice']);

    const badFilter = await gql(t.adminToken, '{ users(filter: "nosuch eq 1") { totalCount } }');
    expect(badFilter.body.errors[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'invalidFilter',
    });
    const badCursor = await gql(t.adminToken, '{ users(after: "garbage") { totalCount } }');
    expect(badCursor.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const backwards = await gql(t.adminToken, '{ users(last: 2) { totalCount } }');
    expect(backwards.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('manages groups and membership, with nested groups seen as indirect', async () => {
    const t = await h.tenant();
    const user = dataOf(await gql(t.adminToken, CREATE_USER, { i: { userName: 'gina' } })).r.id;
    const inner = dataOf(
      await gql(
        t.adminToken,
        'mutation($m: [ID!]) { r: createGroup(input: {displayName: "inner", memberIds: $m}) { ... on Group { id } } }',
        { m: [user] },
      ),
    ).r.id;
    const outer = dataOf(
      await gql(
        t.adminToken,
        'mutation { r: createGroup(input: {displayName: "outer"}) { ... on Group { id } } }',
      ),
    ).r.id;
    const added = dataOf(
      await gql(
        t.adminToken,
        'mutation($g: ID!, $m: [ID!]!) { r: addGroupMembers(groupId: $g, memberIds: $m) { ... on Group { version members { totalCount edges { node { __typename ... on Group { displayName } } } } } } }',
        { g: outer, m: [inner] },
      ),
    ).r;
    expect(added.members.totalCount).toBe(1);
    expect(added.members.edges[0].node).toEqual({ __typename: 'Group', displayName: 'inner' });

    const groups = dataOf(
      await gql(
        t.adminToken,
        'query($id: ID!) { user(id: $id) { groups { edges { direct node { displayName } } } } }',
        { id: user },
      ),
    ).user.groups.edges;
    expect(groups).toEqual([
      { direct: true, node: { displayName: 'inner' } },
      { direct: false, node: { displayName: 'outer' } },
    ]);

    const cycle = dataOf(
      await gql(
        t.adminToken,
        'mutation($g: ID!, $m: [ID!]!) { r: addGroupMembers(groupId: $g, memberIds: $m) { __typename } }',
        { g: inner, m: [outer] },
      ),
    ).r;
    expect(cycle.__typename).toBe('InvalidInputError');

    const renamed = dataOf(
      await gql(
        t.adminToken,
        'mutation($g: ID!) { r: renameGroup(id: $g, displayName: "Outer!") { ... on Group { displayName } } }',
        { g: outer },
      ),
    ).r;
    expect(renamed.displayName).toBe('Outer!');

    const removed = dataOf(
      await gql(
        t.adminToken,
        'mutation($g: ID!, $m: [ID!]!) { r: removeGroupMembers(groupId: $g, memberIds: $m) { ... on Group { members { totalCount } } } }',
        { g: outer, m: [inner] },
      ),
    ).r;
    expect(removed.members.totalCount).toBe(0);

    const del = dataOf(
      await gql(t.adminToken, 'mutation($g: ID!) { r: deleteGroup(id: $g) { __typename } }', {
        g: inner,
      }),
    ).r;
    expect(del.__typename).toBe('DeletePayload');
    const left = dataOf(
      await gql(t.adminToken, 'query($id: ID!) { user(id: $id) { groups { totalCount } } }', {
        id: user,
      }),
    );
    expect(left.user.groups.totalCount).toBe(0);
  });
});
