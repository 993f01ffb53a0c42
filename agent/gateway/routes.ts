/**
 * The agent endpoints (`/agent/v1/…`): the SSE command stream, result posts and heartbeats.
 * Every call authenticates the agent; errors are `{error:{code,message,requestId}}`.
 */
import type { IncomingMessage } from 'node:http';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../../api/env.ts';
import { restError } from '../../api/errors.ts';
import { isUuid } from '../../scim/store/keys.ts';
import {
  AGENT_VERSION_HEADER,
  type CommandResult,
  failure,
  formatSse,
  formatSseHeartbeat,
  heartbeatRequestSchema,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  parseResult,
} from '../protocol.ts';
import type { AgentAuthResult, AgentPrincipal } from './auth.ts';
import type { HubGateway } from './gateway.ts';
import type { LocalStream } from './streams.ts';

type Env = AppEnv & { Bindings: { incoming?: IncomingMessage } };

const refuse = (
  c: Context<Env>,
  status: 400 | 401 | 403 | 404 | 409 | 413,
  code: string,
  message: string,
) => {
  if (status === 401) c.header('WWW-Authenticate', 'Basic realm="idhub-agent"');
  return restError(c, status, code, message);
};

export function agentRoutes(gateway: HubGateway): Hono<Env> {
  const { auth, store, streams, dispatcher, calls, notify, leaseMs, opts, start } =
    gateway.internal;
  const sql = opts.sql;
  const app = new Hono<Env>();

  async function who(c: Context<Env>): Promise<AgentAuthResult> {
    start();
    const version = c.req.header(PROTOCOL_HEADER);
    if (version !== undefined && version !== String(PROTOCOL_VERSION)) {
      return {
        ok: false,
        status: 403,
        code: 'protocol_version',
        message: `this hub speaks agent protocol ${PROTOCOL_VERSION}, not ${version}`,
      };
    }
    return auth.authenticate(c.req.raw.headers, c.env?.incoming);
  }

  app.get('/stream', async (c) => {
    const a = await who(c);
    if (!a.ok)
      return refuse(
        c,
        a.status === 403 && a.code === 'protocol_version' ? 409 : a.status,
        a.code,
        a.message,
      );
    const version = c.req.header(AGENT_VERSION_HEADER)?.slice(0, 100) ?? null;
    const stream = openStream(a.agent, version, c.get('log'));
    await sql`
      update agents set connected_to = ${opts.replica}, connected_at = now(), last_seen_at = now(),
        version = coalesce(${version}, version)
      where id = ${a.agent.agentId}`;
    streams.add(stream.local);
    c.req.raw.signal.addEventListener('abort', () => stream.local.close('client went away'));
    stream.local.write(
      formatSse({
        event: 'hello',
        data: JSON.stringify({
          protocolVersion: PROTOCOL_VERSION,
          agentId: a.agent.agentId,
          agentName: a.agent.name,
          replica: opts.replica,
          heartbeatMs: opts.heartbeatMs,
        }),
      }),
    );
    void dispatcher.replay(stream.local);
    return new Response(stream.body, {
      headers: {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        'X-Accel-Buffering': 'no',
        'X-Request-Id': c.get('requestId'),
      },
    });
  });

  function openStream(
    agent: AgentPrincipal,
    version: string | null,
    log: Context<Env>['var']['log'],
  ) {
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (ctl) => {
        controller = ctl;
      },
      cancel: () => local.close('client went away'),
    });
    const beat = setInterval(() => local.write(formatSseHeartbeat()), opts.heartbeatMs);
    beat.unref();
    const local: LocalStream = {
      agent,
      version,
      openedAt: Date.now(),
      closed: false,
      written: new Map(),
      write(text) {
        if (local.closed) return false;
        try {
          controller.enqueue(encoder.encode(text));
          return true;
        } catch {
          return false;
        }
      },
      close(reason) {
        if (local.closed) return;
        local.closed = true;
        clearInterval(beat);
        try {
          controller.close();
        } catch {
          // already closed by the client going away
        }
        log.info({ agentId: agent.agentId, reason }, 'agent stream closed');
        if (streams.remove(local)) {
          streams.forgetAgent(agent.agentId);
          void sql`
            update agents set connected_to = null
            where id = ${agent.agentId} and connected_to = ${opts.replica}`.catch(() => {});
        }
      },
    };
    log.info({ agentId: agent.agentId, name: agent.name, version }, 'agent stream opened');
    return { body, local };
  }

  app.post(
    '/commands/:id/result',
    bodyLimit({
      // The agent's own cap counts the JSON it sends; the envelope adds a little.
      maxSize: opts.maxResultBytes + 64 * 1024,
      onError: (c) =>
        refuse(c, 413, 'too_large', `a result may be at most ${opts.maxResultBytes} bytes`),
    }),
    async (c) => {
      const a = await who(c);
      if (!a.ok) return refuse(c, a.status, a.code, a.message);
      const id = c.req.param('id');
      if (!isUuid(id)) return refuse(c, 404, 'not_found', 'no such command');
      // Known here when this replica sent it or waits for it; the store is asked otherwise.
      const kind =
        streams.kindOf(id) ?? calls.kindOf(id) ?? (await store.kindOf(a.agent.tenantId, id));
      if (!kind) return refuse(c, 404, 'not_found', 'no such command');
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return refuse(c, 400, 'invalid_json', 'the result is not JSON');
      }
      const parsed = parseResult(kind, body);
      const result: CommandResult = parsed.ok
        ? parsed.value
        : failure(
            'connector_error',
            `the agent sent an invalid result: ${parsed.problems.slice(0, 5).join('; ')}`,
          );
      const outcome = await record(a.agent, id, kind, result);
      if (outcome === 'unknown') return refuse(c, 404, 'not_found', 'no such command');
      if (outcome === 'stale') {
        return refuse(c, 409, 'not_leased', 'this command is no longer leased to this agent');
      }
      if (!parsed.ok)
        return refuse(c, 400, 'invalid_result', parsed.problems.slice(0, 5).join('; '));
      return c.json({ stored: true });
    },
  );

  /**
   * Stores a result and hands it to its caller. A search page for a caller on this replica,
   * sent from here to this very agent, goes to the caller in memory and only a summary is
   * stored: pages are large, read-only, and nobody else reads them. Anything else is stored
   * whole first (the first answer wins), then handed over.
   */
  async function record(agent: AgentPrincipal, id: string, kind: string, result: CommandResult) {
    const answer = { result, agentId: agent.agentId };
    const inMemory =
      kind === 'search' && result.ok && streams.sentTo(id) === agent.agentId && calls.kindOf(id);
    if (inMemory) calls.deliver(id, answer);
    const stored = inMemory ? summary(result) : result;
    const outcome = await store.complete(agent.tenantId, agent.agentId, id, result, stored);
    if (outcome !== 'stored') return outcome;
    if (!inMemory) calls.deliver(id, answer);
    notify({
      type: 'done',
      id,
      agentId: agent.agentId,
      tenantId: agent.tenantId,
      group: agent.group,
    });
    return outcome;
  }

  app.post('/heartbeat', async (c) => {
    const a = await who(c);
    if (!a.ok) return refuse(c, a.status, a.code, a.message);
    const parsed = heartbeatRequestSchema.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success)
      return refuse(c, 400, 'invalid_heartbeat', parsed.error.issues[0]?.message ?? 'invalid');
    await sql`
      update agents set last_seen_at = now(), version = ${parsed.data.agentVersion.slice(0, 100)}
      where id = ${a.agent.agentId}`;
    const held = await store.renew(a.agent.agentId, parsed.data.inFlight, leaseMs());
    return c.json({ held });
  });

  return app;
}

/** What is stored for a search page delivered in memory: its size and cookie, not its entries. */
function summary(result: CommandResult): Record<string, unknown> {
  const data = result.ok ? (result.data as { entries: unknown[]; cookie: string | null }) : null;
  return {
    ok: true,
    summary: { entries: data?.entries.length ?? 0, cookie: data?.cookie ?? null },
    deliveredInMemory: true,
  };
}
