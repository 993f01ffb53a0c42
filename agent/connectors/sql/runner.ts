/** SQL behind the protocol: `base` and `scope` do not apply to a table and are ignored. */
import type { DataSourceConfig } from '../../config/index.ts';
import type { Runner } from '../runner.ts';
import { createSqlConnector } from './connector.ts';

type SqlConfig = Extract<DataSourceConfig, { type: 'sql' }>;

export function sqlRunner(config: SqlConfig): Runner<'sql'> {
  const sql = createSqlConnector({
    url: config.url,
    ...(config.password ? { password: config.password.reveal() } : {}),
    table: config.table,
    key: config.key,
    columns: config.columns,
  });
  return {
    kind: 'sql',
    testConnection: () => sql.testConnection(),
    search: (p) =>
      sql.search({
        ...(p.filter ? { filter: p.filter } : {}),
        attributes: p.attributes,
        pageSize: p.pageSize,
        cookie: p.cookie,
      }),
    export: (p) => (p.op === 'upsert' ? sql.upsert(p.key, p.values) : sql.delete(p.key)),
    listAttributes: () => sql.listAttributes(),
    listResourceTypes: () => sql.listResourceTypes(),
    close: () => sql.close(),
  };
}
