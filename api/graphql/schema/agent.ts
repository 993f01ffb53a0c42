import { and, eq } from 'drizzle-orm';
import {
  authenticationOf,
  type RegisteredAgent,
  registerAgent,
  revokeAgent,
} from '../../../agent/gateway/registry.ts';
import { agents } from '../../../db/schema/index.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tenantOf } from '../context.ts';
import { localId } from '../ids.ts';
import type { AgentRow } from '../loaders-agents.ts';
import { tag } from '../rows.ts';
import { tablePage } from '../table-page.ts';
import { identityActor, isKind, isObject, requireId } from './common.ts';
import { domain, mutationErrors, queryInput } from './errors.ts';

export const AgentRef = builder.objectRef<AgentRow>('Agent');

const AgentAuthentication = builder.enumType('AgentAuthentication', {
  description: 'How an agent proves who it is on the stream.',
  values: {
    BASIC: { value: 'basic', description: 'user name + password (HTTP basic)' },
    CERTIFICATE: { value: 'certificate', description: 'a pinned TLS client certificate' },
    BOTH: { value: 'both', description: 'either of the two' },
  } as const,
});

/** The gateway's live view of an agent (one gateway call per request for all agents asked). */
const live = (a: AgentRow, ctx: GraphQLContext) => ctx.loaders.agentStatus.load(a.id);

builder.node(AgentRef, {
  description:
    'An on-premises agent of your tenant. It serves the data sources of its group; several ' +
    'agents of one group share the work (active-active).',
  authScopes: { admin: true },
  id: { resolve: (a) => a.id },
  isTypeOf: isKind('Agent'),
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.agent.load(id))),
  fields: (t) => ({
    name: t.exposeString('name'),
    group: t.string({ resolve: (a) => a.agentGroup }),
    authentication: t.field({ type: AgentAuthentication, resolve: authenticationOf }),
    userName: t.exposeString('userName', {
      nullable: true,
      description: 'Its basic-auth user name; null when it authenticates by certificate only.',
    }),
    certificateFingerprint: t.string({
      nullable: true,
      description: 'SHA-256 fingerprint of its client certificate (AA:BB:…).',
      resolve: (a) => a.certFingerprint,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    active: t.boolean({ description: 'Not revoked.', resolve: (a) => !a.revokedAt }),
    connected: t.boolean({
      description: 'Holds a live stream to the hub now.',
      resolve: async (a, _, ctx) => (await live(a, ctx))?.connected ?? false,
    }),
    replica: t.string({
      nullable: true,
      description: 'The hub replica holding its stream, while connected.',
      resolve: async (a, _, ctx) => (await live(a, ctx))?.replica ?? null,
    }),
    lastSeenAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: async (a, _, ctx) => (await live(a, ctx))?.lastSeenAt ?? a.lastSeenAt,
    }),
    version: t.string({
      nullable: true,
      description: 'The version it last reported.',
      resolve: async (a, _, ctx) => (await live(a, ctx))?.version ?? a.version,
    }),
    commandsInFlight: t.int({
      description: 'Commands leased to it and not yet answered.',
      resolve: async (a, _, ctx) => (await live(a, ctx))?.commandsInFlight ?? 0,
    }),
  }),
});

builder.queryFields((t) => ({
  agent: t.field({
    type: AgentRef,
    nullable: true,
    description: 'An agent by global id; null when not in your tenant.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => {
      const local = localId(id, 'Agent');
      return local ? ctx.loaders.agent.load(local) : null;
    },
  }),
  agents: t.connection({
    nullable: true,
    type: AgentRef,
    description: 'Agents of your tenant (revoked ones included), oldest first.',
    authScopes: { admin: true },
    args: { group: t.arg.string({ description: 'Only agents of this group.' }) },
    resolve: (_, args, ctx) =>
      queryInput(() => {
        const tenantId = tenantOf(ctx);
        return tablePage(
          ctx.db,
          {
            scope: JSON.stringify(['agents', tenantId, args.group ?? null]),
            table: agents,
            createdAt: agents.createdAt,
            id: agents.id,
            where: and(
              eq(agents.tenantId, tenantId),
              args.group != null ? eq(agents.agentGroup, args.group) : undefined,
            ),
            // The hash is read with the row but never leaves this function.
            map: ({ passwordHash: _h, ...a }) => tag('Agent', a),
          },
          args,
        );
      }),
  }),
}));

const RegisterAgentInput = builder.inputType('RegisterAgentInput', {
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'Unique in your tenant; 1–64 of A-Z a-z 0-9 . _ -',
    }),
    group: t.string({ description: 'Its agent group (default "default").' }),
    certificateFingerprint: t.string({
      description: 'SHA-256 fingerprint of its client certificate, hex with or without colons.',
    }),
    certificatePem: t.string({
      description: 'Its client certificate, PEM (instead of the fingerprint).',
    }),
    basic: t.boolean({ defaultValue: true, description: 'Generate basic credentials.' }),
  }),
});

const RegisterAgentPayload = builder
  .objectRef<Omit<RegisteredAgent, 'agent'> & { agent: AgentRow }>('RegisterAgentPayload')
  .implement({
    isTypeOf: (v) => isObject(v) && 'agent' in v && 'password' in v,
    fields: (t) => ({
      agent: t.field({ type: AgentRef, resolve: (p) => p.agent }),
      userName: t.exposeString('userName', {
        nullable: true,
        description: 'Basic-auth user name for application.yaml; null without basic credentials.',
      }),
      password: t.exposeString('password', {
        nullable: true,
        description: 'Basic-auth password: shown this once, only its scrypt hash is stored.',
      }),
    }),
  });

builder.mutationFields((t) => ({
  registerAgent: t.field({
    type: RegisterAgentPayload,
    description: 'Registers an agent with basic credentials, a client certificate, or both.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { input: t.arg({ type: RegisterAgentInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      domain(async () => {
        const r = await registerAgent(ctx.db.db, tenantOf(ctx), identityActor(ctx), input);
        return { ...r, agent: tag('Agent', r.agent) };
      }),
  }),
  revokeAgent: t.field({
    type: AgentRef,
    description:
      'Revokes an agent: its credentials stop working and its live stream is dropped at once ' +
      '(every replica). Twice is harmless.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      domain(async () => {
        const local = requireId(id, 'Agent');
        const r = await revokeAgent(ctx.db.db, tenantOf(ctx), identityActor(ctx), local);
        // Also when it was revoked already: a retry completes a drop that failed before.
        await ctx.services.gateway.agentRevoked(local);
        ctx.loaders.agent.clear(local);
        ctx.loaders.agentStatus.clear(local);
        return tag('Agent', r.agent);
      }),
  }),
}));
