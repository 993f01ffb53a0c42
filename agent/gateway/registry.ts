/**
 * The hub's registry of agents and data sources: the domain writes behind the admin API.
 * Every write runs in one transaction with its audit row; refusals are IdentityErrors
 * (`invalid`, `conflict`, `not_found`), which GraphQL turns into typed results. Secrets never
 * reach an audit summary or an error message.
 */
import { randomBytes } from 'node:crypto';
import { and, asc, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import { type Actor, recordAudit } from '../../api/identity/audit.ts';
import { checkId, IdentityError, notFound, unlessTaken } from '../../api/identity/errors.ts';
import { type Executor, inTransaction } from '../../api/identity/executor.ts';
import type { Tx } from '../../db/client.ts';
import { agents, dataSources } from '../../db/schema/index.ts';
import { pgCode } from '../../scim/render.ts';
import { dataSourceNameSchema } from '../protocol.ts';
import {
  fingerprintOfPem,
  hashAgentPassword,
  newAgentPassword,
  normalizeFingerprint,
} from './credentials.ts';
import {
  checkDataSourceConfig,
  type DataSourceKind,
  dataSourceKinds,
  keepRedactedSecrets,
} from './source-config.ts';

export type { DataSourceKind } from './source-config.ts';

/** An agent as the admin API shows it: everything but the password hash. */
export type AgentRecord = Omit<typeof agents.$inferSelect, 'passwordHash'>;
export type DataSourceRecord = typeof dataSources.$inferSelect;

/** Every agents column but the password hash, which never leaves the registry. */
const { passwordHash: _hash, ...columns } = getTableColumns(agents);
export const agentColumns = columns;

/** Agent names and groups follow the data source name rule: they appear in YAML and logs. */
function plainName(what: string, value: string): string {
  const r = dataSourceNameSchema.safeParse(value);
  if (!r.success) throw new IdentityError('invalid', `${what} ${r.error.issues[0]?.message}`);
  return value;
}

// ---- agents ----------------------------------------------------------------------------

export interface RegisterAgentInput {
  name: string;
  group?: string | null;
  /** SHA-256 fingerprint of the agent's client certificate (hex, colons optional). */
  certificateFingerprint?: string | null;
  /** The client certificate itself, PEM; its fingerprint is registered. */
  certificatePem?: string | null;
  /** Generate basic credentials (default true). */
  basic?: boolean | null;
}

export interface RegisteredAgent {
  agent: AgentRecord;
  /** Basic credentials, shown once: only the password's scrypt hash is stored. */
  userName: string | null;
  password: string | null;
}

function certificateOf(input: RegisterAgentInput): string | null {
  const pem = input.certificatePem?.trim();
  const given = input.certificateFingerprint?.trim();
  if (pem && given) {
    throw new IdentityError('invalid', 'give certificatePem or certificateFingerprint, not both');
  }
  if (pem) {
    try {
      return fingerprintOfPem(pem);
    } catch {
      throw new IdentityError('invalid', 'certificatePem is not a PEM X.509 certificate');
    }
  }
  if (!given) return null;
  const fp = normalizeFingerprint(given);
  if (!fp) {
    throw new IdentityError('invalid', 'certificateFingerprint must be a SHA-256 fingerprint');
  }
  return fp;
}

/** `agt_` + 80 random bits: globally unique in practice, and the index makes sure. */
const newAgentUserName = () => `agt_${randomBytes(10).toString('hex')}`;

export const authenticationOf = (a: Pick<AgentRecord, 'userName' | 'certFingerprint'>) =>
  a.userName && a.certFingerprint ? 'both' : a.certFingerprint ? 'certificate' : 'basic';

/**
 * Registers an agent with basic credentials (generated, returned once), a pinned client
 * certificate, or both. A certificate is registered once across all tenants; the conflict
 * message does not say where.
 */
export async function registerAgent(
  db: Executor,
  tenantId: string,
  actor: Actor,
  input: RegisterAgentInput,
): Promise<RegisteredAgent> {
  const name = plainName('name', input.name.trim());
  const group = plainName('group', input.group?.trim() || 'default');
  const fingerprint = certificateOf(input);
  const basic = input.basic ?? true;
  if (!basic && !fingerprint) {
    throw new IdentityError('invalid', 'an agent needs basic credentials, a certificate or both');
  }
  const userName = basic ? newAgentUserName() : null;
  const password = basic ? newAgentPassword() : null;
  // scrypt is deliberately slow: hash before the transaction opens.
  const passwordHash = password ? await hashAgentPassword(password) : null;
  const agent = await inTransaction(db, async (tx) => {
    const [row] = await unlessTaken(
      {
        agents_name_key: `an agent named "${name}" already exists (revoked agents keep their name)`,
        agents_cert_fingerprint_key: 'this certificate is already registered to an agent',
        agents_user_name_key: 'the generated user name is taken; try again',
      },
      () =>
        tx
          .insert(agents)
          .values({
            tenantId,
            name,
            agentGroup: group,
            userName,
            passwordHash,
            certFingerprint: fingerprint,
          })
          .returning(agentColumns),
    );
    if (!row) throw new Error('insert returned no agent');
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'agent.register',
      targetType: 'Agent',
      targetId: row.id,
      summary: { name, group, authentication: authenticationOf(row), certFingerprint: fingerprint },
    });
    return row;
  });
  return { agent, userName, password };
}

/**
 * Revokes an agent: it can no longer authenticate. Idempotent — a second call changes
 * nothing and writes no audit row (`changed: false`). The caller tells the gateway, which
 * drops the live stream.
 */
export async function revokeAgent(
  db: Executor,
  tenantId: string,
  actor: Actor,
  agentId: string,
): Promise<{ agent: AgentRecord; changed: boolean }> {
  checkId('agent', agentId);
  return inTransaction(db, async (tx) => {
    const mine = and(eq(agents.tenantId, tenantId), eq(agents.id, agentId));
    const [revoked] = await tx
      .update(agents)
      .set({ revokedAt: sql`now()` })
      .where(and(mine, isNull(agents.revokedAt)))
      .returning(agentColumns);
    if (revoked) {
      await recordAudit(tx, {
        tenantId,
        actor,
        action: 'agent.revoke',
        targetType: 'Agent',
        targetId: agentId,
        summary: { name: revoked.name },
      });
      return { agent: revoked, changed: true };
    }
    const [existing] = await tx.select(agentColumns).from(agents).where(mine);
    if (!existing) throw notFound('agent', agentId);
    return { agent: existing, changed: false };
  });
}

/** The tenant's agents, oldest first; revoked ones only when asked. */
export async function listAgents(
  db: Executor,
  tenantId: string,
  opts: { group?: string; includeRevoked?: boolean } = {},
): Promise<AgentRecord[]> {
  return db
    .select(agentColumns)
    .from(agents)
    .where(
      and(
        eq(agents.tenantId, tenantId),
        opts.group ? eq(agents.agentGroup, opts.group) : undefined,
        opts.includeRevoked ? undefined : isNull(agents.revokedAt),
      ),
    )
    .orderBy(asc(agents.createdAt), asc(agents.id));
}

// ---- data sources ----------------------------------------------------------------------

export interface DataSourceInput {
  name: string;
  kind: DataSourceKind;
  agentEnabled: boolean;
  agentGroup?: string | null;
  config: Record<string, unknown>;
}

export type DataSourcePatch = Partial<DataSourceInput>;

const nameTaken = (name: string) => ({
  data_sources_name_key: `a data source named "${name}" already exists`,
});

/** The final state of a data source, validated as a whole (name, group, config for its mode). */
function validated(s: DataSourceInput): DataSourceInput & { agentGroup: string } {
  if (!dataSourceKinds.includes(s.kind)) {
    throw new IdentityError('invalid', `kind must be one of ${dataSourceKinds.join(', ')}`);
  }
  const name = s.name.trim();
  const r = dataSourceNameSchema.safeParse(name);
  if (!r.success) throw new IdentityError('invalid', `name ${r.error.issues[0]?.message}`);
  const agentGroup = plainName('agentGroup', s.agentGroup?.trim() || 'default');
  const problems = checkDataSourceConfig(s.kind, name, s.agentEnabled, s.config);
  if (problems.length) throw new IdentityError('invalid', `config: ${problems.join('; ')}`);
  return { name, kind: s.kind, agentEnabled: s.agentEnabled, agentGroup, config: s.config };
}

/** What an audit summary may say about a data source: never config values (secrets). */
const described = (s: DataSourceInput) => ({
  name: s.name,
  kind: s.kind,
  agentEnabled: s.agentEnabled,
  agentGroup: s.agentGroup,
  configKeys: Object.keys(s.config).sort(),
});

export async function createDataSource(
  db: Executor,
  tenantId: string,
  actor: Actor,
  input: DataSourceInput,
): Promise<DataSourceRecord> {
  const s = validated(input);
  return inTransaction(db, async (tx) => {
    const [row] = await unlessTaken(nameTaken(s.name), () =>
      tx
        .insert(dataSources)
        .values({ tenantId, ...s })
        .returning(),
    );
    if (!row) throw new Error('insert returned no data source');
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'dataSource.create',
      targetType: 'DataSource',
      targetId: row.id,
      summary: described(s),
    });
    return row;
  });
}

async function lockDataSource(tx: Tx, tenantId: string, id: string) {
  checkId('data source', id);
  const [row] = await tx
    .select()
    .from(dataSources)
    .where(and(eq(dataSources.tenantId, tenantId), eq(dataSources.id, id)))
    .for('update');
  if (!row) throw notFound('data source', id);
  return row;
}

/**
 * Changes a data source; fields left out keep their value. A config sent back as read
 * (secrets shown redacted) keeps the stored secrets, so an admin can edit a direct data
 * source without retyping its password. The result is validated as a whole.
 */
export async function updateDataSource(
  db: Executor,
  tenantId: string,
  actor: Actor,
  id: string,
  patch: DataSourcePatch,
): Promise<DataSourceRecord> {
  return inTransaction(db, async (tx) => {
    const before = await lockDataSource(tx, tenantId, id);
    const kind = patch.kind ?? before.kind;
    const config =
      patch.config === undefined
        ? before.config
        : kind === before.kind
          ? keepRedactedSecrets(patch.config, before.config)
          : patch.config;
    const s = validated({
      name: patch.name ?? before.name,
      kind,
      agentEnabled: patch.agentEnabled ?? before.agentEnabled,
      agentGroup: patch.agentGroup ?? before.agentGroup,
      config,
    });
    const [row] = await unlessTaken(nameTaken(s.name), () =>
      tx
        .update(dataSources)
        .set({ ...s, updatedAt: sql`now()` })
        .where(eq(dataSources.id, before.id))
        .returning(),
    );
    if (!row) throw notFound('data source', id);
    const changed = (['name', 'kind', 'agentEnabled', 'agentGroup', 'config'] as const).filter(
      (k) => JSON.stringify(before[k]) !== JSON.stringify(row[k]),
    );
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'dataSource.update',
      targetType: 'DataSource',
      targetId: row.id,
      summary: { ...described(s), changed },
    });
    return row;
  });
}

/** Deletes a data source and (by cascade) its queued agent commands. */
export async function deleteDataSource(
  db: Executor,
  tenantId: string,
  actor: Actor,
  id: string,
): Promise<DataSourceRecord> {
  return inTransaction(db, async (tx) => {
    const before = await lockDataSource(tx, tenantId, id);
    try {
      await tx.delete(dataSources).where(eq(dataSources.id, before.id));
    } catch (e) {
      // A table added later may refer to data sources without a cascade (sync jobs).
      if (pgCode(e) === '23503') {
        throw new IdentityError('not_empty', `data source "${before.name}" is still in use`);
      }
      throw e;
    }
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'dataSource.delete',
      targetType: 'DataSource',
      targetId: before.id,
      summary: { name: before.name, kind: before.kind },
    });
    return before;
  });
}
