import { describe, expect, it } from 'vitest';
import { until } from '../../test/until.ts';
import { failure } from '../protocol.ts';
import { FakeHub } from './testing/fake-hub.ts';
import { ping } from './testing/fixtures.ts';
import { useAgentHarness } from './testing/harness.ts';

/** Streams: reconnects, dead-stream detection, refusals, several hub URLs, healthz. */
const { setup, agentOn, track } = useAgentHarness();

describe('agent runner: connection handling', () => {
  it('sends Last-Event-ID when it reconnects', async () => {
    const { hub } = await setup({ auto: true });
    const cmd = ping();
    hub.command(cmd);
    await until(() => hub.results(cmd.id).length, 'the result');
    hub.dropStreams();
    await until(() => hub.open.size === 1 && hub.streams().length === 2, 'a new stream');
    expect(hub.streams()[0]?.headers['last-event-id']).toBeUndefined();
    expect(hub.streams()[1]?.headers['last-event-id']).toBe(cmd.id);
  });

  it('drops a stream that sends no bytes for 2 × keepAlive and reconnects', async () => {
    const { hub } = await setup({ auto: true });
    const [first] = hub.streams();
    const second = await until(() => hub.streams()[1], 'a reconnect', 6000);
    const gap = second.at - (first?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(1900); // 2 × 1000 ms of silence…
    expect(gap).toBeLessThan(3500); // …plus the initial 100 ms backoff
  });

  it('keeps a stream that receives heartbeat comments', async () => {
    const { hub } = await setup({ auto: true, hub: { commentEveryMs: 300 } });
    await until(() => hub.commentsSent >= 9, 'nine comments (2.7 s)', 6000);
    expect(hub.streams()).toHaveLength(1);
  });

  it('logs a refusal and retries it at the maximum delay', async () => {
    const hub = track(await FakeHub.start());
    const message = 'agent was revoked';
    hub.refuse = { status: 403, body: { error: { code: 'agent_revoked', message } } };
    const reconnectDelay = { initialMs: 100, maxMs: 700, jitter: 0 };
    const { logs } = await agentOn([hub.url], { config: { reconnectDelay } });
    const [a, b] = await until(() => hub.streams().length >= 2 && hub.streams(), 'two attempts');
    expect((b?.at ?? 0) - (a?.at ?? 0)).toBeGreaterThanOrEqual(650);
    expect(logs.text()).toContain(`hub refused the stream: ${message}`);
  });

  it('keeps one stream per URL and runs a command arriving on both once', async () => {
    const one = track(await FakeHub.start());
    const two = track(await FakeHub.start());
    const { agent, conn } = await agentOn([one.url, two.url]);
    await until(() => one.open.size === 1 && two.open.size === 1, 'both streams');
    const a = ping();
    const b = ping();
    one.command(a);
    await until(() => conn.calls[0], 'the call');
    two.command(a);
    two.command(b); // sentinel: handled after the duplicate
    await until(() => conn.calls[1], 'the sentinel');
    expect(conn.calls.map((c) => c.command.id)).toEqual([a.id, b.id]);
    for (const c of conn.calls) c.resolve(failure('not_found', 'x'));
    await until(() => one.results(a.id).length && two.results(b.id).length, 'results');
    expect(two.results(a.id)).toHaveLength(0); // posted where it came from first
    expect(agent.status().streams.map((s) => s.connected)).toEqual([true, true]);
  });

  it('serves /healthz', async () => {
    const healthz = { host: '127.0.0.1', port: 0 };
    const { hub, agent } = await setup({ auto: true, config: { healthz } });
    await until(() => agent.status().streams[0]?.lastEventAt, 'the hello');
    const res = await fetch(`http://127.0.0.1:${agent.healthzPort}/healthz`);
    expect(res.status).toBe(200);
    const body = await res.json();
    const stream = { url: hub.url, connected: true, lastEventAt: expect.any(String) };
    expect(body).toEqual({ status: 'ok', inFlight: 0, streams: [stream] });
  });

  it('/healthz is degraded (503) when no stream is connected', async () => {
    const dead = await FakeHub.start();
    await dead.close(); // nothing listens on its port any more
    const healthz = { host: '127.0.0.1', port: 0 };
    const { agent } = await agentOn([dead.url], { config: { healthz } });
    const res = await fetch(`http://127.0.0.1:${agent.healthzPort}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'degraded', streams: [{ connected: false }] });
  });
});
