import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { lifecycleDates, tenantRef } from './columns.ts';

/**
 * A system the hub reads or writes: LDAP/AD, SQL, SCIM. `config` holds what the hub may know
 * (base DN, mapping hints) — never the system's secrets when it is agent-enabled: those stay
 * in the agent's application.yaml, and the hub names the data source only.
 */
export const dataSources = pgTable(
  'data_sources',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    kind: text('kind', { enum: ['ldap', 'sql', 'scim'] }).notNull(),
    config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
    agentEnabled: boolean('agent_enabled').notNull().default(false),
    /** Agents of this group serve the data source (active-active). */
    agentGroup: text('agent_group').notNull().default('default'),
    ...lifecycleDates(),
  },
  (t) => [uniqueIndex('data_sources_name_key').on(t.tenantId, sql`lower(${t.name})`)],
);

/**
 * A registered on-premises agent. It authenticates with basic credentials (only the hash is
 * stored) or a client certificate whose SHA-256 fingerprint is registered here. Revoking sets
 * `revoked_at`; the gateway then drops its live stream.
 */
export const agents = pgTable(
  'agents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    agentGroup: text('agent_group').notNull().default('default'),
    userName: text('user_name'),
    /** scrypt (or similar) hash of the basic-auth password. */
    passwordHash: text('password_hash'),
    certFingerprint: text('cert_fingerprint'),
    version: text('version'),
    /** The hub replica holding its stream, and when the agent was last heard of. */
    connectedTo: text('connected_to'),
    connectedAt: timestamp('connected_at', { withTimezone: true }),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('agents_name_key').on(t.tenantId, sql`lower(${t.name})`),
    uniqueIndex('agents_user_name_key').on(t.userName),
    uniqueIndex('agents_cert_fingerprint_key').on(t.certFingerprint),
  ],
);

/**
 * The durable command store: a command survives hub restarts; an agent of the data source's
 * group leases it (lease_expires_at), and an expired lease hands it to another agent. `seq`
 * orders the stream and serves as the SSE event id for Last-Event-ID replay.
 */
export const agentCommands = pgTable(
  'agent_commands',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    tenantId: tenantRef(),
    dataSourceId: uuid('data_source_id')
      .notNull()
      .references(() => dataSources.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    /** The data source's agent group when issued: agents of this group may lease it. */
    agentGroup: text('agent_group').notNull().default('default'),
    /** Set for the pages after the first of a paged search: only this agent may lease it. */
    targetAgentId: uuid('target_agent_id'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    state: text('state', { enum: ['pending', 'leased', 'succeeded', 'failed', 'expired'] })
      .notNull()
      .default('pending'),
    agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'set null' }),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    deadline: timestamp('deadline', { withTimezone: true }).notNull(),
    result: jsonb('result').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    index('agent_commands_open_idx')
      .on(t.tenantId, t.state, t.seq)
      .where(sql`${t.state} in ('pending', 'leased')`),
    index('agent_commands_agent_idx').on(t.agentId),
    index('agent_commands_dispatch_idx')
      .on(t.tenantId, t.agentGroup, t.seq)
      .where(sql`${t.state} = 'pending'`),
    index('agent_commands_lease_idx').on(t.leaseExpiresAt).where(sql`${t.state} = 'leased'`),
  ],
);
