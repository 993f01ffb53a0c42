import { describe, expect, it } from 'vitest';
import { fingerprintOfPem } from '../../agent/gateway/credentials.ts';
import { selfSignedPem } from '../../agent/gateway/test-certificate.ts';
import { sseEvents } from '../../agent/gateway/test-helpers.ts';
import { STREAM_PATH } from '../../agent/protocol.ts';
import { createHarness, OPERATOR_TOKEN } from '../../test/harness.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();
const gql = gqlClient(h);

const REGISTER = `mutation($input: RegisterAgentInput!) { r: registerAgent(input: $input) {
  __typename ... on Error { message }
  ... on RegisterAgentPayload { userName password agent { id name group authentication
    userName certificateFingerprint active connected commandsInFlight } } } }`;
const AGENT = `query($id: ID!) { agent(id: $id) { id name active revokedAt connected replica
  version lastSeenAt commandsInFlight } }`;
const REVOKE = `mutation($id: ID!) { r: revokeAgent(id: $id) {
  __typename ... on Agent { active revokedAt connected } } }`;

const register = async (token: string, input: Record<string, unknown>) =>
  dataOf(await gql(token, REGISTER, { input })).r;

/** Opens the agent stream with basic credentials, as the agent would. */
async function stream(tenantId: string, userName: string, password: string) {
  const basic = Buffer.from(`${userName}:${password}`).toString('base64');
  return h.app.request(`http://hub.test${STREAM_PATH}`, {
    headers: {
      Authorization: `Basic ${basic}`,
      'idhub-tenant': tenantId,
      'idhub-agent-version': '9.9.9',
    },
  });
}

describe('GraphQL agents', () => {
  it('registers an agent, shows the password once, lists it and its credentials work', async () => {
    const t = await h.tenant();
    const r = await register(t.adminToken, { name: 'dc1', group: 'site-a' });
    expect(r.__typename).toBe('RegisterAgentPayload');
    expect(r.agent).toMatchObject({
      name: 'dc1',
      group: 'site-a',
      authentication: 'BASIC',
      userName: r.userName,
      certificateFingerprint: null,
      active: true,
      connected: false,
      commandsInFlight: 0,
    });
    const listed = dataOf(
      await gql(
        t.adminToken,
        `{ all: agents { totalCount edges { node { id userName } } }
           a: agents(group: "site-a") { totalCount } b: agents(group: "site-b") { totalCount } }`,
      ),
    );
    expect(listed.all.edges).toEqual([{ node: { id: r.agent.id, userName: r.userName } }]);
    expect([listed.a.totalCount, listed.b.totalCount]).toEqual([1, 0]);
    expect(JSON.stringify(listed)).not.toContain(r.password);

    const res = await stream(t.tenantId, r.userName, r.password);
    expect(res.status).toBe(200);
    await sseEvents(res).close();
    const wrong = await stream(t.tenantId, r.userName, `${r.password}x`);
    expect(wrong.status).toBe(401);

    const [audit] = await h.db.sql`select action, actor_type, summary::text as s from audit_log
      where tenant_id = ${t.tenantId} and target_type = 'Agent'`;
    expect(audit).toMatchObject({ action: 'agent.register', actor_type: 'token' });
    expect(audit?.s).not.toContain(r.password);
  });

  it('registers certificates by PEM or fingerprint, and refuses bad or taken ones', async () => {
    const [a, b] = [await h.tenant(), await h.tenant()];
    const pem = await selfSignedPem();
    const both = await register(a.adminToken, { name: 'both', certificatePem: pem });
    expect(both.agent).toMatchObject({
      authentication: 'BOTH',
      certificateFingerprint: fingerprintOfPem(pem),
    });
    const other = fingerprintOfPem(await selfSignedPem('other'));
    const certOnly = await register(a.adminToken, {
      name: 'cert-only',
      basic: false,
      certificateFingerprint: other.replaceAll(':', ' ').toLowerCase(),
    });
    expect(certOnly).toMatchObject({
      userName: null,
      password: null,
      agent: { authentication: 'CERTIFICATE', userName: null, certificateFingerprint: other },
    });

    for (const input of [
      { name: 'x', certificatePem: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----' },
      { name: 'x', certificateFingerprint: 'zz' },
      { name: 'x', basic: false },
      { name: 'bad name' },
    ]) {
      expect((await register(a.adminToken, input)).__typename).toBe('InvalidInputError');
    }
    const dup = await register(a.adminToken, { name: 'BOTH' });
    expect(dup.__typename).toBe('ConflictError');
    // Tenant B learns that the certificate is taken, not by whom.
    const taken = await register(b.adminToken, { name: 'mine', certificatePem: pem });
    expect(taken.__typename).toBe('ConflictError');
    expect(taken.message).not.toMatch(/both|cert-only|tenant/i);
    expect(dataOf(await gql(b.adminToken, '{ agents { totalCount } }')).agents.totalCount).toBe(0);
    const [n] = await h.db
      .sql`select count(*)::int as n from agents where tenant_id = ${a.tenantId}`;
    expect(n?.n).toBe(2);
  });

  it('shows live status from the gateway, and revoking drops the stream at once', async () => {
    const t = await h.tenant();
    const r = await register(t.adminToken, { name: 'live' });
    const res = await stream(t.tenantId, r.userName, r.password);
    const events = sseEvents(res);
    expect((await events.next())?.event).toBe('hello');

    const live = dataOf(await gql(t.adminToken, AGENT, { id: r.agent.id })).agent;
    expect(live).toMatchObject({
      connected: true,
      replica: h.config.replicaName,
      version: '9.9.9',
      commandsInFlight: 0,
      active: true,
    });
    expect(Date.parse(live.lastSeenAt)).toBeGreaterThan(Date.now() - 60_000);

    const revoked = dataOf(await gql(t.adminToken, REVOKE, { id: r.agent.id })).r;
    expect(revoked).toMatchObject({ __typename: 'Agent', active: false });
    // Closed by the mutation itself, not by the next liveness sweep (up to a second later).
    expect(await events.next(300)).toBeUndefined();
    expect(events.ended).toBe(true);
    const after = dataOf(await gql(t.adminToken, AGENT, { id: r.agent.id })).agent;
    expect(after).toMatchObject({ connected: false, replica: null, active: false });
    expect(after.revokedAt).toBe(revoked.revokedAt);

    // Twice is harmless: same revokedAt, one audit row.
    const again = dataOf(await gql(t.adminToken, REVOKE, { id: r.agent.id })).r;
    expect(again.revokedAt).toBe(revoked.revokedAt);
    expect((await stream(t.tenantId, r.userName, r.password)).status).toBe(403);
    const actions = await h.db.sql`select action from audit_log
      where tenant_id = ${t.tenantId} and target_type = 'Agent' order by id`;
    expect(actions.map((x) => x.action)).toEqual(['agent.register', 'agent.revoke']);
  });
});

describe('GraphQL agents: auth and tenant isolation', () => {
  it('refuses no token (401) and a SCIM-only token (403), writing nothing', async () => {
    const t = await h.tenant();
    expect((await gql(undefined, '{ agents { totalCount } }')).status).toBe(401);
    const scim = await gql(t.scimToken, REGISTER, { input: { name: 'x' } });
    expect(scim.status).toBe(403);
    expect((await gql(t.scimToken, '{ agents { totalCount } }')).status).toBe(403);
    const op = await gql(OPERATOR_TOKEN, REGISTER, { input: { name: 'x' } });
    expect(op.body.errors[0].message).toMatch(/not authorized/i);
    const [n] = await h.db
      .sql`select count(*)::int as n from agents where tenant_id = ${t.tenantId}`;
    expect(n?.n).toBe(0);
  });

  it("another tenant's agent is null in queries and NotFound in mutations", async () => {
    const [a, b] = [await h.tenant(), await h.tenant()];
    const theirs = await register(b.adminToken, { name: 'theirs' });
    const id = theirs.agent.id;
    const seen = dataOf(
      await gql(
        a.adminToken,
        `query($id: ID!) { agent(id: $id) { id } node(id: $id) { id } nodes(ids: [$id]) { id }
           agents(first: 100) { totalCount edges { node { id } } } }`,
        { id },
      ),
    );
    expect(seen).toEqual({
      agent: null,
      node: null,
      nodes: [null],
      agents: { totalCount: 0, edges: [] },
    });
    const revoke = dataOf(await gql(a.adminToken, REVOKE, { id })).r;
    expect(revoke.__typename).toBe('NotFoundError');
    const still = dataOf(await gql(b.adminToken, AGENT, { id })).agent;
    expect(still).toMatchObject({ active: true, revokedAt: null });
  });
});
