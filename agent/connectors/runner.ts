/**
 * One data source's connector behind the protocol's command kinds. Each kind's runner (in its
 * folder) translates payloads to connector calls and results back to protocol data.
 */
import type { DataSourceConfig } from '../config/index.ts';
import type { ExportPayload, ResultData, SearchPayload } from '../protocol.ts';

export type SourceKind = DataSourceConfig['type'];
export type ExportOf<K extends SourceKind> = Extract<ExportPayload, { connector: K }>;

export interface Runner<K extends SourceKind = SourceKind> {
  readonly kind: K;
  testConnection(signal: AbortSignal): Promise<ResultData<'testConnection'>>;
  search(payload: SearchPayload, signal: AbortSignal): Promise<ResultData<'search'>>;
  export(payload: ExportOf<K>, signal: AbortSignal): Promise<ResultData<'export'>>;
  listAttributes(signal: AbortSignal): Promise<ResultData<'listAttributes'>>;
  listResourceTypes(signal: AbortSignal): Promise<ResultData<'listResourceTypes'>>;
  close(): Promise<void>;
}

export type AnyRunner = Runner<'ldap'> | Runner<'sql'> | Runner<'scim'>;

/** Runs an export on a runner of the same kind; undefined when the kinds differ. */
export function runExport(
  runner: AnyRunner,
  payload: ExportPayload,
  signal: AbortSignal,
): Promise<ResultData<'export'>> | undefined {
  if (runner.kind === 'ldap' && payload.connector === 'ldap') return runner.export(payload, signal);
  if (runner.kind === 'sql' && payload.connector === 'sql') return runner.export(payload, signal);
  if (runner.kind === 'scim' && payload.connector === 'scim') return runner.export(payload, signal);
  return undefined;
}

/** The URL a data source connects to: what the host allow-list is checked against. */
export const urlOf = (config: DataSourceConfig): string =>
  config.type === 'scim' ? config.baseUrl : config.url;

/** Creates the runner for a config; the connector module loads on first use of its kind. */
export async function openRunner(config: DataSourceConfig): Promise<AnyRunner> {
  if (config.type === 'ldap') return (await import('./ldap/runner.ts')).ldapRunner(config);
  if (config.type === 'sql') return (await import('./sql/runner.ts')).sqlRunner(config);
  return (await import('./scim/runner.ts')).scimRunner(config);
}
