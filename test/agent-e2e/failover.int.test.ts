/**
 * Failures with real processes: an agent killed mid-command, an agent paused (half-open
 * stream), a hub restarted while a write is in flight, a registration revoked.
 */
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDataSource,
  registerTestAgent,
  type TestAgent,
} from '../../agent/gateway/test-helpers.ts';
import { loadConfig } from '../../api/config.ts';
import { createHarness, type TestTenant } from '../harness.ts';
import {
  freePort,
  type HubProcess,
  startAgentProcess,
  startHubProcess,
  type TestProcess,
} from '../processes.ts';
import { startSlapd, type TestSlapd } from '../slapd.ts';
import { until } from '../until.ts';
import { HEARTBEAT_MS, hubEnv, tempDir, writeAgentConfig } from './setup.ts';

const h = createHarness({ agents: { ...loadConfig({}).agents, heartbeatMs: HEARTBEAT_MS } });
const gw = h.services.gateway;
let dir: string;
let slapd: TestSlapd;
let hub: HubProcess;
const started: TestProcess[] = [];

beforeAll(async () => {
  dir = await tempDir('idhub-agent-failover-');
  const port = await freePort();
  [slapd, hub] = await Promise.all([
    startSlapd(),
    startHubProcess(hubEnv(dir, { PORT: String(port) })),
  ]);
}, 120_000);

afterAll(async () => {
  for (const p of started) await p.stop();
  await hub?.stop();
  await slapd?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function agentFor(t: TestTenant, reg: TestAgent, urls = [hub.url]): Promise<TestProcess> {
  const config = await writeAgentConfig(dir, {
    urls,
    tenantId: t.tenantId,
    auth: { userName: reg.userName, password: reg.password },
    slapd,
  });
  const p = startAgentProcess(config);
  started.push(p);
  return p;
}

async function setup(agents: number) {
  const t = await h.tenant();
  const regs = [];
  for (let i = 0; i < agents; i++)
    regs.push(await registerTestAgent(h, t.tenantId, { name: `agent-${i}` }));
  const ds = await createTestDataSource(h, t.tenantId, { name: 'corp-ldap' });
  return { t, regs, ds };
}

const statusOf = async (tenantId: string, agentId: string) =>
  (await gw.status(tenantId, [agentId])).get(agentId);

const leasedTo = (commandAgent: string) =>
  h.db.sql<
    { id: string }[]
  >`select id from agent_commands where agent_id = ${commandAgent} and state = 'leased'`;

describe('agent failures', () => {
  it('retries a command on a second agent when the first is killed mid-command', async () => {
    const { t, regs, ds } = await setup(2);
    const [ra, rb] = regs as [TestAgent, TestAgent];
    const a = await agentFor(t, ra);
    await a.waitFor(/connected to the hub/);
    a.signal('SIGSTOP'); // it receives the command but cannot run it
    const call = gw.call(t.tenantId, ds.id, 'testConnection', {});
    const leased = await until(
      async () => (await leasedTo(ra.id))[0],
      'the lease to A',
      20_000,
      100,
    );
    const b = await agentFor(t, rb);
    await b.waitFor(/connected to the hub/);
    a.signal('SIGKILL');
    const result = await call;
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const [row] = await h.db
      .sql`select state, attempts, agent_id from agent_commands where id = ${leased?.id ?? ''}`;
    expect(row).toMatchObject({ state: 'succeeded', attempts: 2, agent_id: rb.id });
    await b.stop();
  });

  it('detects a paused agent by its missing heartbeats, and takes it back when it resumes', async () => {
    const { t, regs } = await setup(1);
    const reg = regs[0] as TestAgent;
    const a = await agentFor(t, reg);
    await a.waitFor(/connected to the hub/);
    await until(
      async () => (await statusOf(t.tenantId, reg.id))?.connected,
      'connected',
      20_000,
      100,
    );
    const mark = a.output().length;
    a.signal('SIGSTOP');
    await until(
      async () => (await statusOf(t.tenantId, reg.id))?.connected === false,
      'the stream dropped',
      15_000,
      100,
    );
    expect(hub.output()).toMatch(/no heartbeat/);
    a.signal('SIGCONT');
    await a.waitFor(/connected to the hub/, { from: mark });
    await until(
      async () => (await statusOf(t.tenantId, reg.id))?.connected,
      'connected again',
      20_000,
      100,
    );
    await a.stop();
  });

  it('replays an unanswered write after a hub restart and applies it once', async () => {
    const { t, regs, ds } = await setup(1);
    const reg = regs[0] as TestAgent;
    const a = await agentFor(t, reg);
    await a.waitFor(/connected to the hub/);
    const dn = `uid=restart,ou=people,${slapd.baseDn}`;
    a.signal('SIGSTOP');
    const call = gw.call(t.tenantId, ds.id, 'export', {
      connector: 'ldap',
      op: 'add',
      dn,
      attributes: { objectClass: ['inetOrgPerson'], uid: ['restart'], cn: ['Restart'], sn: ['R'] },
    });
    await until(async () => (await leasedTo(reg.id))[0], 'the lease', 20_000, 100);
    const port = new URL(hub.url).port;
    hub.signal('SIGKILL');
    await hub.exited;
    hub = await startHubProcess(hubEnv(dir, { PORT: port }));
    const mark = a.output().length;
    a.signal('SIGCONT');
    await a.waitFor(/connected to the hub/, { from: mark });
    // An add applied twice would fail with entryAlreadyExists (68): success means once.
    await expect(call).resolves.toEqual(expect.objectContaining({}));
    const found = await gw.call(t.tenantId, ds.id, 'search', { filter: '(uid=restart)' });
    expect(found.entries).toHaveLength(1);
    const runs =
      a
        .output()
        .slice(mark)
        .match(/"msg":"command finished"[^\n]*/g) ?? [];
    expect(runs.filter((l) => l.includes('"ok":true')).length).toBeLessThanOrEqual(1);
    await a.stop();
  });

  it('drops the live stream of a revoked agent and keeps refusing it', async () => {
    const { t, regs } = await setup(1);
    const reg = regs[0] as TestAgent;
    const a = await agentFor(t, reg);
    await a.waitFor(/connected to the hub/);
    const mark = a.output().length;
    await h.db.sql`update agents set revoked_at = now() where id = ${reg.id}`;
    await gw.agentRevoked(reg.id);
    await a.waitFor(/revoked/, { from: mark });
    await until(
      async () => (await statusOf(t.tenantId, reg.id))?.connected === false,
      'disconnected',
      20_000,
      100,
    );
    expect(a.child.exitCode).toBeNull();
    await a.stop();
  });
});
