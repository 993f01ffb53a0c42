/**
 * The hub's side of the agent protocol, in process: a scripted agent reads the SSE stream of
 * the real app and posts results; the command store, leases and pub/sub are the real ones.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.ts';
import { createHarness, OPERATOR_TOKEN } from '../../test/harness.ts';
import { HEARTBEAT_PATH, resultPath, STREAM_PATH } from '../protocol.ts';
import {
  createTestDataSource,
  registerTestAgent,
  sseEvents,
  type TestAgent,
} from './test-helpers.ts';
import { GatewayError } from './types.ts';

/** Short enough for lease tests, long enough that a loaded CI machine does not drop a stream. */
const HEARTBEAT_MS = 1000;
const h = createHarness({
  agents: {
    ...loadConfig({}).agents,
    heartbeatMs: HEARTBEAT_MS,
    adminTimeoutMs: 20_000,
    maxResultBytes: 128 * 1024,
  },
});
const gateway = h.services.gateway;

const open = (agent: TestAgent, headers: Record<string, string> = {}) =>
  h.app.request(`http://hub.test${STREAM_PATH}`, { headers: { ...agent.headers, ...headers } });

async function post(agent: TestAgent, path: string, body: unknown) {
  const res = await h.app.request(`http://hub.test${path}`, {
    method: 'POST',
    headers: { ...agent.headers, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function connected(agent: TestAgent) {
  const res = await open(agent);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events = sseEvents(res);
  const hello = await events.next();
  expect(hello?.event).toBe('hello');
  expect(JSON.parse(hello?.data ?? '{}')).toMatchObject({
    agentId: agent.id,
    heartbeatMs: HEARTBEAT_MS,
  });
  return events;
}

/** Heartbeats for an agent until stopped, reporting what it holds, as a live agent does. */
function keepBeating(agent: TestAgent, inFlight: string[] = []): () => void {
  const beat = () => void post(agent, HEARTBEAT_PATH, { agentVersion: 'test', inFlight });
  const timer = setInterval(beat, HEARTBEAT_MS / 2);
  return () => clearInterval(timer);
}

async function failureOf(p: Promise<unknown>): Promise<GatewayError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GatewayError);
  return e as GatewayError;
}

const pingData = { protocolVersion: 1, agentVersion: 'test', time: new Date().toISOString() };

describe('agent stream authentication', () => {
  it('refuses missing, wrong and revoked credentials and another tenant', async () => {
    const t = await h.tenant();
    const other = await h.tenant();
    const agent = await registerTestAgent(h, t.tenantId);
    const none = await h.app.request(`http://hub.test${STREAM_PATH}`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    const wrong = Buffer.from(`${agent.userName}:nope`).toString('base64');
    expect((await open(agent, { Authorization: `Basic ${wrong}` })).status).toBe(401);
    const mismatch = await open(agent, { 'idhub-tenant': other.tenantId });
    expect(mismatch.status).toBe(403);
    expect(((await mismatch.json()) as { error: { code: string } }).error.code).toBe(
      'tenant_mismatch',
    );
    expect((await open(agent, { 'idhub-agent-protocol': '2' })).status).toBe(409);
    await h.db.sql`update agents set revoked_at = now() where id = ${agent.id}`;
    await gateway.agentRevoked(agent.id);
    expect((await open(agent)).status).toBe(403);
  });
});

describe('commands through a streamed agent', () => {
  it('delivers a command as an SSE event and resolves the call with the posted result', async () => {
    const t = await h.tenant();
    const agent = await registerTestAgent(h, t.tenantId);
    const ds = await createTestDataSource(h, t.tenantId);
    const events = await connected(agent);
    const call = gateway.call(t.tenantId, ds.id, 'ping', {});
    const ev = await events.next();
    expect(ev?.event).toBe('command');
    const command = JSON.parse(ev?.data ?? '{}');
    expect(command).toMatchObject({ id: ev?.id, kind: 'ping', dataSource: ds.name });
    expect((await post(agent, resultPath(command.id), { ok: true, data: pingData })).status).toBe(
      200,
    );
    await expect(call).resolves.toEqual(pingData);
    const [row] = await h.db
      .sql`select state, agent_id from agent_commands where id = ${command.id}`;
    expect(row).toMatchObject({ state: 'succeeded', agent_id: agent.id });
    // A second answer is refused: the first one won.
    expect((await post(agent, resultPath(command.id), { ok: true, data: pingData })).status).toBe(
      409,
    );
    await events.close();
  });

  it('turns a typed agent error into a GatewayError and refuses results from other agents', async () => {
    const t = await h.tenant();
    const agent = await registerTestAgent(h, t.tenantId);
    const intruder = await registerTestAgent(h, (await h.tenant()).tenantId);
    const ds = await createTestDataSource(h, t.tenantId);
    const events = await connected(agent);
    const call = gateway.call(t.tenantId, ds.id, 'testConnection', {});
    const command = JSON.parse((await events.next())?.data ?? '{}');
    expect(
      (await post(intruder, resultPath(command.id), { ok: true, data: { latencyMs: 1 } })).status,
    ).toBe(404);
    const bad = {
      ok: false,
      error: { code: 'auth_failure', message: 'invalid credentials', remoteCode: 49 },
    };
    expect((await post(agent, resultPath(command.id), bad)).status).toBe(200);
    const e = await failureOf(call);
    expect(e).toMatchObject({ code: 'auth_failure', remoteCode: 49 });
    await events.close();
  });

  it('fails the call when the agent answers with a result of the wrong shape', async () => {
    const t = await h.tenant();
    const agent = await registerTestAgent(h, t.tenantId);
    const ds = await createTestDataSource(h, t.tenantId);
    const events = await connected(agent);
    const call = gateway.call(t.tenantId, ds.id, 'search', { pageSize: 10 });
    const command = JSON.parse((await events.next())?.data ?? '{}');
    const res = await post(agent, resultPath(command.id), { ok: true, data: { entries: 'nope' } });
    expect(res.status).toBe(400);
    expect((await failureOf(call)).code).toBe('connector_error');
    await events.close();
  });

  it('refuses a result body over the configured cap with 413, changing nothing', async () => {
    const t = await h.tenant();
    const agent = await registerTestAgent(h, t.tenantId);
    const ds = await createTestDataSource(h, t.tenantId);
    const events = await connected(agent);
    const call = gateway.call(t.tenantId, ds.id, 'search', {}, { timeoutMs: 1500 });
    const id = (await events.next())?.id ?? '';
    const entries = Array.from({ length: 5000 }, (_, i) => ({
      id: `uid=u${i}`,
      attributes: { cn: ['x'.repeat(40)] },
    }));
    const res = await post(agent, resultPath(id), { ok: true, data: { entries, cookie: null } });
    expect(res.status).toBe(413);
    const [row] = await h.db.sql`select state from agent_commands where id = ${id}`;
    expect(row?.state).toBe('leased');
    expect((await failureOf(call)).code).toBe('timeout');
    await events.close();
  });

  it('answers unavailable at once when no agent of the group is connected', async () => {
    const t = await h.tenant();
    await registerTestAgent(h, t.tenantId);
    const ds = await createTestDataSource(h, t.tenantId, { group: 'paris' });
    expect((await failureOf(gateway.call(t.tenantId, ds.id, 'ping', {}))).code).toBe('unavailable');
    const [n] = await h.db
      .sql`select count(*)::int as n from agent_commands where data_source_id = ${ds.id}`;
    expect(n?.n).toBe(0);
  });

  it('times out, marks the command expired and tells the agent to cancel', async () => {
    const t = await h.tenant();
    const agent = await registerTestAgent(h, t.tenantId);
    const ds = await createTestDataSource(h, t.tenantId);
    const events = await connected(agent);
    const e = await failureOf(gateway.call(t.tenantId, ds.id, 'ping', {}, { timeoutMs: 300 }));
    expect(e.code).toBe('timeout');
    const command = JSON.parse((await events.next())?.data ?? '{}');
    const cancel = await events.next();
    expect(cancel?.event).toBe('cancel');
    expect(JSON.parse(cancel?.data ?? '{}').id).toBe(command.id);
    const [row] = await h.db.sql`select state from agent_commands where id = ${command.id}`;
    expect(row?.state).toBe('expired');
    expect((await post(agent, resultPath(command.id), { ok: true, data: pingData })).status).toBe(
      409,
    );
    await events.close();
  });

  it('replays an unanswered command when the agent reconnects', async () => {
    const t = await h.tenant();
    const agent = await registerTestAgent(h, t.tenantId);
    const ds = await createTestDataSource(h, t.tenantId);
    const first = await connected(agent);
    const call = gateway.call(t.tenantId, ds.id, 'ping', {});
    const sent = await first.next();
    await first.close();
    const second = await connected(agent);
    const replayed = await second.next();
    expect(replayed?.event).toBe('command');
    expect(replayed?.id).toBe(sent?.id);
    expect(
      (await post(agent, resultPath(replayed?.id ?? ''), { ok: true, data: pingData })).status,
    ).toBe(200);
    await expect(call).resolves.toEqual(pingData);
    await second.close();
  });

  it('moves a command to another agent of the group when its agent stops heartbeating', async () => {
    const t = await h.tenant();
    const a = await registerTestAgent(h, t.tenantId, { name: 'a' });
    const b = await registerTestAgent(h, t.tenantId, { name: 'b' });
    const ds = await createTestDataSource(h, t.tenantId);
    const streamA = await connected(a);
    const call = gateway.call(t.tenantId, ds.id, 'ping', {});
    const toA = await streamA.next();
    expect(toA?.event).toBe('command');
    const streamB = await connected(b);
    const heldByB: string[] = [];
    const stopB = keepBeating(b, heldByB);
    // A sends no heartbeat: the hub drops its stream and its lease moves to B.
    const toB = await streamB.next(HEARTBEAT_MS * 20);
    expect(toB?.id).toBe(toA?.id);
    heldByB.push(toB?.id ?? '');
    expect(await streamA.next(HEARTBEAT_MS * 10)).toBeUndefined();
    expect(streamA.ended).toBe(true);
    expect((await post(a, resultPath(toA?.id ?? ''), { ok: true, data: pingData })).status).toBe(
      409,
    );
    expect((await post(b, resultPath(toB?.id ?? ''), { ok: true, data: pingData })).status).toBe(
      200,
    );
    await expect(call).resolves.toEqual(pingData);
    const [row] = await h.db
      .sql`select attempts, agent_id from agent_commands where id = ${toA?.id ?? ''}`;
    expect(row).toMatchObject({ attempts: 2, agent_id: b.id });
    stopB();
    await streamB.close();
  });

  it('keeps leases of a heartbeating agent and reports which commands it still holds', async () => {
    const t = await h.tenant();
    const agent = await registerTestAgent(h, t.tenantId);
    const ds = await createTestDataSource(h, t.tenantId);
    const events = await connected(agent);
    const call = gateway.call(t.tenantId, ds.id, 'ping', {});
    const id = (await events.next())?.id ?? '';
    const stranger = '00000000-0000-4000-8000-000000000000';
    for (let i = 0; i < 6; i++) {
      const beat = await post(agent, HEARTBEAT_PATH, {
        agentVersion: '9.9.9',
        inFlight: [id, stranger],
      });
      expect(beat).toEqual({ status: 200, body: { held: [id] } });
      // Stay past several lease periods: the sweeps run, the lease must hold.
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS));
    }
    const [row] = await h.db.sql`select state, attempts from agent_commands where id = ${id}`;
    expect(row).toMatchObject({ state: 'leased', attempts: 1 });
    const status = await gateway.status(t.tenantId, [agent.id]);
    expect(status.get(agent.id)).toMatchObject({
      connected: true,
      version: '9.9.9',
      commandsInFlight: 1,
    });
    await post(agent, resultPath(id), { ok: true, data: pingData });
    await call;
    await events.close();
  });

  it('sends a command again when the agent heartbeats without holding it (lost in transit)', async () => {
    const t = await h.tenant();
    const agent = await registerTestAgent(h, t.tenantId);
    const ds = await createTestDataSource(h, t.tenantId);
    const events = await connected(agent);
    const held: string[] = [];
    const stop = keepBeating(agent, held);
    const call = gateway.call(t.tenantId, ds.id, 'ping', {});
    const first = await events.next();
    // The agent never saw it: its heartbeats do not list it, so the lease runs out.
    const again = await events.next(HEARTBEAT_MS * 20);
    expect(again?.id).toBe(first?.id);
    held.push(again?.id ?? '');
    expect(
      (await post(agent, resultPath(again?.id ?? ''), { ok: true, data: pingData })).status,
    ).toBe(200);
    await expect(call).resolves.toEqual(pingData);
    const [row] = await h.db.sql`select attempts from agent_commands where id = ${again?.id ?? ''}`;
    expect(row?.attempts).toBe(2);
    stop();
    await events.close();
  });

  it('pins every page of a search to the agent that served the first', async () => {
    const t = await h.tenant();
    const a = await registerTestAgent(h, t.tenantId, { name: 'a' });
    const b = await registerTestAgent(h, t.tenantId, { name: 'b' });
    const ds = await createTestDataSource(h, t.tenantId);
    const streams = { [a.id]: await connected(a), [b.id]: await connected(b) };
    const beats = [keepBeating(a), keepBeating(b)];
    const pages = gateway.search(t.tenantId, ds.id, { pageSize: 2 })[Symbol.asyncIterator]();
    const first = pages.next();
    // Whichever agent got the first page must get the others.
    const got = await Promise.race(
      [a, b].map(async (ag) => ({ ag, ev: await streams[ag.id]?.next() })),
    );
    const served = got.ag;
    const entry = (n: number) => ({ id: `uid=u${n}`, attributes: { uid: [`u${n}`] } });
    await post(served, resultPath(got.ev?.id ?? ''), {
      ok: true,
      data: { entries: [entry(1)], cookie: 'c1' },
    });
    expect((await first).value).toEqual([entry(1)]);
    const second = pages.next();
    const ev2 = await streams[served.id]?.next();
    expect(JSON.parse(ev2?.data ?? '{}').payload.cookie).toBe('c1');
    await post(served, resultPath(ev2?.id ?? ''), {
      ok: true,
      data: { entries: [entry(2)], cookie: null },
    });
    expect((await second).value).toEqual([entry(2)]);
    expect((await pages.next()).done).toBe(true);
    // The caller waits on this replica: pages went to it in memory, only their size is stored.
    const [stored] = await h.db
      .sql`select state, result from agent_commands where id = ${ev2?.id ?? ''}`;
    expect(stored).toEqual({
      state: 'succeeded',
      result: { ok: true, summary: { entries: 1, cookie: null }, deliveredInMemory: true },
    });
    for (const stop of beats) stop();
    for (const s of Object.values(streams)) await s?.close();
  });

  it('closes the live stream of a revoked agent at once', async () => {
    const t = await h.tenant();
    const agent = await registerTestAgent(h, t.tenantId);
    const events = await connected(agent);
    await h.db.sql`update agents set revoked_at = now() where id = ${agent.id}`;
    await gateway.agentRevoked(agent.id);
    expect(await events.next(2000)).toBeUndefined();
    expect(events.ended).toBe(true);
    expect((await post(agent, HEARTBEAT_PATH, { agentVersion: 'x' })).status).toBe(403);
  });

  it('counts commands by kind and outcome, and open streams, in /metrics', async () => {
    const t = await h.tenant();
    const agent = await registerTestAgent(h, t.tenantId);
    const ds = await createTestDataSource(h, t.tenantId);
    const events = await connected(agent);
    const call = gateway.call(t.tenantId, ds.id, 'listResourceTypes', {});
    const id = (await events.next())?.id ?? '';
    await post(agent, resultPath(id), { ok: true, data: { resourceTypes: [] } });
    await call;
    const res = await h.request('GET', '/metrics', { token: OPERATOR_TOKEN });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(
      /idhub_agent_commands_total\{kind="listResourceTypes",outcome="ok"\} [1-9]/,
    );
    expect(res.text).toMatch(
      /idhub_agent_command_duration_seconds_count\{kind="listResourceTypes"\} [1-9]/,
    );
    expect(res.text).toMatch(/idhub_agent_streams [1-9]/);
    await events.close();
  });
});
