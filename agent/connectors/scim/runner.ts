/** SCIM behind the protocol: the payload's `base`, when given, names the endpoint to list. */
import type { DataSourceConfig } from '../../config/index.ts';
import type { Runner } from '../runner.ts';
import { loadCa } from '../tls.ts';
import { createScimConnector, type ScimExport } from './connector.ts';

type ScimConfig = Extract<DataSourceConfig, { type: 'scim' }>;

export async function scimRunner(config: ScimConfig): Promise<Runner<'scim'>> {
  const ca = await loadCa(config.tls?.ca);
  const a = config.auth;
  const scim = createScimConnector({
    baseUrl: config.baseUrl,
    auth:
      a.type === 'bearer'
        ? { type: 'bearer', token: a.token.reveal() }
        : { type: 'basic', userName: a.userName, password: a.password.reveal() },
    ...(ca ? { ca } : {}),
  });
  return {
    kind: 'scim',
    testConnection: (signal) => scim.testConnection({ signal }),
    search: (p, signal) =>
      scim.search(
        {
          ...(p.filter ? { filter: p.filter } : {}),
          attributes: p.attributes,
          pageSize: p.pageSize,
          cookie: p.cookie,
          ...(p.base ? { resourcePath: p.base } : {}),
        },
        { signal },
      ),
    export: (p, signal) => {
      const e: ScimExport =
        p.op === 'DELETE' ? { op: p.op, path: p.path } : { op: p.op, path: p.path, body: p.body };
      return scim.export(e, { signal });
    },
    listAttributes: (signal) => scim.listAttributes({ signal }),
    listResourceTypes: (signal) => scim.listResourceTypes({ signal }),
    close: () => scim.close(),
  };
}
