import { describe, expect, it } from 'vitest';
import { createHarness, OPERATOR_TOKEN } from '../../test/harness.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();
const gql = gqlClient(h);

const unique = () => `gql-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

describe('GraphQL tenants (operator) and API tokens (admin)', () => {
  it('creates a tenant whose initial tokens work, renames, disables and enables it', async () => {
    const name = unique();
    const created = dataOf(
      await gql(
        OPERATOR_TOKEN,
        'mutation($n: String!) { r: createTenant(name: $n) { ... on CreateTenantPayload { adminToken scimToken tenant { id name status } } } }',
        { n: name },
      ),
    ).r;
    expect(created.tenant).toMatchObject({ name, status: 'ACTIVE' });
    expect(
      dataOf(await gql(created.adminToken, '{ viewer { tenant { name } } }')).viewer.tenant.name,
    ).toBe(name);
    expect((await h.scimClient(created.scimToken).get('/Users')).status).toBe(200);

    const dup = dataOf(
      await gql(
        OPERATOR_TOKEN,
        'mutation($n: String!) { r: createTenant(name: $n) { __typename } }',
        { n: name.toUpperCase() },
      ),
    ).r;
    expect(dup.__typename).toBe('ConflictError');
    const blank = dataOf(
      await gql(OPERATOR_TOKEN, 'mutation { r: createTenant(name: "  ") { __typename } }'),
    ).r;
    expect(blank.__typename).toBe('InvalidInputError');

    const renamed = dataOf(
      await gql(
        OPERATOR_TOKEN,
        'mutation($id: ID!, $n: String!) { r: renameTenant(id: $id, name: $n) { ... on Tenant { name } } }',
        { id: created.tenant.id, n: `${name}-renamed` },
      ),
    ).r;
    expect(renamed.name).toBe(`${name}-renamed`);

    const disabled = dataOf(
      await gql(
        OPERATOR_TOKEN,
        'mutation($id: ID!) { r: disableTenant(id: $id) { ... on Tenant { status } } }',
        { id: created.tenant.id },
      ),
    ).r;
    expect(disabled.status).toBe('DISABLED');
    await expect
      .poll(async () => (await gql(created.adminToken, '{ viewer { kind } }')).status)
      .toBe(401);
    await gql(OPERATOR_TOKEN, 'mutation($id: ID!) { r: enableTenant(id: $id) { __typename } }', {
      id: created.tenant.id,
    });
    await expect
      .poll(async () => (await gql(created.adminToken, '{ viewer { kind } }')).status)
      .toBe(200);

    const missing = dataOf(
      await gql(OPERATOR_TOKEN, 'mutation { r: disableTenant(id: "nope") { __typename } }'),
    ).r;
    expect(missing.__typename).toBe('NotFoundError');

    // Every operator mutation is audited, as the operator, against the tenant.
    const tenantId = (await h.db.sql`select id from tenants where name = ${`${name}-renamed`}`)[0]
      ?.id;
    const audit = await h.db.sql`select action, actor_type, target_id from audit_log
      where tenant_id = ${tenantId} order by id`;
    expect(audit.map((r) => r.action)).toEqual([
      'tenant.create',
      'tenant.rename',
      'tenant.disable',
      'tenant.enable',
    ]);
    expect(audit.every((r) => r.actor_type === 'operator' && r.target_id === tenantId)).toBe(true);
  });

  it('lists tenants with cursor paging', async () => {
    const q =
      'query($after: String) { tenants(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } }';
    const first = dataOf(await gql(OPERATOR_TOKEN, q)).tenants;
    const second = dataOf(
      await gql(OPERATOR_TOKEN, q, { after: first.pageInfo.endCursor }),
    ).tenants;
    const ids = [...first.edges, ...second.edges].map((e: any) => e.node.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('issues a token shown once, lists it by prefix, and revokes it', async () => {
    const t = await h.tenant();
    const issued = dataOf(
      await gql(
        t.adminToken,
        'mutation { r: createApiToken(scopes: [SCIM, ADMIN], name: "ci", expiresInDays: 30) { ... on CreateApiTokenPayload { token apiToken { id prefix scopes expiresAt active } } } }',
      ),
    ).r;
    expect(issued.token.startsWith(issued.apiToken.prefix)).toBe(true);
    expect(issued.apiToken).toMatchObject({ scopes: ['SCIM', 'ADMIN'], active: true });
    expect((await h.scimClient(issued.token).get('/Users')).status).toBe(200);

    const listed = dataOf(
      await gql(
        t.adminToken,
        '{ viewer { tenant { apiTokens { totalCount edges { node { id prefix } } } } } }',
      ),
    );
    expect(JSON.stringify(listed)).not.toContain(issued.token);
    expect(listed.viewer.tenant.apiTokens.totalCount).toBe(3);

    const revoked = dataOf(
      await gql(
        t.adminToken,
        'mutation($id: ID!) { r: revokeApiToken(id: $id) { ... on ApiToken { active revokedAt } } }',
        { id: issued.apiToken.id },
      ),
    ).r;
    expect(revoked.active).toBe(false);
    await expect
      .poll(async () => (await gql(issued.token, '{ viewer { kind } }')).status)
      .toBe(401);

    const bad = dataOf(
      await gql(
        t.adminToken,
        'mutation { r: createApiToken(scopes: [], expiresInDays: 0) { __typename } }',
      ),
    ).r;
    expect(bad.__typename).toBe('InvalidInputError');

    // Both token mutations are audited with the calling admin token as the actor; the clear
    // token appears nowhere in the log.
    const [caller] = await h.db.sql`select id from api_tokens
      where tenant_id = ${t.tenantId} and scopes = '{admin}'`;
    const audit = await h.db.sql`select action, actor_type, actor_id, summary::text as summary
      from audit_log where tenant_id = ${t.tenantId} and target_type = 'ApiToken' order by id`;
    expect(audit.map((r) => r.action)).toEqual(['token.create', 'token.revoke']);
    expect(audit.every((r) => r.actor_type === 'token' && r.actor_id === caller?.id)).toBe(true);
    expect(audit.map((r) => r.summary).join()).not.toContain(issued.token);
  });
});
