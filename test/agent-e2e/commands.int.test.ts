/**
 * A real agent process connected to a real hub process (`idhub serve`), running commands of
 * every kind against slapd and PostgreSQL. The commands are issued by this test's in-process
 * hub — a second replica on the same PostgreSQL and Redis — so every call also crosses
 * replicas: stored here, delivered by the hub process, answered there, resolved here.
 */
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDataSource, registerTestAgent } from '../../agent/gateway/test-helpers.ts';
import { GatewayError } from '../../agent/gateway/types.ts';
import { loadConfig } from '../../api/config.ts';
import { createHarness, type TestTenant } from '../harness.ts';
import {
  type HubProcess,
  startAgentProcess,
  startHubProcess,
  type TestProcess,
} from '../processes.ts';
import { startSlapd, type TestSlapd } from '../slapd.ts';
import { createEmployeesTable, HEARTBEAT_MS, hubEnv, tempDir, writeAgentConfig } from './setup.ts';

const h = createHarness({ agents: { ...loadConfig({}).agents, heartbeatMs: HEARTBEAT_MS } });
const gw = h.services.gateway;
let dir: string;
let slapd: TestSlapd;
let hub: HubProcess;
let agent: TestProcess;
let tenant: TestTenant;
let ldapId: string;
let sqlId: string;
let unknownId: string;
let table: string;

beforeAll(async () => {
  dir = await tempDir('idhub-agent-e2e-');
  [slapd, hub, table] = await Promise.all([
    startSlapd(),
    startHubProcess(hubEnv(dir)),
    createEmployeesTable(h),
  ]);
  tenant = await h.tenant();
  const reg = await registerTestAgent(h, tenant.tenantId, { name: 'paris-1' });
  ldapId = (await createTestDataSource(h, tenant.tenantId, { name: 'corp-ldap' })).id;
  sqlId = (await createTestDataSource(h, tenant.tenantId, { name: 'hr', kind: 'sql' })).id;
  unknownId = (await createTestDataSource(h, tenant.tenantId, { name: 'not-on-agent' })).id;
  const config = await writeAgentConfig(dir, {
    urls: [hub.url],
    tenantId: tenant.tenantId,
    auth: { userName: reg.userName, password: reg.password },
    slapd,
    sql: { table },
  });
  agent = startAgentProcess(config);
  await agent.waitFor(/connected to the hub/);
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await hub?.stop();
  await slapd?.stop();
  if (table) await h.db.sql.unsafe(`drop table if exists ${table}`);
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<GatewayError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GatewayError);
  return e as GatewayError;
}

const texts = (values: unknown[] | undefined) => (values ?? []).map(String);

describe('an agent process behind a hub process', () => {
  it('answers ping and testConnection, and never sees the data source secrets from the hub', async () => {
    const ping = await gw.call(tenant.tenantId, ldapId, 'ping', {});
    expect(ping.protocolVersion).toBe(1);
    expect(ping.agentVersion).toMatch(/^\d+\.\d+\.\d+/);
    const test = await gw.call(tenant.tenantId, ldapId, 'testConnection', {});
    expect(test.latencyMs).toBeGreaterThanOrEqual(0);
    const sql = await gw.call(tenant.tenantId, sqlId, 'testConnection', {});
    expect(sql.details ?? '').toMatch(/PostgreSQL/);
    const [row] = await h.db.sql`select config from data_sources where id = ${ldapId}`;
    expect(row?.config).toEqual({});
  });

  it('pages through LDAP with the caller driving the cookie', async () => {
    const seen: string[] = [];
    for await (const page of gw.search(tenant.tenantId, ldapId, {
      filter: '(objectClass=inetOrgPerson)',
      attributes: ['uid', 'cn'],
      pageSize: 2,
    })) {
      expect(page.length).toBeLessThanOrEqual(2);
      for (const e of page) seen.push(...texts(e.attributes.uid));
    }
    expect(seen.sort()).toEqual(['alice', 'bob', 'jsmith', 'obrien', 'zoe']);
  });

  it('keeps injected filter values inert', async () => {
    const page = await gw.call(tenant.tenantId, ldapId, 'search', {
      filter: '(uid=\\2a\\29\\28uid=\\2a)',
      attributes: ['uid'],
    });
    expect(page.entries).toEqual([]);
  });

  it('writes to LDAP: add, modify, rename and delete', async () => {
    const dn = `uid=carol,ou=people,${slapd.baseDn}`;
    const ldap = (payload: Record<string, unknown>) =>
      gw.call(tenant.tenantId, ldapId, 'export', { connector: 'ldap', ...payload } as never);
    await ldap({
      op: 'add',
      dn,
      attributes: { objectClass: ['inetOrgPerson'], uid: ['carol'], cn: ['Carol'], sn: ['C'] },
    });
    await ldap({
      op: 'modify',
      dn,
      changes: [{ operation: 'replace', attribute: 'mail', values: ['carol@x.example'] }],
    });
    await ldap({ op: 'modrdn', dn, newRdn: 'uid=carol2' });
    const moved = await gw.call(tenant.tenantId, ldapId, 'search', {
      filter: '(uid=carol2)',
      attributes: ['mail'],
    });
    expect(moved.entries).toHaveLength(1);
    expect(texts(moved.entries[0]?.attributes.mail)).toEqual(['carol@x.example']);
    await ldap({ op: 'delete', dn: `uid=carol2,ou=people,${slapd.baseDn}` });
    const gone = await gw.call(tenant.tenantId, ldapId, 'search', { filter: '(uid=carol2)' });
    expect(gone.entries).toEqual([]);
    const e = await failure(ldap({ op: 'delete', dn: `uid=nobody,ou=people,${slapd.baseDn}` }));
    expect(e.code).toBe('not_found');
  });

  it('reads and writes SQL rows by key', async () => {
    await gw.call(tenant.tenantId, sqlId, 'export', {
      connector: 'sql',
      op: 'upsert',
      key: { employee_id: '1004' },
      values: { givenName: 'Katherine', familyName: 'Johnson', mail: 'kj@corp.example' },
    });
    const one = await gw.call(tenant.tenantId, sqlId, 'search', {
      filter: JSON.stringify({ employeeNumber: '1004' }),
    });
    expect(texts(one.entries[0]?.attributes.givenName)).toEqual(['Katherine']);
    await gw.call(tenant.tenantId, sqlId, 'export', {
      connector: 'sql',
      op: 'delete',
      key: { employee_id: '1004' },
    });
    let n = 0;
    for await (const page of gw.search(tenant.tenantId, sqlId, { pageSize: 2 })) n += page.length;
    expect(n).toBe(3);
  });

  it('lists attributes and resource types of both systems', async () => {
    const ldapAttrs = await gw.call(tenant.tenantId, ldapId, 'listAttributes', {});
    expect(ldapAttrs.attributes.map((a) => a.name)).toEqual(
      expect.arrayContaining(['uid', 'mail', 'cn']),
    );
    const classes = await gw.call(tenant.tenantId, ldapId, 'listResourceTypes', {});
    expect(classes.resourceTypes.map((r) => r.name)).toContain('inetOrgPerson');
    const sqlAttrs = await gw.call(tenant.tenantId, sqlId, 'listAttributes', {});
    expect(sqlAttrs.attributes.map((a) => a.name).sort()).toEqual([
      'employeeNumber',
      'familyName',
      'givenName',
      'mail',
    ]);
    const types = await gw.call(tenant.tenantId, sqlId, 'listResourceTypes', {});
    expect(types.resourceTypes).toHaveLength(1);
  });

  it('refuses a data source the agent does not have, and an export of the wrong kind', async () => {
    expect((await failure(gw.call(tenant.tenantId, unknownId, 'testConnection', {}))).code).toBe(
      'refused',
    );
    const e = await failure(
      gw.call(tenant.tenantId, sqlId, 'export', {
        connector: 'ldap',
        op: 'delete',
        dn: `uid=alice,ou=people,${slapd.baseDn}`,
      }),
    );
    expect(e.code).toBe('refused');
    const alice = await gw.call(tenant.tenantId, ldapId, 'search', { filter: '(uid=alice)' });
    expect(alice.entries).toHaveLength(1);
  });

  it('shows the agent connected to the hub process, with its version', async () => {
    const [row] = await h.db.sql<
      { id: string }[]
    >`select id from agents where tenant_id = ${tenant.tenantId}`;
    const status = (await gw.status(tenant.tenantId, [row?.id ?? ''])).get(row?.id ?? '');
    expect(status).toMatchObject({ connected: true, commandsInFlight: 0 });
    expect(status?.replica).toBeTruthy();
    expect(status?.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
