import { describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();
const gql = gqlClient(h);

const ERR = '__typename ... on Error { code message } ... on InvalidInputError { reason }';

/** Runs a mutation aliased `r` and returns its result. */
async function mut(token: string, query: string, variables?: Record<string, unknown>) {
  return dataOf(await gql(token, query, variables)).r;
}

const createUser = async (token: string, userName: string): Promise<string> =>
  (
    await mut(
      token,
      'mutation($u: String!) { r: createUser(input: {userName: $u}) { ... on User { id } } }',
      { u: userName },
    )
  ).id;

const CREATE_ORG = `mutation($name: String!, $parent: ID) { r: createOrganization(input: {name: $name, parentId: $parent}) {
  ${ERR} ... on Organization { id name depth parent { id } } } }`;

const createOrg = async (token: string, name: string, parent?: string): Promise<string> => {
  const r = await mut(token, CREATE_ORG, { name, parent });
  expect(r.__typename, JSON.stringify(r)).toBe('Organization');
  return r.id;
};

const ISSUE = `mutation($u: ID!, $type: CredentialType!, $serial: String!) {
  r: issueCredential(input: {userId: $u, type: $type, serial: $serial}) { ${ERR} ... on Credential { id type state } } }`;

const ADD_CERT = `mutation($c: ID!, $serial: String!) { r: addCertificate(credentialId: $c, input: {
  serial: $serial, subjectDn: "CN=x", issuerDn: "CN=Test CA",
  notBefore: "2024-01-01T00:00:00Z", notAfter: "2030-01-01T00:00:00Z" }) { ${ERR} ... on Certificate { id state } } }`;

describe('GraphQL organisations', () => {
  it('creates, renames, moves and deletes organisations; tree and connection views', async () => {
    const t = await h.tenant();
    const root = await createOrg(t.adminToken, 'Acme');
    const sales = await createOrg(t.adminToken, 'Sales', root);
    const emea = await createOrg(t.adminToken, 'EMEA', sales);
    const ops = await createOrg(t.adminToken, 'Ops', root);
    const other = await createOrg(t.adminToken, 'Other');

    const tree = dataOf(
      await gql(
        t.adminToken,
        `{ organizationTree { edges { node { name children { edges { node { name depth
            children { edges { node { name ancestors { name } } } } } } } } } } }`,
      ),
    ).organizationTree;
    expect(tree.edges.map((e: any) => e.node.name)).toEqual(['Acme', 'Other']);
    const acme = tree.edges[0].node;
    expect(acme.children.edges.map((e: any) => e.node.name)).toEqual(['Ops', 'Sales']);
    expect(acme.children.edges[1].node.children.edges[0].node).toEqual({
      name: 'EMEA',
      ancestors: [{ name: 'Acme' }, { name: 'Sales' }],
    });

    const names = async (args: string) =>
      dataOf(
        await gql(
          t.adminToken,
          `{ organizations(${args}) { totalCount edges { node { name } } } }`,
        ),
      ).organizations.edges.map((e: any) => e.node.name);
    expect(await names(`subtreeOf: "${sales}"`)).toEqual(['Sales', 'EMEA']);
    expect(await names(`parentId: "${root}"`)).toEqual(['Sales', 'Ops']);
    expect(await names('rootsOnly: true')).toEqual(['Acme', 'Other']);
    const page = dataOf(
      await gql(
        t.adminToken,
        '{ organizations(first: 2) { totalCount pageInfo { hasNextPage endCursor } } }',
      ),
    ).organizations;
    expect(page).toMatchObject({ totalCount: 5, pageInfo: { hasNextPage: true } });
    const rest = dataOf(
      await gql(
        t.adminToken,
        'query($a: String) { organizations(first: 10, after: $a) { edges { node { name } } } }',
        { a: page.pageInfo.endCursor },
      ),
    ).organizations;
    expect(rest.edges.map((e: any) => e.node.name)).toEqual(['EMEA', 'Ops', 'Other']);

    const renamed = await mut(
      t.adminToken,
      `mutation($id: ID!) { r: renameOrganization(id: $id, name: "Sales & Marketing") { ${ERR} ... on Organization { name version } } }`,
      { id: sales },
    );
    expect(renamed).toMatchObject({ __typename: 'Organization', name: 'Sales & Marketing' });

    // Move the Sales subtree under Other: EMEA follows.
    const moved = await mut(
      t.adminToken,
      `mutation($id: ID!, $p: ID) { r: moveOrganization(id: $id, parentId: $p) { ${ERR} ... on Organization { parent { name } } } }`,
      { id: sales, p: other },
    );
    expect(moved.parent.name).toBe('Other');
    expect(await names(`subtreeOf: "${other}"`)).toEqual(['Sales & Marketing', 'EMEA', 'Other']);
    const toRoot = await mut(
      t.adminToken,
      'mutation($id: ID!) { r: moveOrganization(id: $id) { ... on Organization { parent { id } depth } } }',
      { id: emea },
    );
    expect(toRoot).toEqual({ parent: null, depth: 0 });

    const user = await createUser(t.adminToken, 'ada');
    const assigned = await mut(
      t.adminToken,
      `mutation($u: ID!, $o: ID) { r: setUserOrganization(userId: $u, organizationId: $o) { ${ERR} ... on User { organization { name } } } }`,
      { u: user, o: ops },
    );
    expect(assigned.organization.name).toBe('Ops');

    const del = `mutation($id: ID!) { r: deleteOrganization(id: $id) { ${ERR} ... on DeletePayload { deletedId } } }`;
    expect(await mut(t.adminToken, del, { id: ops })).toMatchObject({
      __typename: 'InvalidInputError',
      reason: 'not_empty',
    });
    await mut(
      t.adminToken,
      'mutation($u: ID!) { r: setUserOrganization(userId: $u, organizationId: null) { __typename } }',
      { u: user },
    );
    expect(await mut(t.adminToken, del, { id: ops })).toEqual({
      __typename: 'DeletePayload',
      deletedId: ops,
    });
    expect(
      dataOf(
        await gql(t.adminToken, 'query($id: ID!) { organization(id: $id) { id } }', { id: ops }),
      ).organization,
    ).toBeNull();
  });

  it('returns typed errors: conflict, cycle, not_empty, not_found, invalid', async () => {
    const t = await h.tenant();
    const root = await createOrg(t.adminToken, 'Root');
    const child = await createOrg(t.adminToken, 'Child', root);
    expect(await mut(t.adminToken, CREATE_ORG, { name: 'child', parent: root })).toMatchObject({
      __typename: 'ConflictError',
      code: 'CONFLICT',
    });
    expect(await mut(t.adminToken, CREATE_ORG, { name: '  ' })).toMatchObject({
      __typename: 'InvalidInputError',
      reason: 'invalid',
    });
    expect(await mut(t.adminToken, CREATE_ORG, { name: 'x', parent: 'nope' })).toMatchObject({
      __typename: 'NotFoundError',
    });
    const move = `mutation($id: ID!, $p: ID) { r: moveOrganization(id: $id, parentId: $p) { ${ERR} } }`;
    expect(await mut(t.adminToken, move, { id: root, p: child })).toMatchObject({
      __typename: 'InvalidInputError',
      reason: 'cycle',
    });
    expect(await mut(t.adminToken, move, { id: root, p: root })).toMatchObject({ reason: 'cycle' });
    expect(
      await mut(t.adminToken, `mutation($id: ID!) { r: deleteOrganization(id: $id) { ${ERR} } }`, {
        id: root,
      }),
    ).toMatchObject({ reason: 'not_empty' });
    const user = await createUser(t.adminToken, 'u1');
    // A user's id is not an organisation's.
    expect(
      await mut(
        t.adminToken,
        `mutation($id: ID!) { r: renameOrganization(id: $id, name: "x") { ${ERR} } }`,
        { id: user },
      ),
    ).toMatchObject({ __typename: 'NotFoundError' });
  });
});

describe('GraphQL credentials, certificates and accounts', () => {
  it('issues credentials, adds and transitions certificates, with typed errors', async () => {
    const t = await h.tenant();
    const user = await createUser(t.adminToken, 'carol');
    const cred = await mut(t.adminToken, ISSUE, { u: user, type: 'CARD', serial: 'C-1' });
    expect(cred).toMatchObject({ __typename: 'Credential', type: 'CARD', state: 'ACTIVE' });
    expect(await mut(t.adminToken, ISSUE, { u: user, type: 'CARD', serial: 'C-1' })).toMatchObject({
      __typename: 'ConflictError',
    });
    expect(
      await mut(t.adminToken, ISSUE, { u: 'nope', type: 'CARD', serial: 'C-2' }),
    ).toMatchObject({ __typename: 'NotFoundError' });

    const locked = await mut(
      t.adminToken,
      `mutation($id: ID!) { r: changeCredentialState(id: $id, state: LOCKED) { ${ERR} ... on Credential { state version } } }`,
      { id: cred.id },
    );
    expect(locked).toMatchObject({ state: 'LOCKED', version: 2 });

    const cert = await mut(t.adminToken, ADD_CERT, { c: cred.id, serial: '01' });
    expect(cert).toMatchObject({ __typename: 'Certificate', state: 'ACTIVE' });
    expect(await mut(t.adminToken, ADD_CERT, { c: cred.id, serial: '01' })).toMatchObject({
      __typename: 'ConflictError',
    });
    const bad = await mut(
      t.adminToken,
      `mutation($c: ID!) { r: addCertificate(credentialId: $c, input: {serial: "02", subjectDn: "CN=x",
        issuerDn: "CN=CA", notBefore: "2030-01-01T00:00:00Z", notAfter: "2024-01-01T00:00:00Z"}) { ${ERR} } }`,
      { c: cred.id },
    );
    expect(bad).toMatchObject({ __typename: 'InvalidInputError', reason: 'invalid' });

    const step = (name: string, extra = '') =>
      mut(
        t.adminToken,
        `mutation($id: ID!) { r: ${name}(id: $id${extra}) { ${ERR} ... on Certificate { state revocationReason revokedAt } } }`,
        { id: cert.id },
      );
    expect(await step('releaseCertificate')).toMatchObject({ reason: 'invalid_transition' });
    expect(await step('holdCertificate')).toMatchObject({ state: 'ON_HOLD' });
    expect(await step('holdCertificate')).toMatchObject({ reason: 'invalid_transition' });
    expect(await step('releaseCertificate')).toMatchObject({ state: 'ACTIVE' });
    const revoked = await step('revokeCertificate', ', reason: KEY_COMPROMISE');
    expect(revoked).toMatchObject({ state: 'REVOKED', revocationReason: 'KEY_COMPROMISE' });
    expect(revoked.revokedAt).toBeTruthy();
    expect(await step('releaseCertificate')).toMatchObject({
      __typename: 'InvalidInputError',
      reason: 'invalid_transition',
    });
    expect(await step('revokeCertificate')).toMatchObject({ reason: 'invalid_transition' });

    const detail = dataOf(
      await gql(
        t.adminToken,
        `query($id: ID!) { user(id: $id) { credentials { edges { node { serial state
          certificates { totalCount edges { node { serial state credential { serial } } } } } } } } }`,
        { id: user },
      ),
    ).user;
    expect(detail.credentials.edges[0].node).toEqual({
      serial: 'C-1',
      state: 'LOCKED',
      certificates: {
        totalCount: 1,
        edges: [{ node: { serial: '01', state: 'REVOKED', credential: { serial: 'C-1' } } }],
      },
    });
  });

  it('links and unlinks accounts', async () => {
    const t = await h.tenant();
    const user = await createUser(t.adminToken, 'dave');
    const LINK = `mutation($u: ID!, $k: String!) { r: linkAccount(input: {userId: $u, systemId: "ad", externalKey: $k, dn: "CN=dave"}) {
      ${ERR} ... on Account { id systemId externalKey dn state user { id } } } }`;
    const a = await mut(t.adminToken, LINK, { u: user, k: 'guid-1' });
    expect(a).toMatchObject({
      systemId: 'ad',
      externalKey: 'guid-1',
      state: 'ACTIVE',
      user: { id: user },
    });
    await mut(t.adminToken, LINK, { u: user, k: 'guid-2' });
    expect(await mut(t.adminToken, LINK, { u: user, k: 'guid-1' })).toMatchObject({
      __typename: 'ConflictError',
    });
    const unlink = `mutation($id: ID!) { r: unlinkAccount(id: $id) { ${ERR} ... on DeletePayload { deletedId } } }`;
    expect(await mut(t.adminToken, unlink, { id: a.id })).toEqual({
      __typename: 'DeletePayload',
      deletedId: a.id,
    });
    expect(await mut(t.adminToken, unlink, { id: a.id })).toMatchObject({
      __typename: 'NotFoundError',
    });
    const accounts = dataOf(
      await gql(
        t.adminToken,
        'query($id: ID!) { user(id: $id) { accounts { edges { node { externalKey } } } } }',
        {
          id: user,
        },
      ),
    ).user.accounts;
    expect(accounts.edges).toEqual([{ node: { externalKey: 'guid-2' } }]);
  });
});

describe('GraphQL roles', () => {
  it('creates, assigns and withdraws roles, keeping history', async () => {
    const t = await h.tenant();
    const user = await createUser(t.adminToken, 'erin');
    const CREATE = `mutation($n: String!) { r: createRole(input: {name: $n, description: "d"}) { ${ERR} ... on Role { id name } } }`;
    const role = await mut(t.adminToken, CREATE, { n: 'Auditor' });
    expect(role).toMatchObject({ __typename: 'Role', name: 'Auditor' });
    expect(await mut(t.adminToken, CREATE, { n: 'auditor' })).toMatchObject({
      __typename: 'ConflictError',
    });
    const ASSIGN = `mutation($r: ID!, $u: ID!) { r: assignRole(roleId: $r, userId: $u) { ${ERR} ... on AssignRolePayload { granted assignment { state role { name } } } } }`;
    expect(await mut(t.adminToken, ASSIGN, { r: role.id, u: user })).toMatchObject({
      granted: true,
      assignment: { state: 'GRANTED', role: { name: 'Auditor' } },
    });
    expect(await mut(t.adminToken, ASSIGN, { r: role.id, u: user })).toMatchObject({
      granted: false,
    });
    expect(await mut(t.adminToken, ASSIGN, { r: user, u: user })).toMatchObject({
      __typename: 'NotFoundError',
    });
    const WITHDRAW = `mutation($r: ID!, $u: ID!) { r: withdrawRole(roleId: $r, userId: $u, reason: "left team") { ${ERR} ... on RoleAssignment { state withdrawReason withdrawnAt } } }`;
    expect(await mut(t.adminToken, WITHDRAW, { r: role.id, u: user })).toMatchObject({
      state: 'WITHDRAWN',
      withdrawReason: 'left team',
    });
    expect(await mut(t.adminToken, WITHDRAW, { r: role.id, u: user })).toMatchObject({
      __typename: 'NotFoundError',
    });
    await mut(t.adminToken, ASSIGN, { r: role.id, u: user });
    const data = dataOf(
      await gql(
        t.adminToken,
        `query($id: ID!) { user(id: $id) { roles { totalCount } history: roles(history: true) { edges { node { state } } } }
          roles { totalCount edges { node { name assignments { totalCount } } } } }`,
        { id: user },
      ),
    );
    expect(data.user.roles.totalCount).toBe(1);
    expect(data.user.history.edges.map((e: any) => e.node.state)).toEqual(['GRANTED', 'WITHDRAWN']);
    expect(data.roles).toEqual({
      totalCount: 1,
      edges: [{ node: { name: 'Auditor', assignments: { totalCount: 1 } } }],
    });
  });
});

describe('GraphQL deactivation cascade', () => {
  it('deactivates with all five credential types and reactivates the user only', async () => {
    const t = await h.tenant();
    const user = await createUser(t.adminToken, 'frank');
    const types = ['CARD', 'TEMPORARY_CARD', 'VIRTUAL_SMART_CARD', 'MOBILE_ID', 'SOFT_TOKEN'];
    for (const [i, type] of types.entries()) {
      const cred = await mut(t.adminToken, ISSUE, { u: user, type, serial: `S-${i}` });
      await mut(t.adminToken, ADD_CERT, { c: cred.id, serial: `cert-${i}` });
    }
    const role = await mut(
      t.adminToken,
      'mutation { r: createRole(input: {name: "Staff"}) { ... on Role { id } } }',
    );
    await mut(
      t.adminToken,
      'mutation($r: ID!, $u: ID!) { r: assignRole(roleId: $r, userId: $u) { __typename } }',
      { r: role.id, u: user },
    );

    const result = await mut(
      t.adminToken,
      `mutation($id: ID!) { r: deactivateUser(id: $id, reason: "left") { ${ERR} ... on DeactivationResult {
        wasActive rolesWithdrawn user { active }
        credentials { inactive locked unchanged } certificates { onHold revoked alreadyRevoked unchanged } } } }`,
      { id: user },
    );
    expect(result).toEqual({
      __typename: 'DeactivationResult',
      wasActive: true,
      rolesWithdrawn: 1,
      user: { active: false },
      credentials: { inactive: 4, locked: 1, unchanged: 0 },
      certificates: { onHold: 4, revoked: 1, alreadyRevoked: 0, unchanged: 0 },
    });

    const STATE = `query($id: ID!) { user(id: $id) { active roles { totalCount }
      credentials { totalCount edges { node { type state certificates { edges { node { state revocationReason } } } } } } } }`;
    const after = dataOf(await gql(t.adminToken, STATE, { id: user })).user;
    expect(after.active).toBe(false);
    expect(after.roles.totalCount).toBe(0);
    expect(after.credentials.totalCount).toBe(5);
    const byType = Object.fromEntries(
      after.credentials.edges.map((e: any) => [
        e.node.type,
        [
          e.node.state,
          e.node.certificates.edges[0].node.state,
          e.node.certificates.edges[0].node.revocationReason,
        ],
      ]),
    );
    expect(byType).toEqual({
      CARD: ['INACTIVE', 'ON_HOLD', null],
      TEMPORARY_CARD: ['LOCKED', 'REVOKED', 'CESSATION_OF_OPERATION'],
      VIRTUAL_SMART_CARD: ['INACTIVE', 'ON_HOLD', null],
      MOBILE_ID: ['INACTIVE', 'ON_HOLD', null],
      SOFT_TOKEN: ['INACTIVE', 'ON_HOLD', null],
    });

    const again = await mut(
      t.adminToken,
      'mutation($id: ID!) { r: deactivateUser(id: $id) { ... on DeactivationResult { wasActive credentials { unchanged } certificates { alreadyRevoked unchanged } } } }',
      { id: user },
    );
    expect(again).toEqual({
      wasActive: false,
      credentials: { unchanged: 5 },
      certificates: { alreadyRevoked: 1, unchanged: 4 },
    });

    const re = await mut(
      t.adminToken,
      `mutation($id: ID!) { r: reactivateUser(id: $id) { ${ERR} ... on ReactivationResult {
        wasActive user { active } credentialsNotActive certificatesNotActive rolesUnchanged note } } }`,
      { id: user },
    );
    expect(re).toMatchObject({
      __typename: 'ReactivationResult',
      wasActive: false,
      user: { active: true },
      credentialsNotActive: 5,
      certificatesNotActive: 5,
      rolesUnchanged: true,
    });
    expect(re.note).toMatch(/Only the user was reactivated/);
    const restored = dataOf(await gql(t.adminToken, STATE, { id: user })).user;
    expect(restored.active).toBe(true);
    expect(restored.credentials.edges.map((e: any) => e.node.state)).not.toContain('ACTIVE');

    expect(
      await mut(t.adminToken, `mutation { r: deactivateUser(id: "nope") { ${ERR} } }`),
    ).toMatchObject({ __typename: 'NotFoundError' });
  });
});

describe('GraphQL audit log', () => {
  it('filters by actor, action, target and time, newest first, and shows a user’s trail', async () => {
    const t = await h.tenant();
    const start = new Date(Date.now() - 1000).toISOString();
    const user = await createUser(t.adminToken, 'gina');
    const org = await createOrg(t.adminToken, 'Audit Org');
    await mut(
      t.adminToken,
      'mutation($u: ID!, $o: ID) { r: setUserOrganization(userId: $u, organizationId: $o) { __typename } }',
      { u: user, o: org },
    );
    await mut(
      t.adminToken,
      'mutation($id: ID!) { r: renameOrganization(id: $id, name: "Renamed") { __typename } }',
      {
        id: org,
      },
    );
    const viewer = dataOf(await gql(t.adminToken, '{ viewer { token { id } } }')).viewer;

    const TYPES: Record<string, string> = {
      actor: 'ID',
      target: 'ID',
      from: 'DateTime',
      to: 'DateTime',
      after: 'String',
    };
    const log = async (args: string, vars: Record<string, unknown> = {}) => {
      const decl = Object.keys(vars)
        .map((k) => `$${k}: ${TYPES[k]}`)
        .join(', ');
      return dataOf(
        await gql(
          t.adminToken,
          `query${decl ? `(${decl})` : ''} {
            auditLog(${args}) { totalCount pageInfo { hasNextPage endCursor }
              edges { node { action targetType targetGlobalId actorToken { id } createdAt } } } }`,
          vars,
        ),
      ).auditLog;
    };

    const all = await log('first: 10');
    expect(all.edges.map((e: any) => e.node.action)).toEqual([
      'organization.rename',
      'user.organization.assign',
      'organization.create',
      'scim.user.create',
    ]);
    expect(all.edges[0].node.actorToken.id).toBe(viewer.token.id);
    expect((await log('actorId: $actor', { actor: viewer.token.id })).totalCount).toBe(4);
    expect((await log('actorId: "someone-else"')).totalCount).toBe(0);
    expect((await log('action: "organization.*"')).edges.map((e: any) => e.node.action)).toEqual([
      'organization.rename',
      'organization.create',
    ]);
    expect((await log('action: "organization.create"')).totalCount).toBe(1);
    const byTarget = await log('targetId: $target', { target: org });
    expect(byTarget.edges.map((e: any) => e.node.targetGlobalId)).toEqual([org, org]);
    expect((await log('targetType: "User"')).totalCount).toBe(2);
    expect((await log('from: $from', { from: start })).totalCount).toBe(4);
    expect((await log('to: $to', { to: start })).totalCount).toBe(0);
    expect(
      (await log('from: $from', { from: new Date(Date.now() + 60_000).toISOString() })).totalCount,
    ).toBe(0);

    const first = await log('first: 3');
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = await log('first: 3, after: $after', { after: first.pageInfo.endCursor });
    expect(next.edges.map((e: any) => e.node.action)).toEqual(['scim.user.create']);
    const foreignCursor = await gql(
      t.adminToken,
      'query($a: String) { auditLog(action: "x", after: $a) { totalCount } }',
      { a: first.pageInfo.endCursor },
    );
    expect(foreignCursor.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');

    const trail = dataOf(
      await gql(
        t.adminToken,
        'query($id: ID!) { user(id: $id) { auditTrail { totalCount edges { node { action } } } } }',
        { id: user },
      ),
    ).user.auditTrail;
    expect(trail).toEqual({
      totalCount: 2,
      edges: [
        { node: { action: 'user.organization.assign' } },
        { node: { action: 'scim.user.create' } },
      ],
    });
  });
});
