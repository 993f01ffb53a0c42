import { describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();
const gql = gqlClient(h);

const FIELDS = 'id name kind agentEnabled agentGroup config';
const CREATE = `mutation($input: CreateDataSourceInput!) { r: createDataSource(input: $input) {
  __typename ... on Error { message } ... on DataSource { ${FIELDS} } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateDataSourceInput!) {
  r: updateDataSource(id: $id, input: $input) {
    __typename ... on Error { message } ... on DataSource { ${FIELDS} } } }`;
const DELETE = `mutation($id: ID!) { r: deleteDataSource(id: $id) {
  __typename ... on DeletePayload { deletedId } } }`;
const GET = `query($id: ID!) { dataSource(id: $id) { ${FIELDS} agents { name } } }`;

const ldap = {
  url: 'ldap://ldap.corp.example:389',
  bindDn: 'cn=svc,dc=corp,dc=example',
  password: 'bind-S3cret',
  baseDn: 'dc=corp,dc=example',
};

const create = async (token: string, input: Record<string, unknown>) =>
  dataOf(await gql(token, CREATE, { input })).r;

const stored = async (id: string) =>
  (
    await h.db.sql`select name, agent_enabled, agent_group, config from data_sources
    where id = ${Buffer.from(id, 'base64').toString().split(':')[1] ?? id}`
  )[0];

describe('GraphQL data sources', () => {
  it('creates a direct LDAP data source; GraphQL shows its config redacted, never the secret', async () => {
    const t = await h.tenant();
    const ds = await create(t.adminToken, {
      name: 'corp',
      kind: 'LDAP',
      agentEnabled: false,
      config: ldap,
    });
    expect(ds).toMatchObject({
      __typename: 'DataSource',
      name: 'corp',
      kind: 'LDAP',
      agentEnabled: false,
      agentGroup: 'default',
      config: { ...ldap, password: '[redacted]' },
    });
    expect((await stored(ds.id))?.config).toEqual(ldap);
    const read = dataOf(
      await gql(
        t.adminToken,
        `query($id: ID!) { dataSource(id: $id) { config agents { name } }
        dataSources { totalCount edges { node { id config } } } }`,
        { id: ds.id },
      ),
    );
    expect(read.dataSource).toEqual({ config: ds.config, agents: [] });
    expect(read.dataSources.totalCount).toBe(1);
    expect(JSON.stringify(read)).not.toContain(ldap.password);
    const audit = await h.db.sql`select action, summary::text as s from audit_log
      where tenant_id = ${t.tenantId} and target_type = 'DataSource'`;
    expect(audit.map((a) => a.action)).toEqual(['dataSource.create']);
    expect(audit[0]?.s).not.toContain(ldap.password);
  });

  it('edits with the redacted config sent back, keeping the secret; deletes', async () => {
    const t = await h.tenant();
    const ds = await create(t.adminToken, {
      name: 'corp',
      kind: 'LDAP',
      agentEnabled: false,
      config: ldap,
    });
    const edited = dataOf(
      await gql(t.adminToken, UPDATE, {
        id: ds.id,
        input: {
          name: 'corp-main',
          config: { ...ds.config, baseDn: 'ou=people,dc=corp,dc=example' },
        },
      }),
    ).r;
    expect(edited).toMatchObject({ name: 'corp-main', config: { password: '[redacted]' } });
    expect((await stored(ds.id))?.config).toEqual({
      ...ldap,
      baseDn: 'ou=people,dc=corp,dc=example',
    });
    // null fields keep their value.
    const same = dataOf(
      await gql(t.adminToken, UPDATE, { id: ds.id, input: { name: null, agentGroup: 'hq' } }),
    ).r;
    expect(same).toMatchObject({ name: 'corp-main', agentGroup: 'hq' });

    const del = dataOf(await gql(t.adminToken, DELETE, { id: ds.id })).r;
    expect(del).toEqual({ __typename: 'DeletePayload', deletedId: ds.id });
    expect(dataOf(await gql(t.adminToken, GET, { id: ds.id })).dataSource).toBeNull();
    expect(dataOf(await gql(t.adminToken, DELETE, { id: ds.id })).r.__typename).toBe(
      'NotFoundError',
    );
  });

  it('lists the active agents serving an agent-enabled data source', async () => {
    const t = await h.tenant();
    const reg = (name: string, group: string) =>
      gql(
        t.adminToken,
        'mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { __typename } }',
        {
          i: { name, group },
        },
      );
    await reg('a1', 'hq');
    await reg('a2', 'hq');
    await reg('b1', 'branch');
    const ds = await create(t.adminToken, {
      name: 'hr',
      kind: 'SQL',
      agentEnabled: true,
      agentGroup: 'hq',
      config: { table: 'people' },
    });
    const read = dataOf(await gql(t.adminToken, GET, { id: ds.id })).dataSource;
    expect(read.agents).toEqual([{ name: 'a1' }, { name: 'a2' }]);
  });

  it('refuses bad input with a clear message and writes nothing', async () => {
    const t = await h.tenant();
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ name: '', kind: 'LDAP', agentEnabled: true }, /^name must be 1–64/],
      [{ name: 'a b', kind: 'LDAP', agentEnabled: true }, /^name must be/],
      [{ name: 'x', kind: 'LDAP', agentEnabled: true, agentGroup: 'a/b' }, /^agentGroup /],
      [
        { name: 'x', kind: 'LDAP', agentEnabled: false, config: { url: ldap.url } },
        /^config: .*bindDn/,
      ],
      [
        {
          name: 'x',
          kind: 'SCIM',
          agentEnabled: true,
          config: { baseUrl: 'https://x', auth: { type: 'bearer', token: 't0k' } },
        },
        /^config: auth\.token: secrets stay in the agent's application\.yaml$/,
      ],
      [
        {
          name: 'x',
          kind: 'LDAP',
          agentEnabled: false,
          config: { ...ldap, passwordFile: '/etc/pw' },
        },
        /passwordFile: the hub reads no files/,
      ],
    ];
    for (const [input, message] of bad) {
      const r = await create(t.adminToken, input);
      expect(r.__typename, JSON.stringify(input)).toBe('InvalidInputError');
      expect(r.message).toMatch(message);
      expect(r.message).not.toContain('t0k');
    }
    // The JSON scalar takes objects only.
    for (const config of [[1], 'x', 1]) {
      const res = await gql(t.adminToken, CREATE, {
        input: { name: 'x', kind: 'LDAP', agentEnabled: true, config },
      });
      expect(res.body.errors[0].message).toMatch(/JSON must be an object/);
    }
    const ok = await create(t.adminToken, { name: 'Dup', kind: 'SCIM', agentEnabled: true });
    expect(ok.config).toEqual({});
    expect(
      (await create(t.adminToken, { name: 'dup', kind: 'LDAP', agentEnabled: true })).__typename,
    ).toBe('ConflictError');
    const refused = dataOf(
      await gql(t.adminToken, UPDATE, { id: ok.id, input: { config: { password: 'x' } } }),
    ).r;
    expect(refused.__typename).toBe('InvalidInputError');
    expect((await stored(ok.id))?.config).toEqual({});
    const [n] = await h.db
      .sql`select count(*)::int as n from data_sources where tenant_id = ${t.tenantId}`;
    expect(n?.n).toBe(1);
    const audit = await h.db.sql`select action from audit_log where tenant_id = ${t.tenantId}`;
    expect(audit.map((a) => a.action)).toEqual(['dataSource.create']);
  });
});

describe('GraphQL data sources: auth and tenant isolation', () => {
  it('refuses no token (401) and a SCIM-only token (403)', async () => {
    const t = await h.tenant();
    expect((await gql(undefined, '{ dataSources { totalCount } }')).status).toBe(401);
    const input = { name: 'x', kind: 'SCIM', agentEnabled: true };
    expect((await gql(t.scimToken, CREATE, { input })).status).toBe(403);
    expect((await gql(t.scimToken, '{ dataSources { totalCount } }')).status).toBe(403);
    const [n] = await h.db
      .sql`select count(*)::int as n from data_sources where tenant_id = ${t.tenantId}`;
    expect(n?.n).toBe(0);
  });

  it("another tenant's data source is null in queries and NotFound in every mutation", async () => {
    const [a, b] = [await h.tenant(), await h.tenant()];
    const theirs = await create(b.adminToken, {
      name: 'theirs',
      kind: 'LDAP',
      agentEnabled: false,
      config: ldap,
    });
    const id = theirs.id;
    const seen = dataOf(
      await gql(
        a.adminToken,
        `query($id: ID!) { dataSource(id: $id) { id } node(id: $id) { id } nodes(ids: [$id]) { id }
           dataSources(first: 100) { totalCount edges { node { id } } } }`,
        { id },
      ),
    );
    expect(seen).toEqual({
      dataSource: null,
      node: null,
      nodes: [null],
      dataSources: { totalCount: 0, edges: [] },
    });
    const mutations = dataOf(
      await gql(
        a.adminToken,
        `mutation($id: ID!) {
          u: updateDataSource(id: $id, input: {name: "mine"}) { __typename }
          d: deleteDataSource(id: $id) { __typename }
          t: testConnection(dataSource: $id) { __typename }
          l: listAttributes(dataSource: $id) { __typename }
          r: listResourceTypes(dataSource: $id) { __typename }
          p: previewSearch(dataSource: $id) { __typename } }`,
        { id },
      ),
    );
    expect(Object.values(mutations)).toEqual(Array(6).fill({ __typename: 'NotFoundError' }));
    expect(await stored(id)).toMatchObject({ name: 'theirs', config: ldap });
    const audit = await h.db
      .sql`select count(*)::int as n from audit_log where tenant_id = ${a.tenantId}`;
    expect(audit[0]?.n).toBe(0);
  });
});
