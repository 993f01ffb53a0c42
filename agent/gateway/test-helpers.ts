/** Test helpers: register agents and data sources in the store; read an SSE stream as events. */
import { randomBytes } from 'node:crypto';
import type { Harness } from '../../test/harness.ts';
import { type SseMessage, SseParser } from '../protocol.ts';
import { hashAgentPassword } from './credentials.ts';

export interface TestAgent {
  id: string;
  userName: string;
  password: string;
  headers: Record<string, string>;
}

export async function registerTestAgent(
  h: Harness,
  tenantId: string,
  opts: { group?: string; name?: string; certFingerprint?: string } = {},
): Promise<TestAgent> {
  const userName = `agt_${randomBytes(6).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const [row] = await h.db.sql<{ id: string }[]>`
    insert into agents (tenant_id, name, agent_group, user_name, password_hash, cert_fingerprint)
    values (${tenantId}, ${opts.name ?? userName}, ${opts.group ?? 'default'}, ${userName},
            ${await hashAgentPassword(password)}, ${opts.certFingerprint ?? null})
    returning id`;
  if (!row) throw new Error('agent insert returned nothing');
  const basic = Buffer.from(`${userName}:${password}`).toString('base64');
  return {
    id: row.id,
    userName,
    password,
    headers: { Authorization: `Basic ${basic}`, 'idhub-tenant': tenantId },
  };
}

export async function createTestDataSource(
  h: Harness,
  tenantId: string,
  opts: {
    name?: string;
    kind?: 'ldap' | 'sql' | 'scim';
    agentEnabled?: boolean;
    group?: string;
    config?: Record<string, unknown>;
  } = {},
): Promise<{ id: string; name: string }> {
  const name = opts.name ?? `ds-${randomBytes(4).toString('hex')}`;
  const [row] = await h.db.sql<{ id: string }[]>`
    insert into data_sources (tenant_id, name, kind, agent_enabled, agent_group, config)
    values (${tenantId}, ${name}, ${opts.kind ?? 'ldap'}, ${opts.agentEnabled ?? true},
            ${opts.group ?? 'default'}, ${JSON.stringify(opts.config ?? {})}::jsonb)
    returning id`;
  if (!row) throw new Error('data source insert returned nothing');
  return { id: row.id, name };
}

type Event = Extract<SseMessage, { type: 'event' }>;

/** An open SSE response read as events; `next` waits for the next event (bounded). */
export function sseEvents(res: Response) {
  const parser = new SseParser();
  const queue: Event[] = [];
  const waiting: ((e: Event | undefined) => void)[] = [];
  let ended = false;
  const reader = res.body?.getReader();
  if (!reader) throw new Error('response has no body');
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const m of parser.push(value)) {
          if (m.type !== 'event') continue;
          const w = waiting.shift();
          if (w) w(m);
          else queue.push(m);
        }
      }
    } catch {
      // cancelled by close()
    }
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  })();
  return {
    /** The next event, or undefined when the stream ended or `ms` passed first. */
    next(ms = 5000): Promise<Event | undefined> {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      if (ended) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          const i = waiting.indexOf(done);
          if (i >= 0) waiting.splice(i, 1);
          resolve(undefined);
        }, ms);
        const done = (e: Event | undefined) => {
          clearTimeout(timer);
          resolve(e);
        };
        waiting.push(done);
      });
    },
    async close(): Promise<void> {
      await reader.cancel().catch(() => {});
    },
    get ended() {
      return ended;
    },
  };
}
