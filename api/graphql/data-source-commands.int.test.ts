/**
 * testConnection, listAttributes, listResourceTypes and previewSearch through the real agent
 * gateway: a scripted agent answers on its SSE stream for agent-enabled data sources, and a
 * private slapd serves a direct one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDataSource,
  registerTestAgent,
  sseEvents,
  type TestAgent,
} from '../../agent/gateway/test-helpers.ts';
import { resultPath, STREAM_PATH } from '../../agent/protocol.ts';
import { createHarness, type TestTenant } from '../../test/harness.ts';
import { startSlapd, type TestSlapd } from '../../test/slapd.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();
const gql = gqlClient(h);

const globalId = (id: string) => Buffer.from(`DataSource:${id}`).toString('base64');

const TEST = `mutation($id: ID!) { r: testConnection(dataSource: $id) { __typename
  ... on Error { code message } ... on DataSourceError { remoteCode }
  ... on TestConnectionResult { latencyMs details } } }`;
const ATTRS = `mutation($id: ID!) { r: listAttributes(dataSource: $id) { __typename
  ... on Error { code message } ... on DataSourceAttributes { attributes { name multiValued } } } }`;
const TYPES = `mutation($id: ID!) { r: listResourceTypes(dataSource: $id) { __typename
  ... on Error { code message } ... on DataSourceResourceTypes { resourceTypes { name endpoint } } } }`;
const PREVIEW = `mutation($id: ID!, $f: String, $a: [String!], $n: Int) {
  r: previewSearch(dataSource: $id, filter: $f, attributes: $a, limit: $n) { __typename
    ... on Error { code message } ... on DataSourceError { remoteCode }
    ... on PreviewSearchResult { more entries { id attributes { name values base64 } } } } }`;

const run = async (t: TestTenant, query: string, variables: Record<string, unknown>) =>
  dataOf(await gql(t.adminToken, query, variables)).r;

/** A scripted agent: answers the next command on its stream with `answer(command)`. */
async function scriptedAgent(agent: TestAgent) {
  const res = await h.app.request(`http://hub.test${STREAM_PATH}`, { headers: agent.headers });
  expect(res.status).toBe(200);
  const events = sseEvents(res);
  expect((await events.next())?.event).toBe('hello');
  return {
    async answer(reply: (command: { kind: string; payload: Record<string, unknown> }) => unknown) {
      const ev = await events.next();
      expect(ev?.event).toBe('command');
      const command = JSON.parse(ev?.data ?? '{}');
      const posted = await h.app.request(`http://hub.test${resultPath(command.id)}`, {
        method: 'POST',
        headers: { ...agent.headers, 'Content-Type': 'application/json' },
        body: JSON.stringify(reply(command)),
      });
      expect(posted.status).toBe(200);
      return command;
    },
    close: () => events.close(),
  };
}

describe('data source commands through an agent', () => {
  it('answers UNAVAILABLE while no agent of the group is connected', async () => {
    const t = await h.tenant();
    const ds = await createTestDataSource(h, t.tenantId, { group: 'nobody-home' });
    const r = await run(t, TEST, { id: globalId(ds.id) });
    expect(r).toMatchObject({
      __typename: 'DataSourceError',
      code: 'UNAVAILABLE',
      remoteCode: null,
    });
    expect(r.message).toContain('"nobody-home"');
    const [audit] = await h.db.sql`select action, summary from audit_log
      where tenant_id = ${t.tenantId} and target_id = ${ds.id}`;
    expect(audit).toMatchObject({
      action: 'dataSource.testConnection',
      summary: { ok: false, code: 'unavailable' },
    });
  });

  it('runs each command on the agent and maps results and typed failures', async () => {
    const t = await h.tenant();
    const agent = await scriptedAgent(await registerTestAgent(h, t.tenantId));
    const ds = await createTestDataSource(h, t.tenantId, { kind: 'scim' });
    const id = globalId(ds.id);

    const ok = run(t, TEST, { id });
    await agent.answer(() => ({ ok: true, data: { latencyMs: 3.5, details: 'v1' } }));
    expect(await ok).toEqual({ __typename: 'TestConnectionResult', latencyMs: 3.5, details: 'v1' });

    const failed = run(t, TEST, { id });
    await agent.answer(() => ({
      ok: false,
      error: { code: 'auth_failure', message: 'invalid credentials', remoteCode: 401 },
    }));
    expect(await failed).toEqual({
      __typename: 'DataSourceError',
      code: 'AUTH_FAILURE',
      message: 'invalid credentials',
      remoteCode: '401',
    });

    const attrs = run(t, ATTRS, { id });
    await agent.answer(() => ({
      ok: true,
      data: { attributes: [{ name: 'userName', multiValued: false, required: true }] },
    }));
    expect((await attrs).attributes).toEqual([{ name: 'userName', multiValued: false }]);

    const types = run(t, TYPES, { id });
    await agent.answer(() => ({
      ok: true,
      data: { resourceTypes: [{ name: 'User', endpoint: '/Users' }] },
    }));
    expect((await types).resourceTypes).toEqual([{ name: 'User', endpoint: '/Users' }]);
    await agent.close();

    const actions = await h.db.sql`select action, summary->>'ok' as ok from audit_log
      where tenant_id = ${t.tenantId} order by id`;
    expect(actions.map((a) => `${a.action}:${a.ok}`)).toEqual([
      'dataSource.testConnection:true',
      'dataSource.testConnection:false',
      'dataSource.listAttributes:true',
      'dataSource.listResourceTypes:true',
    ]);
  });

  it('previews a search: the limit bounds the page, binary values come as base64', async () => {
    const t = await h.tenant();
    const agent = await scriptedAgent(await registerTestAgent(h, t.tenantId));
    const ds = await createTestDataSource(h, t.tenantId);
    const preview = run(t, PREVIEW, {
      id: globalId(ds.id),
      f: '(uid=a*)',
      a: ['uid', 'objectGUID'],
      n: 2,
    });
    const command = await agent.answer(() => ({
      ok: true,
      data: {
        cookie: 'next-page',
        entries: [
          {
            id: 'uid=alice,ou=people,dc=ex',
            attributes: { uid: ['alice'], objectGUID: [{ base64: 'AAEC' }, 'é'] },
          },
        ],
      },
    }));
    expect(command).toMatchObject({
      kind: 'search',
      payload: { filter: '(uid=a*)', attributes: ['uid', 'objectGUID'], pageSize: 2 },
    });
    expect(await preview).toEqual({
      __typename: 'PreviewSearchResult',
      more: true,
      entries: [
        {
          id: 'uid=alice,ou=people,dc=ex',
          attributes: [
            { name: 'uid', values: ['alice'], base64: false },
            { name: 'objectGUID', values: ['AAEC', 'w6k='], base64: true },
          ],
        },
      ],
    });
    await agent.close();
    // Refused before anything is sent.
    for (const n of [0, 101]) {
      const r = await run(t, PREVIEW, { id: globalId(ds.id), n });
      expect(r).toMatchObject({ __typename: 'InvalidInputError', message: 'limit must be 1–100' });
    }
    const [c] = await h.db.sql`select count(*)::int as n from agent_commands
      where tenant_id = ${t.tenantId}`;
    expect(c?.n).toBe(1);
  });
});

describe('data source commands on a direct LDAP data source (real slapd)', () => {
  let slapd: TestSlapd;
  beforeAll(async () => {
    slapd = await startSlapd();
  });
  afterAll(async () => {
    await slapd?.stop();
  });

  const direct = async (t: TestTenant, password: string) => {
    const r = await run(
      t,
      `mutation($input: CreateDataSourceInput!) { r: createDataSource(input: $input) {
        __typename ... on DataSource { id } ... on Error { message } } }`,
      {
        input: {
          name: 'slapd',
          kind: 'LDAP',
          agentEnabled: false,
          config: { url: slapd.url, bindDn: slapd.bindDn, password, baseDn: slapd.baseDn },
        },
      },
    );
    expect(r.__typename, r.message).toBe('DataSource');
    return r.id as string;
  };

  it('tests the connection, lists attributes and previews entries', async () => {
    const t = await h.tenant();
    const id = await direct(t, slapd.password);
    expect((await run(t, TEST, { id })).__typename).toBe('TestConnectionResult');
    const attrs = await run(t, ATTRS, { id });
    expect(attrs.attributes.map((a: { name: string }) => a.name)).toContain('uid');
    const preview = await run(t, PREVIEW, { id, f: '(uid=alice)', a: ['uid', 'mail'], n: 5 });
    expect(preview).toMatchObject({ __typename: 'PreviewSearchResult', more: false });
    expect(preview.entries).toEqual([
      {
        id: `uid=alice,ou=people,${slapd.baseDn}`,
        attributes: expect.arrayContaining([
          { name: 'uid', values: ['alice'], base64: false },
          { name: 'mail', values: ['alice@idhub.test'], base64: false },
        ]),
      },
    ]);
    const page = await run(t, PREVIEW, { id, f: '(objectClass=inetOrgPerson)', n: 1 });
    expect(page).toMatchObject({ more: true, entries: [expect.anything()] });
  });

  it('reports a wrong bind password as AUTH_FAILURE with the LDAP result code', async () => {
    const t = await h.tenant();
    const id = await direct(t, 'wrong-password');
    const r = await run(t, TEST, { id });
    expect(r).toMatchObject({
      __typename: 'DataSourceError',
      code: 'AUTH_FAILURE',
      remoteCode: '49',
    });
    expect(r.message).not.toContain('wrong-password');
  });
});
