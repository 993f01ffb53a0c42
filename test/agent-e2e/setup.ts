/** Shared pieces of the agent end-to-end tests: application.yaml files and a SQL table. */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import type { Harness } from '../harness.ts';
import type { TestSlapd } from '../slapd.ts';

/** Hub heartbeat in these tests: leases last 3×, dead streams are seen after 2–3×. */
export const HEARTBEAT_MS = 1000;

/**
 * Env for hub processes on the run's private PostgreSQL and Redis. Each data dir gets its own
 * queue prefix, so a hub's sync worker never takes another test file's runs (hubs of one file
 * share it).
 */
export function hubEnv(
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    IDHUB_QUEUE_PREFIX: queuePrefixOf(dataDir),
    // The database is shared with every other test file: no recovery of their runs.
    IDHUB_SYNC_RECOVER_MS: '0',
    IDHUB_DATA_DIR: dataDir,
    IDHUB_OPERATOR_TOKEN: 'idh_op_e2e-operator-token-0123456789',
    IDHUB_AGENT_HEARTBEAT_MS: String(HEARTBEAT_MS),
    ...extra,
  };
}

/** The queue prefix of the hubs started with this data dir. */
export const queuePrefixOf = (dataDir: string) =>
  `{idhub-e2e-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}}`;

export async function tempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.chmod(dir, 0o755);
  return dir;
}

export interface AgentYaml {
  urls: string[];
  tenantId: string;
  auth: { userName: string; password: string } | Record<string, string>;
  slapd?: TestSlapd;
  sql?: { table: string };
  extra?: Record<string, unknown>;
}

/** Writes an application.yaml the way an admin would, with LDAP and SQL data sources. */
export async function writeAgentConfig(dir: string, o: AgentYaml): Promise<string> {
  const dataSources: Record<string, unknown> = {};
  if (o.slapd) {
    dataSources['corp-ldap'] = {
      type: 'ldap',
      url: o.slapd.url,
      bindDn: o.slapd.bindDn,
      password: o.slapd.password,
      baseDn: o.slapd.baseDn,
    };
  }
  if (o.sql) {
    dataSources.hr = {
      type: 'sql',
      url: inject('databaseUrl'),
      table: o.sql.table,
      key: 'employee_id',
      columns: {
        employeeNumber: 'employee_id',
        givenName: 'first_name',
        familyName: 'last_name',
        mail: 'email',
      },
    };
  }
  const doc = {
    urls: o.urls,
    tenantId: o.tenantId,
    ...o.auth,
    reconnectDelay: { initialMs: 200, maxMs: 1000, jitter: 0.1 },
    keepAlive: { intervalMs: HEARTBEAT_MS },
    allowHosts: ['127.0.0.1', 'localhost'],
    dataSources,
    ...o.extra,
  };
  const file = path.join(dir, `agent-${randomBytes(4).toString('hex')}.yaml`);
  await fs.writeFile(file, stringify(doc), { mode: 0o600 });
  return file;
}

/** A table of employees for the SQL connector, unique to the calling test file. */
export async function createEmployeesTable(h: Harness): Promise<string> {
  const table = `e2e_employees_${randomBytes(4).toString('hex')}`;
  await h.db.sql.unsafe(`create table ${table} (
    employee_id text primary key, first_name text not null, last_name text, email text)`);
  await h.db.sql.unsafe(
    `insert into ${table} values ('1001', 'Ada', 'Lovelace', 'ada@corp.example'),
       ('1002', 'Alan', 'Turing', 'alan@corp.example'), ('1003', 'Grace', 'Hopper', null)`,
  );
  return table;
}
