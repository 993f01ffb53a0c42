/**
 * Directory sync through a real agent process and directly, against slapd and a Samba AD DC:
 * the same jobs in two tenants — one whose data source is agent-enabled (commands cross from
 * this test's hub replica to `idhub serve` and the agent), one where the hub connects itself —
 * must end with the same users, account links and organisations. Active Directory specifics:
 * disabled accounts through userAccountControl, objectGUID anchors, uSNChanged deltas, and a
 * changed DC invocation forcing a full run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDataSource, registerTestAgent } from '../../agent/gateway/test-helpers.ts';
import { loadConfig } from '../../api/config.ts';
import { engineFixture, ldapSourceConfig } from '../../sync/engine/test-helpers.ts';
import type { SyncJobInput } from '../../sync/jobs/jobs.ts';
import { createHarness, type TestTenant } from '../harness.ts';
import {
  type HubProcess,
  startAgentProcess,
  startHubProcess,
  type TestProcess,
} from '../processes.ts';
import { seededUser, startSambaDc, type TestSambaDc } from '../samba.ts';
import { startSlapd, type TestSlapd } from '../slapd.ts';
import { HEARTBEAT_MS, hubEnv, tempDir, writeAgentConfig } from './setup.ts';

const h = createHarness({ agents: { ...loadConfig({}).agents, heartbeatMs: HEARTBEAT_MS } });
const f = engineFixture(h);
const USERS = 2000;
let slapd: TestSlapd;
let dc: TestSambaDc;
let hub: HubProcess;
let agent: TestProcess;
let viaAgent: TestTenant;
let direct: TestTenant;
const sources: Record<string, { agent: string; direct: string }> = {};

beforeAll(async () => {
  const dir = await tempDir('idhub-sync-e2e-');
  [slapd, dc, hub] = await Promise.all([
    startSlapd({ generatedUsers: 300 }),
    startSambaDc({ users: USERS }),
    startHubProcess(hubEnv(dir, { IDHUB_SYNC_WORKERS: '0' })),
  ]);
  [viaAgent, direct] = await Promise.all([h.tenant(), h.tenant()]);
  const reg = await registerTestAgent(h, viaAgent.tenantId, { name: 'site-1' });
  for (const [name, d] of [
    ['corp-ldap', slapd],
    ['corp-ad', dc],
  ] as const) {
    sources[name] = {
      agent: (await createTestDataSource(h, viaAgent.tenantId, { name })).id,
      direct: (
        await createTestDataSource(h, direct.tenantId, {
          name,
          agentEnabled: false,
          config: ldapSourceConfig(d),
        })
      ).id,
    };
  }
  const config = await writeAgentConfig(dir, {
    urls: [hub.url],
    tenantId: viaAgent.tenantId,
    auth: { userName: reg.userName, password: reg.password },
    extra: {
      dataSources: { 'corp-ldap': ldapSourceConfig(slapd), 'corp-ad': ldapSourceConfig(dc) },
    },
  });
  agent = startAgentProcess(config);
  await agent.waitFor(/connected to the hub/);
}, 180_000);

afterAll(async () => {
  await agent?.stop();
  await hub?.stop();
  await Promise.all([slapd?.stop(), dc?.stop()]);
});

/** What a tenant holds, without ids: users, their links and organisations. */
async function snapshot(tenantId: string) {
  const users = await h.db.sql`
    select u.user_name, u.active, u.doc - 'id' as doc, o.name as organization,
      a.external_key, a.dn, a.state, a.state_hash
    from users u join accounts a on a.user_id = u.id
    left join organizations o on o.id = u.organization_id
    where u.tenant_id = ${tenantId} order by u.user_name`;
  return users.map((u) => ({ ...u }));
}

/** The same job in both tenants; `run` runs both at once. */
async function bothWays(source: string, input: Omit<SyncJobInput, 'dataSourceId' | 'name'>) {
  const ids = sources[source] as { agent: string; direct: string };
  const a = await f.job(viaAgent.tenantId, { ...input, dataSourceId: ids.agent });
  const d = await f.job(direct.tenantId, { ...input, dataSourceId: ids.direct });
  return {
    run: async () => {
      const [ra, rd] = await Promise.all([
        f.runNow(viaAgent.tenantId, a.id),
        f.runNow(direct.tenantId, d.id),
      ]);
      return { agent: ra, direct: rd };
    },
  };
}

const counters = (r: {
  status: string;
  mode: string | null;
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  deactivated: number;
  failed: number;
}) => ({
  status: r.status,
  mode: r.mode,
  read: r.read,
  created: r.created,
  updated: r.updated,
  unchanged: r.unchanged,
  deactivated: r.deactivated,
  failed: r.failed,
});

describe('directory sync through the agent and directly', () => {
  it('OpenLDAP: the same users, links and organisations either way', async () => {
    const jobs = await bothWays('corp-ldap', {
      kind: 'import_active',
      baseDn: slapd.baseDn,
      options: { pageSize: 100 },
      mapping: {
        rules: [
          { target: 'userName', source: 'uid' },
          { target: 'displayName', source: 'cn' },
          { target: 'name.familyName', source: 'sn' },
          { target: 'emails[type eq "work"].value', source: 'mail' },
          {
            target: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber',
            source: 'employeeNumber',
          },
          {
            target: 'urn:idhub:params:scim:schemas:extension:idhub:2.0:User:organization',
            source: 'entryDN',
            transform: 'dnToOrganization',
          },
        ],
      },
    });
    const first = await jobs.run();
    expect(counters(first.agent)).toEqual({
      status: 'succeeded',
      mode: 'full',
      read: 305,
      created: 305,
      updated: 0,
      unchanged: 0,
      deactivated: 0,
      failed: 0,
    });
    expect(counters(first.direct)).toEqual(counters(first.agent));
    expect(await snapshot(viaAgent.tenantId)).toEqual(await snapshot(direct.tenantId));
  });

  it('Active Directory: active and disabled accounts, objectGUID anchors, uSNChanged deltas', async () => {
    // The whole domain, so the OU (Staff) becomes the organisation; the seeded users only.
    const seeded = '(objectCategory=person)(objectClass=user)(sAMAccountName=user*)';
    const isDisabled = '(userAccountControl:1.2.840.113556.1.4.803:=2)';
    const options = { directory: 'activeDirectory', pageSize: 500 };
    const active = await bothWays('corp-ad', {
      kind: 'import_active',
      baseDn: dc.baseDn,
      filter: `(&${seeded}(!${isDisabled}))`,
      options,
    });
    const inactive = await bothWays('corp-ad', {
      kind: 'import_inactive',
      baseDn: dc.baseDn,
      filter: `(&${seeded}${isDisabled})`,
      options,
    });
    const disabled = USERS / 10;
    const a1 = await active.run();
    expect(counters(a1.agent)).toMatchObject({
      status: 'succeeded',
      mode: 'full',
      created: USERS - disabled,
      failed: 0,
    });
    const i1 = await inactive.run();
    expect(counters(i1.agent)).toMatchObject({ status: 'succeeded', created: disabled, failed: 0 });
    expect(counters(i1.direct)).toEqual(counters(i1.agent));
    const snap = await snapshot(viaAgent.tenantId);
    expect(snap).toEqual(await snapshot(direct.tenantId));
    const ad = snap.filter((u) => /^user\d+$/.test(String(u.user_name)));
    expect(ad).toHaveLength(USERS);
    expect(ad.filter((u) => !u.active).map((u) => u.user_name)).toEqual(
      Array.from({ length: disabled }, (_, i) => seededUser((i + 1) * 10).sAMAccountName),
    );
    const u1 = ad.find((u) => u.user_name === seededUser(1).sAMAccountName);
    // objectGUID anchors the link and is the externalId; the OU is the organisation.
    expect(u1?.external_key).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(u1?.doc.externalId).toBe(u1?.external_key);
    expect(u1?.organization).toBe('Staff');
    expect(u1?.doc.displayName).toBe(seededUser(1).displayName);

    // Delta: one change since the watermark (highestCommittedUSN read before the scan).
    await dc.modify(
      `dn: ${seededUser(7).dn}\nchangetype: modify\nreplace: title\ntitle: Night Shift\n`,
    );
    const a2 = await active.run();
    expect(counters(a2.agent)).toMatchObject({
      status: 'succeeded',
      mode: 'delta',
      updated: 1,
      created: 0,
      failed: 0,
    });
    expect(a2.agent.read).toBeLessThan(10);
    expect(counters(a2.direct)).toEqual(counters(a2.agent));
    const [u7] = await h.db.sql`select doc from users where tenant_id = ${viaAgent.tenantId}
      and user_name = ${seededUser(7).sAMAccountName}`;
    expect(u7?.doc.title).toBe('Night Shift');

    // An account disabled in AD: the inactive job's delta deactivates the user (cascade).
    await dc.modify(
      `dn: ${seededUser(3).dn}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n`,
    );
    const i2 = await inactive.run();
    expect(counters(i2.agent)).toMatchObject({
      status: 'succeeded',
      mode: 'delta',
      updated: 1,
      deactivated: 1,
      created: 0,
    });
    expect(counters(i2.direct)).toEqual(counters(i2.agent));
    const [u3] = await h.db.sql`select active from users where tenant_id = ${viaAgent.tenantId}
      and user_name = ${seededUser(3).sAMAccountName}`;
    expect(u3?.active).toBe(false);

    // Another DC, or this one restored (a new invocationId): the watermark is not trusted.
    await h.db
      .sql`update sync_runs set watermark = jsonb_set(watermark, '{invocationId}', '"restored"')
      where id = ${a2.agent.id}`;
    const a3 = await active.run();
    expect(a3.agent).toMatchObject({
      status: 'succeeded',
      mode: 'full',
      read: USERS - disabled - 1,
      updated: 0,
    });
    expect(a3.direct).toMatchObject({ status: 'succeeded', mode: 'delta' });
  });
});
