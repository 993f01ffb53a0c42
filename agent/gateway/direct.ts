/**
 * Data sources with `agentEnabled: false`: the hub runs the same connectors itself. One
 * ConnectorSet per data source, reused across calls (LDAP connections, paging state) and
 * replaced when the data source's row changes.
 */
import type { Logger } from 'pino';
import { parseDirectDataSource } from '../connectors/direct.ts';
import type { ConnectorSet } from '../connectors/types.ts';
import { type Command, type CommandResult, failure } from '../protocol.ts';
import type { DataSourceRef } from './types.ts';

const MAX_SETS = 200;

export function createDirectRunner(logger: Logger, agentVersion: string) {
  const sets = new Map<string, { fingerprint: string; set: ConnectorSet }>();

  /** Connectors load on first use: a hub with only agent-enabled data sources never needs them. */
  async function setFor(ds: DataSourceRef): Promise<ConnectorSet | CommandResult> {
    const fingerprint = JSON.stringify([ds.name, ds.kind, ds.config]);
    const cached = sets.get(ds.id);
    if (cached?.fingerprint === fingerprint) return cached.set;
    if (cached) void cached.set.close();
    const parsed = parseDirectDataSource(ds.kind, ds.config, ds.name);
    if (!parsed.ok) {
      return failure(
        'refused',
        `data source "${ds.name}" is misconfigured: ${parsed.problems.join('; ')}`,
      );
    }
    if (sets.size >= MAX_SETS) {
      const [oldest] = sets.keys();
      if (oldest) {
        void sets.get(oldest)?.set.close();
        sets.delete(oldest);
      }
    }
    const { createConnectorSet } = await import('../connectors/index.ts');
    const set = createConnectorSet(
      { [ds.name]: parsed.value },
      {
        allowHosts: 'any',
        logger,
        agentVersion,
      },
    );
    sets.set(ds.id, { fingerprint, set });
    return set;
  }

  return {
    async run(ds: DataSourceRef, command: Command, signal?: AbortSignal): Promise<CommandResult> {
      const set = await setFor(ds);
      if ('ok' in set) return set;
      return set.execute(command, signal);
    },
    async close(): Promise<void> {
      await Promise.allSettled([...sets.values()].map((s) => s.set.close()));
      sets.clear();
    },
  };
}
