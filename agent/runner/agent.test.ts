import { describe, expect, it } from 'vitest';
import { until } from '../../test/until.ts';
import { encodeResult } from '../protocol.ts';
import { PASSWORD, ping, pong, TENANT } from './testing/fixtures.ts';
import { BASIC, useAgentHarness } from './testing/harness.ts';

/** Commands end to end: stream → executor → fake connectors → result POST, against a FakeHub. */
const { setup } = useAgentHarness();

describe('agent runner against a hub', () => {
  it('opens the stream with the protocol headers, runs a command and posts its result', async () => {
    const { hub, conn, logs } = await setup({ auto: true });
    const [stream] = hub.streams();
    expect(stream?.headers).toMatchObject({
      accept: 'text/event-stream',
      'idhub-agent-protocol': '1',
      'idhub-tenant': TENANT,
      'idhub-agent-version': '9.9.9',
      authorization: BASIC,
    });
    expect(stream?.headers['last-event-id']).toBeUndefined();
    const cmd = ping();
    hub.command(cmd);
    const [result] = await until(() => hub.results().length && hub.results(), 'the result');
    expect(result?.method).toBe('POST');
    expect(result?.path).toBe(`/agent/v1/commands/${cmd.id}/result`);
    expect(result?.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: BASIC,
      'idhub-tenant': TENANT,
      'idhub-agent-protocol': '1',
    });
    expect(result?.body).toBe(encodeResult(pong).body);
    expect(conn.calls).toHaveLength(0); // answered by `auto`
    // Never logs secrets, even at trace level.
    expect(logs.text()).not.toContain(PASSWORD);
    expect(logs.text()).not.toContain(BASIC.slice(6));
  });

  it('answers too_large instead of a result over its configured cap', async () => {
    const { hub, conn } = await setup({ config: { maxResultBytes: 64 * 1024 } });
    const cmd = ping();
    hub.command(cmd);
    const entries = Array.from({ length: 2000 }, (_, i) => ({
      id: `uid=u${i}`,
      attributes: { cn: ['x'.repeat(40)] },
    }));
    (await until(() => conn.calls[0], 'the call')).resolve({
      ok: true,
      data: { entries, cookie: null },
    } as never);
    const [result] = await until(
      () => hub.results(cmd.id).length && hub.results(cmd.id),
      'the answer',
    );
    expect(JSON.parse(result?.body ?? '{}')).toMatchObject({
      ok: false,
      error: { code: 'too_large' },
    });
  });

  it('re-posts the stored result of a replayed finished command without running it again', async () => {
    const { hub, conn } = await setup();
    const cmd = ping();
    hub.command(cmd);
    (await until(() => conn.calls[0], 'the call')).resolve(pong);
    await until(() => hub.results(cmd.id).length === 1, 'the result');
    hub.command(cmd);
    const posts = await until(
      () => hub.results(cmd.id).length === 2 && hub.results(cmd.id),
      'the re-post',
    );
    expect(posts[1]?.body).toBe(posts[0]?.body);
    expect(conn.calls).toHaveLength(1);
  });

  it('does not start a command that is already running', async () => {
    const { hub, conn } = await setup();
    const a = ping();
    const b = ping();
    hub.command(a);
    hub.command(a);
    hub.command(b); // sentinel: handled after the duplicate
    await until(() => conn.calls.length === 2, 'two calls');
    expect(conn.calls.map((c) => c.command.id)).toEqual([a.id, b.id]);
    for (const c of conn.calls) c.resolve(pong);
    await until(() => hub.results().length === 2, 'two results');
    expect(hub.results(a.id)).toHaveLength(1);
  });

  it('aborts a cancelled command and does not answer it', async () => {
    const { hub, conn } = await setup();
    const a = ping();
    hub.command(a);
    const call = await until(() => conn.calls[0], 'the call');
    hub.cancel(a.id);
    await until(() => call.signal.aborted, 'the abort');
    call.resolve(pong); // too late: dropped
    const b = ping();
    hub.command(b);
    hub.command(a); // a replay of a cancelled command does not run either
    (await until(() => conn.calls[1], 'the sentinel call')).resolve(pong);
    await until(() => hub.results(b.id).length, 'the sentinel result');
    expect(conn.calls).toHaveLength(2);
    expect(hub.results(a.id)).toHaveLength(0);
  });

  it('answers an invalid command "unsupported" and a late one "timeout", without running them', async () => {
    const { hub, conn } = await setup();
    const bad = ping({ kind: 'dance' } as never);
    const late = ping({ deadline: new Date(Date.now() - 1000).toISOString() });
    hub.command(bad);
    hub.command(late);
    await until(() => hub.results().length === 2, 'two answers');
    expect(JSON.parse(hub.results(bad.id)[0]?.body ?? '').error.code).toBe('unsupported');
    expect(JSON.parse(hub.results(late.id)[0]?.body ?? '').error.code).toBe('timeout');
    expect(conn.calls).toHaveLength(0);
  });

  it('answers "timeout" at the deadline when the connector does not', async () => {
    const { hub, conn } = await setup();
    const cmd = ping({ deadline: new Date(Date.now() + 300).toISOString() });
    hub.command(cmd);
    const call = await until(() => conn.calls[0], 'the call');
    const [result] = await until(
      () => hub.results(cmd.id).length && hub.results(cmd.id),
      'the result',
    );
    expect(call.signal.aborted).toBe(true);
    expect(JSON.parse(result?.body ?? '').error.code).toBe('timeout');
  });

  it('heartbeats list the commands in flight; one not held any more is aborted unanswered', async () => {
    const { hub, conn } = await setup();
    const a = ping();
    hub.command(a);
    const call = await until(() => conn.calls[0], 'the call');
    const first = await until(
      () => hub.heartbeats().find((h) => h.body.includes(a.id)),
      'a heartbeat',
    );
    expect(JSON.parse(first.body)).toEqual({ agentVersion: '9.9.9', inFlight: [a.id] });
    expect(first.headers.authorization).toBe(BASIC);
    const seen = hub.heartbeats().length;
    await until(() => hub.heartbeats().length > seen, 'the next heartbeat');
    expect(call.signal.aborted).toBe(false); // held: kept
    hub.held = () => [];
    await until(() => call.signal.aborted, 'the abort', 3000);
    call.resolve(pong);
    const b = ping();
    hub.command(b);
    (await until(() => conn.calls[1], 'the sentinel call')).resolve(pong);
    await until(() => hub.results(b.id).length, 'the sentinel result');
    expect(hub.results(a.id)).toHaveLength(0);
    // Should the hub hand it back, it is refused, not run a second time.
    hub.command(a);
    const [answer] = await until(() => hub.results(a.id).length && hub.results(a.id), 'answer');
    expect(JSON.parse(answer?.body ?? '').error.code).toBe('refused');
    expect(conn.calls).toHaveLength(2);
  });

  it('runs at most `concurrency` commands at once and queues the rest', async () => {
    const { hub, conn, agent } = await setup({ start: { concurrency: 2 } });
    const cmds = [ping(), ping(), ping()];
    for (const c of cmds) hub.command(c);
    await until(() => agent.status().inFlight === 3, 'three accepted');
    expect(conn.calls).toHaveLength(2);
    conn.calls[0]?.resolve(pong);
    const third = await until(() => conn.calls[2], 'the queued command');
    expect(third.command.id).toBe(cmds[2]?.id);
  });

  it('retries a result after a 503 and drops one the hub answers 409', async () => {
    const { hub, agent, logs } = await setup({ auto: true });
    hub.resultStatus = (_id, n) => (n === 1 ? 503 : 200);
    const a = ping();
    hub.command(a);
    await until(() => hub.results(a.id).length === 2, 'the retry');
    hub.resultStatus = () => 409;
    const b = ping();
    hub.command(b);
    await until(() => logs.text().includes('no longer wants this result'), 'the drop');
    await agent.close(); // waits for results still being retried
    expect(hub.results(b.id)).toHaveLength(1);
  });

  it('on shutdown waits for the running command and posts its result', async () => {
    const { hub, conn, agent } = await setup({ start: { graceMs: 10_000 } });
    const a = ping();
    hub.command(a);
    const call = await until(() => conn.calls[0], 'the call');
    let closed = false;
    const closing = agent.close().then(() => {
      closed = true;
    });
    await until(() => hub.open.size === 0, 'the stream to close');
    expect(closed).toBe(false);
    expect(conn.isClosed()).toBe(false);
    call.resolve(pong);
    await closing;
    expect(hub.results(a.id)).toHaveLength(1);
    expect(conn.isClosed()).toBe(true);
  });

  it('on shutdown aborts, unanswered, a command still running after the grace period', async () => {
    const { hub, conn, agent } = await setup({ start: { graceMs: 200 } });
    const a = ping();
    hub.command(a);
    const call = await until(() => conn.calls[0], 'the call');
    await agent.close();
    expect(call.signal.aborted).toBe(true);
    expect(hub.results(a.id)).toHaveLength(0);
  });
});
