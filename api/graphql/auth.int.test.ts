import { describe, expect, it } from 'vitest';
import { createHarness, OPERATOR_TOKEN } from '../../test/harness.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();
const gql = gqlClient(h);

describe('GraphQL auth', () => {
  it('refuses a request without a token with 401 and a GraphQL-shaped error', async () => {
    const res = await gql(undefined, '{ viewer { kind } }');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(res.body.errors[0].extensions.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('refuses unknown and revoked-looking tokens with 401', async () => {
    const res = await gql('idh_not-a-real-token-at-all', '{ viewer { kind } }');
    expect(res.status).toBe(401);
  });

  it('refuses a SCIM-only token with 403', async () => {
    const t = await h.tenant();
    const res = await gql(t.scimToken, '{ viewer { kind } }');
    expect(res.status).toBe(403);
    expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(res.body.data).toBeUndefined();
  });

  it('answers an admin token with its token, tenant and scopes', async () => {
    const t = await h.tenant();
    const data = dataOf(
      await gql(
        t.adminToken,
        '{ viewer { kind scopes token { prefix scopes active } tenant { name status } } }',
      ),
    );
    expect(data.viewer).toMatchObject({
      kind: 'TENANT_TOKEN',
      scopes: ['ADMIN'],
      token: { prefix: t.adminToken.slice(0, 12), scopes: ['ADMIN'], active: true },
      tenant: { status: 'ACTIVE' },
    });
  });

  it('answers the operator token as the operator, with no tenant', async () => {
    const data = dataOf(
      await gql(OPERATOR_TOKEN, '{ viewer { kind token { id } tenant { id } } }'),
    );
    expect(data.viewer).toEqual({ kind: 'OPERATOR', token: null, tenant: null });
  });

  it('refuses operator-only fields to admin tokens, and changes nothing', async () => {
    const t = await h.tenant();
    const name = `never-${Date.now()}`;
    const res = await gql(
      t.adminToken,
      'mutation($n: String!) { createTenant(name: $n) { __typename } }',
      { n: name },
    );
    expect(res.body.data).toBeNull();
    expect(res.body.errors[0].message).toMatch(/not authorized/i);
    const list = await gql(t.adminToken, '{ tenants { totalCount } }');
    expect(list.body.data.tenants).toBeNull();
    expect(list.body.errors[0].path).toEqual(['tenants']);
    const after = await gql(OPERATOR_TOKEN, '{ tenants(first: 100) { edges { node { name } } } }');
    expect(JSON.stringify(after.body)).not.toContain(name);
  });

  it('refuses tenant fields to the operator token', async () => {
    const users = await gql(OPERATOR_TOKEN, '{ users { totalCount } }');
    expect(users.body.data.users).toBeNull();
    expect(users.body.errors[0].message).toMatch(/not authorized/i);
    const create = await gql(
      OPERATOR_TOKEN,
      'mutation { createUser(input: {userName: "op-made"}) { __typename } }',
    );
    expect(create.body.data).toBeNull();
    expect(create.body.errors[0].message).toMatch(/not authorized/i);
    const token = await gql(
      OPERATOR_TOKEN,
      'mutation { createApiToken(scopes: [SCIM]) { __typename } }',
    );
    expect(token.body.data).toBeNull();
  });

  it('refuses introspection anonymously and allows it to admins and the operator', async () => {
    const q = '{ __schema { queryType { name } } }';
    expect((await gql(undefined, q)).status).toBe(401);
    const t = await h.tenant();
    expect(dataOf(await gql(t.adminToken, q)).__schema.queryType.name).toBe('Query');
    expect(dataOf(await gql(OPERATOR_TOKEN, q)).__schema.queryType.name).toBe('Query');
  });

  it('serves GraphiQL on GET to browsers, and nothing else on GET', async () => {
    const page = await h.request('GET', '/graphql', { headers: { Accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.text).toMatch(/graphiql/i);
    const get = await h.request('GET', '/graphql?query=%7Bviewer%7Bkind%7D%7D', {
      headers: { Accept: 'application/json' },
    });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});
