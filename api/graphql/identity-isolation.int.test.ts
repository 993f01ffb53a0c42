import { beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type TestTenant } from '../../test/harness.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();
const gql = gqlClient(h);

const run = async (token: string, query: string, variables?: Record<string, unknown>) =>
  dataOf(await gql(token, query, variables));

/** Tenant B's identity-model objects, probed with tenant A's admin token. */
describe('GraphQL tenant isolation of the identity model', () => {
  let a: TestTenant;
  let b: TestTenant;
  const B: Record<string, string> = {};
  const A: Record<string, string> = {};
  let before: unknown;

  const snapshot = async () =>
    run(
      b.adminToken,
      `query($u: ID!) { user(id: $u) { active version organization { id name }
          accounts { edges { node { id externalKey state } } }
          credentials { edges { node { id state version certificates { edges { node { id state version } } } } } }
          history: roles(history: true) { edges { node { id state } } } }
        organizations { edges { node { id name version parent { id } } } }
        roles { edges { node { id name } } }
        auditLog(first: 100) { totalCount } }`,
      { u: B.user },
    );

  beforeAll(async () => {
    a = await h.tenant();
    b = await h.tenant();
    for (const [t, ids] of [
      [b, B],
      [a, A],
    ] as const) {
      ids.user = (
        await run(
          t.adminToken,
          'mutation { r: createUser(input: {userName: "same"}) { ... on User { id } } }',
        )
      ).r.id;
      ids.org = (
        await run(
          t.adminToken,
          'mutation { r: createOrganization(input: {name: "Org"}) { ... on Organization { id } } }',
        )
      ).r.id;
      ids.role = (
        await run(
          t.adminToken,
          'mutation { r: createRole(input: {name: "Role"}) { ... on Role { id } } }',
        )
      ).r.id;
    }
    B.child = (
      await run(
        b.adminToken,
        'mutation($p: ID) { r: createOrganization(input: {name: "Child", parentId: $p}) { ... on Organization { id } } }',
        { p: B.org },
      )
    ).r.id;
    await run(
      b.adminToken,
      'mutation($u: ID!, $o: ID) { r: setUserOrganization(userId: $u, organizationId: $o) { __typename } }',
      { u: B.user, o: B.child },
    );
    B.account = (
      await run(
        b.adminToken,
        'mutation($u: ID!) { r: linkAccount(input: {userId: $u, systemId: "ad", externalKey: "k"}) { ... on Account { id } } }',
        { u: B.user },
      )
    ).r.id;
    B.credential = (
      await run(
        b.adminToken,
        'mutation($u: ID!) { r: issueCredential(input: {userId: $u, type: CARD, serial: "1"}) { ... on Credential { id } } }',
        { u: B.user },
      )
    ).r.id;
    B.certificate = (
      await run(
        b.adminToken,
        `mutation($c: ID!) { r: addCertificate(credentialId: $c, input: {serial: "1", subjectDn: "CN=b",
          issuerDn: "CN=CA", notBefore: "2024-01-01T00:00:00Z", notAfter: "2030-01-01T00:00:00Z"}) { ... on Certificate { id } } }`,
        { c: B.credential },
      )
    ).r.id;
    B.assignment = (
      await run(
        b.adminToken,
        'mutation($r: ID!, $u: ID!) { r: assignRole(roleId: $r, userId: $u) { ... on AssignRolePayload { assignment { id } } } }',
        { r: B.role, u: B.user },
      )
    ).r.assignment.id;
    before = await snapshot();
  });

  it('node, nodes and every by-id query answer null', async () => {
    const all = Object.values(B);
    const nodes = await run(a.adminToken, 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', {
      ids: all,
    });
    expect(nodes.nodes).toEqual(all.map(() => null));
    const byId = await run(
      a.adminToken,
      `query($o: ID!, $c: ID!, $x: ID!, $acc: ID!, $r: ID!) {
        organization(id: $o) { id } credential(id: $c) { id } certificate(id: $x) { id }
        account(id: $acc) { id } role(id: $r) { id } }`,
      { o: B.org, c: B.credential, x: B.certificate, acc: B.account, r: B.role },
    );
    expect(byId).toEqual({
      organization: null,
      credential: null,
      certificate: null,
      account: null,
      role: null,
    });
  });

  it('lists show only the caller’s tenant, whatever the filter', async () => {
    const data = await run(
      a.adminToken,
      `query($o: ID!, $target: ID!, $actor: ID!) {
        tree: organizationTree { edges { node { id children { totalCount } } } }
        all: organizations { edges { node { id } } }
        sub: organizations(subtreeOf: $o) { totalCount edges { node { id } } }
        kids: organizations(parentId: $o) { totalCount }
        roles { edges { node { id assignments(history: true) { totalCount } } } }
        byTarget: auditLog(targetId: $target) { totalCount }
        byActor: auditLog(actorId: $actor) { totalCount }
        log: auditLog(first: 100) { edges { node { targetId } } } }`,
      { o: B.org, target: B.org, actor: B.user },
    );
    expect(data.tree.edges).toEqual([{ node: { id: A.org, children: { totalCount: 0 } } }]);
    expect(data.all.edges).toEqual([{ node: { id: A.org } }]);
    expect(data.sub).toEqual({ totalCount: 0, edges: [] });
    expect(data.kids.totalCount).toBe(0);
    expect(data.roles.edges).toEqual([{ node: { id: A.role, assignments: { totalCount: 0 } } }]);
    expect(data.byTarget.totalCount).toBe(0);
    const text = JSON.stringify(data);
    for (const id of Object.values(B)) {
      const local = Buffer.from(id, 'base64').toString().split(':')[1] ?? id;
      expect(text).not.toContain(local);
    }
  });

  it('every mutation on another tenant’s ids is NotFound and changes nothing', async () => {
    const cert = (name: string, extra = '') =>
      `mutation($id: ID!) { r: ${name}(id: $id${extra}) { __typename } }`;
    const cases: [string, Record<string, unknown>][] = [
      [
        'mutation($p: ID) { r: createOrganization(input: {name: "x", parentId: $p}) { __typename } }',
        { p: B.org },
      ],
      [
        'mutation($id: ID!) { r: renameOrganization(id: $id, name: "pwned") { __typename } }',
        { id: B.org },
      ],
      ['mutation($id: ID!) { r: moveOrganization(id: $id) { __typename } }', { id: B.child }],
      [
        'mutation($id: ID!, $p: ID) { r: moveOrganization(id: $id, parentId: $p) { __typename } }',
        { id: A.org, p: B.org },
      ],
      ['mutation($id: ID!) { r: deleteOrganization(id: $id) { __typename } }', { id: B.child }],
      ['mutation($u: ID!) { r: setUserOrganization(userId: $u) { __typename } }', { u: B.user }],
      [
        'mutation($u: ID!, $o: ID) { r: setUserOrganization(userId: $u, organizationId: $o) { __typename } }',
        { u: A.user, o: B.org },
      ],
      [
        'mutation($u: ID!) { r: linkAccount(input: {userId: $u, systemId: "ad", externalKey: "z"}) { __typename } }',
        { u: B.user },
      ],
      ['mutation($id: ID!) { r: unlinkAccount(id: $id) { __typename } }', { id: B.account }],
      [
        'mutation($u: ID!) { r: issueCredential(input: {userId: $u, type: CARD, serial: "z"}) { __typename } }',
        { u: B.user },
      ],
      [
        'mutation($id: ID!) { r: changeCredentialState(id: $id, state: LOCKED) { __typename } }',
        { id: B.credential },
      ],
      [
        `mutation($c: ID!) { r: addCertificate(credentialId: $c, input: {serial: "z", subjectDn: "CN=z",
          issuerDn: "CN=CA", notBefore: "2024-01-01T00:00:00Z", notAfter: "2030-01-01T00:00:00Z"}) { __typename } }`,
        { c: B.credential },
      ],
      [cert('holdCertificate'), { id: B.certificate }],
      [cert('releaseCertificate'), { id: B.certificate }],
      [cert('revokeCertificate', ', reason: KEY_COMPROMISE'), { id: B.certificate }],
      [
        'mutation($r: ID!, $u: ID!) { r: assignRole(roleId: $r, userId: $u) { __typename } }',
        { r: B.role, u: A.user },
      ],
      [
        'mutation($r: ID!, $u: ID!) { r: assignRole(roleId: $r, userId: $u) { __typename } }',
        { r: A.role, u: B.user },
      ],
      [
        'mutation($r: ID!, $u: ID!) { r: withdrawRole(roleId: $r, userId: $u) { __typename } }',
        { r: B.role, u: B.user },
      ],
      ['mutation($id: ID!) { r: deactivateUser(id: $id) { __typename } }', { id: B.user }],
      ['mutation($id: ID!) { r: reactivateUser(id: $id) { __typename } }', { id: B.user }],
    ];
    for (const [q, vars] of cases) {
      expect((await run(a.adminToken, q, vars)).r.__typename, q).toBe('NotFoundError');
    }
    // Names are unique per tenant only: B's names do not collide with A's.
    expect(
      (await run(a.adminToken, 'mutation { r: createRole(input: {name: "Child"}) { __typename } }'))
        .r.__typename,
    ).toBe('Role');
    expect(await snapshot()).toEqual(before);
  });
});
