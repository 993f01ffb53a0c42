/**
 * The "done when", as an admin does it, over two hub processes sharing one PostgreSQL
 * and Redis: register an agent and a data source in GraphQL on hub 2, start the agent with an
 * application.yaml pointing at hub 1, see it connected (to hub 1) from hub 2, test the data
 * source, list its attributes, preview a search — every command crossing replicas — and revoke.
 */
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER } from '../../api/graphql/yoga.ts';
import { createHarness, type TestTenant } from '../harness.ts';
import {
  type HubProcess,
  startAgentProcess,
  startHubProcess,
  type TestProcess,
} from '../processes.ts';
import { startSlapd, type TestSlapd } from '../slapd.ts';
import { until } from '../until.ts';
import { hubEnv, tempDir, writeAgentConfig } from './setup.ts';

const h = createHarness();
let dir: string;
let slapd: TestSlapd;
let hub1: HubProcess;
let hub2: HubProcess;
let tenant: TestTenant;
let agent: TestProcess | undefined;

beforeAll(async () => {
  dir = await tempDir('idhub-agent-admin-');
  [slapd, hub1, hub2] = await Promise.all([
    startSlapd(),
    startHubProcess(hubEnv(dir, { IDHUB_REPLICA_NAME: 'hub-1' })),
    startHubProcess(hubEnv(dir, { IDHUB_REPLICA_NAME: 'hub-2' })),
  ]);
  tenant = await h.tenant();
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await Promise.all([hub1?.stop(), hub2?.stop()]);
  await slapd?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** GraphQL on a hub process, as GraphiQL or curl sends it. */
async function gql(hub: HubProcess, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${hub.url}/graphql`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${tenant.adminToken}`,
      'Content-Type': 'application/json',
      [CSRF_HEADER]: '1',
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as {
    data?: Record<string, Record<string, unknown>>;
    errors?: unknown[];
  };
  expect(
    body.errors,
    `${JSON.stringify(body.errors)}\n${hub.output().slice(-3000)}`,
  ).toBeUndefined();
  return body.data ?? {};
}

const AGENT_STATUS = `query { agents { edges { node { name connected replica version commandsInFlight } } } }`;

async function agentStatus(hub: HubProcess) {
  const data = await gql(hub, AGENT_STATUS);
  const edges = (data.agents as { edges: { node: Record<string, unknown> }[] }).edges;
  return edges[0]?.node;
}

describe('an admin sets up an agent through GraphQL', () => {
  let dataSourceId: string;

  it('registers the agent and its data source, starts it, and sees it connected', async () => {
    const reg = await gql(
      hub2,
      `mutation { r: registerAgent(input: {name: "paris-1"}) {
        __typename ... on RegisterAgentPayload { userName password agent { id name } }
        ... on Error { code message } } }`,
    );
    expect(reg.r?.__typename).toBe('RegisterAgentPayload');
    const ds = await gql(
      hub2,
      `mutation { r: createDataSource(input: {name: "corp-ldap", kind: LDAP, agentEnabled: true, config: {baseDn: "${slapd.baseDn}"}}) {
        __typename ... on DataSource { id name } ... on Error { code message } } }`,
    );
    expect(ds.r?.__typename).toBe('DataSource');
    dataSourceId = ds.r?.id as string;
    const config = await writeAgentConfig(dir, {
      urls: [hub1.url],
      tenantId: tenant.tenantId,
      auth: { userName: reg.r?.userName as string, password: reg.r?.password as string },
      slapd,
    });
    agent = startAgentProcess(config);
    await agent.waitFor(/connected to the hub/);
    const status = await until(
      async () => {
        const s = await agentStatus(hub2);
        return s?.connected ? s : undefined;
      },
      'connected in GraphQL',
      20_000,
      100,
    );
    expect(status).toMatchObject({ name: 'paris-1', replica: 'hub-1', commandsInFlight: 0 });
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('tests the data source, lists its attributes and previews a search, from the other replica', async () => {
    const test = await gql(
      hub2,
      `mutation($d: ID!) { r: testConnection(dataSource: $d) {
        __typename ... on TestConnectionResult { latencyMs details } ... on Error { code message } } }`,
      { d: dataSourceId },
    );
    expect(test.r?.__typename).toBe('TestConnectionResult');
    const attrs = await gql(
      hub2,
      `mutation($d: ID!) { r: listAttributes(dataSource: $d) {
        __typename ... on DataSourceAttributes { attributes { name multiValued } } ... on Error { code message } } }`,
      { d: dataSourceId },
    );
    const names = ((attrs.r?.attributes ?? []) as { name: string }[]).map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(['uid', 'mail', 'memberOf']));
    const preview = await gql(
      hub2,
      `mutation($d: ID!) { r: previewSearch(dataSource: $d, filter: "(uid=jsmith)", attributes: ["cn", "mail"], limit: 5) {
        __typename ... on PreviewSearchResult { entries { id attributes { name values } } more }
        ... on Error { code message } } }`,
      { d: dataSourceId },
    );
    expect(preview.r?.__typename).toBe('PreviewSearchResult');
    const entries = preview.r?.entries as {
      id: string;
      attributes: { name: string; values: string[] }[];
    }[];
    expect(entries).toHaveLength(1);
    expect(entries[0]?.attributes).toEqual(
      expect.arrayContaining([
        { name: 'cn', values: ['Smith, John'] },
        { name: 'mail', values: ['jsmith@idhub.test'] },
      ]),
    );
  });

  it('revokes the agent on one replica and its stream on the other closes', async () => {
    const agents = await gql(hub2, `query { agents { edges { node { id } } } }`);
    const id = (agents.agents as { edges: { node: { id: string } }[] }).edges[0]?.node.id;
    const mark = agent?.output().length ?? 0;
    const revoked = await gql(
      hub2,
      `mutation($id: ID!) { r: revokeAgent(id: $id) { __typename ... on Agent { active } ... on Error { code message } } }`,
      { id },
    );
    expect(revoked.r).toMatchObject({ __typename: 'Agent', active: false });
    await agent?.waitFor(/revoked/, { from: mark });
    expect(hub1.output()).toMatch(/"reason":"revoked"/);
    await until(
      async () => (await agentStatus(hub2))?.connected === false,
      'disconnected in GraphQL',
      20_000,
      100,
    );
    const test = await gql(
      hub2,
      `mutation($d: ID!) { r: testConnection(dataSource: $d) { __typename ... on Error { code } } }`,
      { d: dataSourceId },
    );
    expect(test.r).toMatchObject({ __typename: 'DataSourceError', code: 'UNAVAILABLE' });
  });
});
