/** LDAP behind the protocol: payload → connector call, SchemaItem → attribute / class listing. */
import type { DataSourceConfig } from '../../config/index.ts';
import type { Runner } from '../runner.ts';
import { loadCa } from '../tls.ts';
import { createLdapConnector } from './connector.ts';

type LdapConfig = Extract<DataSourceConfig, { type: 'ldap' }>;

export async function ldapRunner(config: LdapConfig): Promise<Runner<'ldap'>> {
  const ca = await loadCa(config.tls.ca);
  const ldap = createLdapConnector({
    url: config.url,
    bindDn: config.bindDn,
    password: config.password.reveal(),
    tls: { startTls: config.tls.startTls, ...(ca ? { ca } : {}) },
  });
  return {
    kind: 'ldap',
    async testConnection() {
      const started = performance.now();
      const r = await ldap.testConnection();
      const latencyMs = Math.round(performance.now() - started);
      const vendor = r.vendor ? `${r.vendor}; ` : '';
      return { latencyMs, details: `${vendor}naming contexts: ${r.namingContexts.join(' | ')}` };
    },
    async search(p) {
      const page = await ldap.search({
        baseDn: p.base ?? config.baseDn,
        scope: p.scope,
        ...(p.filter ? { filter: p.filter } : {}),
        attributes: p.attributes,
        pageSize: p.pageSize,
        ...(p.cookie ? { cookie: p.cookie } : {}),
      });
      return { entries: page.entries, cookie: page.cookie ?? null };
    },
    async export(p) {
      if (p.op === 'add') await ldap.add(p.dn, p.attributes);
      else if (p.op === 'modify') await ldap.modify(p.dn, p.changes);
      else if (p.op === 'modrdn') await ldap.modrdn(p.dn, p.newRdn, p.deleteOldRdn, p.newSuperior);
      else await ldap.delete(p.dn);
      return { id: p.dn };
    },
    async listAttributes() {
      const items = await ldap.listAttributes();
      const attributes = items.map((a) => ({
        name: a.name,
        ...(a.syntax ? { type: a.syntax } : {}),
        multiValued: !a.singleValue,
        required: false,
      }));
      return { attributes };
    },
    async listResourceTypes() {
      const classes = await ldap.listObjectClasses();
      const resourceTypes = classes.map((c) => ({
        name: c.name,
        ...(c.kind ? { description: c.kind } : {}),
      }));
      return { resourceTypes };
    },
    close: () => ldap.close(),
  };
}
