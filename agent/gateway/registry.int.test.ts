import { describe, expect, it } from 'vitest';
import { admin, auditOf, refused } from '../../api/identity/test-fixtures.ts';
import { createHarness } from '../../test/harness.ts';
import { fingerprintOfPem, verifyAgentPassword } from './credentials.ts';
import {
  createDataSource,
  deleteDataSource,
  listAgents,
  registerAgent,
  revokeAgent,
  updateDataSource,
} from './registry.ts';
import { selfSignedPem } from './test-certificate.ts';

const h = createHarness();
const db = h.db.db;

const ldapDirect = {
  url: 'ldap://127.0.0.1:389',
  bindDn: 'cn=admin,dc=ex,dc=com',
  password: 's3cret-bind',
  baseDn: 'dc=ex,dc=com',
};

describe('agent registry', () => {
  it('registers an agent with basic credentials: hash stored, password returned once', async () => {
    const t = await h.tenant();
    const r = await registerAgent(db, t.tenantId, admin, { name: 'dc1-agent', group: 'dc1' });
    expect(r.userName).toMatch(/^agt_[0-9a-f]{20}$/);
    expect(r.password).toMatch(/^idha_/);
    expect(r.agent).toMatchObject({ name: 'dc1-agent', agentGroup: 'dc1', certFingerprint: null });
    expect(r.agent).not.toHaveProperty('passwordHash');
    const [row] = await h.db.sql`select password_hash from agents where id = ${r.agent.id}`;
    expect(row?.password_hash).not.toContain(r.password);
    expect(await verifyAgentPassword(r.password ?? '', row?.password_hash)).toBe(true);

    const audit = await auditOf(h, t.tenantId);
    expect(audit).toEqual([
      expect.objectContaining({ action: 'agent.register', target_id: r.agent.id }),
    ]);
    expect(JSON.stringify(audit)).not.toContain(r.password);
  });

  it('registers a certificate by PEM or fingerprint, once across all tenants', async () => {
    const [a, b] = [await h.tenant(), await h.tenant()];
    const pem = await selfSignedPem();
    const fp = fingerprintOfPem(pem);
    const byPem = await registerAgent(db, a.tenantId, admin, {
      name: 'cert-only',
      certificatePem: pem,
      basic: false,
    });
    expect(byPem).toMatchObject({ userName: null, password: null });
    expect(byPem.agent.certFingerprint).toBe(fp);

    // The same certificate, as lower-case hex without colons, in another tenant.
    const plain = fp.replaceAll(':', '').toLowerCase();
    const err = await refused(
      registerAgent(db, b.tenantId, admin, { name: 'x', certificateFingerprint: plain }),
      'conflict',
    );
    expect(err.message).toBe('this certificate is already registered to an agent');
    expect(err.message).not.toContain(a.tenantId);
    expect(await listAgents(db, b.tenantId, { includeRevoked: true })).toEqual([]);
  });

  it('refuses bad input and writes nothing', async () => {
    const t = await h.tenant();
    const cases = [
      { name: '' },
      { name: '-starts-with-dash' },
      { name: 'x'.repeat(65) },
      { name: 'ok', group: 'bad group' },
      { name: 'ok', certificatePem: 'not a pem' },
      { name: 'ok', certificateFingerprint: 'AB:CD' },
      { name: 'ok', certificateFingerprint: 'AB'.repeat(32), certificatePem: 'x' },
      { name: 'ok', basic: false },
    ];
    for (const input of cases)
      await refused(registerAgent(db, t.tenantId, admin, input), 'invalid');
    await registerAgent(db, t.tenantId, admin, { name: 'Dup' });
    const dup = await refused(registerAgent(db, t.tenantId, admin, { name: 'dup' }), 'conflict');
    expect(dup.message).toContain('"dup" already exists');
    expect((await listAgents(db, t.tenantId)).map((a) => a.name)).toEqual(['Dup']);
    expect((await auditOf(h, t.tenantId)).length).toBe(1);
  });

  it('revokes once (audited), twice harmlessly; another tenant cannot', async () => {
    const [a, b] = [await h.tenant(), await h.tenant()];
    const { agent } = await registerAgent(db, a.tenantId, admin, { name: 'gone' });
    await refused(revokeAgent(db, b.tenantId, admin, agent.id), 'not_found');
    await refused(revokeAgent(db, a.tenantId, admin, 'not-a-uuid'), 'not_found');
    const first = await revokeAgent(db, a.tenantId, admin, agent.id);
    expect(first.changed).toBe(true);
    expect(first.agent.revokedAt).toBeInstanceOf(Date);
    const second = await revokeAgent(db, a.tenantId, admin, agent.id);
    expect(second).toMatchObject({ changed: false, agent: { revokedAt: first.agent.revokedAt } });
    expect(await listAgents(db, a.tenantId)).toEqual([]);
    expect(await listAgents(db, a.tenantId, { includeRevoked: true })).toHaveLength(1);
    expect((await auditOf(h, a.tenantId)).map((r) => r.action)).toEqual([
      'agent.register',
      'agent.revoke',
    ]);
  });
});

describe('data source registry', () => {
  it('creates a direct data source only with a complete config, secrets audited by key only', async () => {
    const t = await h.tenant();
    const missing = await refused(
      createDataSource(db, t.tenantId, admin, {
        name: 'corp',
        kind: 'ldap',
        agentEnabled: false,
        config: { url: ldapDirect.url },
      }),
      'invalid',
    );
    expect(missing.message).toMatch(/^config: .*baseDn/);
    const ds = await createDataSource(db, t.tenantId, admin, {
      name: 'corp',
      kind: 'ldap',
      agentEnabled: false,
      config: ldapDirect,
    });
    expect(ds).toMatchObject({
      name: 'corp',
      kind: 'ldap',
      agentGroup: 'default',
      config: ldapDirect,
    });
    const audit = await auditOf(h, t.tenantId);
    expect(audit.map((r) => r.action)).toEqual(['dataSource.create']);
    expect(audit[0]?.summary).toMatchObject({
      configKeys: ['baseDn', 'bindDn', 'password', 'url'],
    });
    expect(JSON.stringify(audit)).not.toContain(ldapDirect.password);
  });

  it("refuses secrets for agent-enabled data sources: they stay in the agent's yaml", async () => {
    const t = await h.tenant();
    const err = await refused(
      createDataSource(db, t.tenantId, admin, {
        name: 'hr-db',
        kind: 'sql',
        agentEnabled: true,
        config: { table: 'people', auth: { token: 'x' }, url: 'postgres://u:pw@db/hr' },
      }),
      'invalid',
    );
    expect(err.message).toContain("auth.token: secrets stay in the agent's application.yaml");
    expect(err.message).toContain('url: secrets stay');
    expect(err.message).not.toContain('pw@');
    const ok = await createDataSource(db, t.tenantId, admin, {
      name: 'hr-db',
      kind: 'sql',
      agentEnabled: true,
      agentGroup: 'hq',
      config: { table: 'people' },
    });
    expect(ok.agentGroup).toBe('hq');
    await refused(
      createDataSource(db, t.tenantId, admin, {
        name: 'HR-DB',
        kind: 'scim',
        agentEnabled: true,
        config: {},
      }),
      'conflict',
    );
  });

  it('updates: a redacted secret sent back keeps the stored one; the result is validated', async () => {
    const t = await h.tenant();
    const ds = await createDataSource(db, t.tenantId, admin, {
      name: 'corp',
      kind: 'ldap',
      agentEnabled: false,
      config: ldapDirect,
    });
    const edited = await updateDataSource(db, t.tenantId, admin, ds.id, {
      config: { ...ldapDirect, password: '[redacted]', baseDn: 'ou=people,dc=ex,dc=com' },
    });
    expect(edited.config).toEqual({ ...ldapDirect, baseDn: 'ou=people,dc=ex,dc=com' });

    // Switching to agent mode with the stored password still in the config is refused…
    await refused(
      updateDataSource(db, t.tenantId, admin, ds.id, { agentEnabled: true }),
      'invalid',
    );
    // …and nothing changed.
    const [row] = await h.db
      .sql`select agent_enabled, config from data_sources where id = ${ds.id}`;
    expect(row).toMatchObject({ agent_enabled: false, config: edited.config });
    const moved = await updateDataSource(db, t.tenantId, admin, ds.id, {
      agentEnabled: true,
      config: { baseDn: 'dc=ex,dc=com' },
    });
    expect(moved).toMatchObject({ agentEnabled: true, config: { baseDn: 'dc=ex,dc=com' } });
    // A placeholder with nothing stored behind it is refused, never stored as the password.
    const back = await refused(
      updateDataSource(db, t.tenantId, admin, ds.id, {
        agentEnabled: false,
        config: { ...ldapDirect, password: '[redacted]' },
      }),
      'invalid',
    );
    expect(back.message).toContain('password: give the secret itself');
    const actions = (await auditOf(h, t.tenantId)).map((r) => r.action);
    expect(actions).toEqual(['dataSource.create', 'dataSource.update', 'dataSource.update']);
  });

  it('deletes within the tenant only', async () => {
    const [a, b] = [await h.tenant(), await h.tenant()];
    const ds = await createDataSource(db, a.tenantId, admin, {
      name: 'x',
      kind: 'scim',
      agentEnabled: true,
      config: {},
    });
    await refused(deleteDataSource(db, b.tenantId, admin, ds.id), 'not_found');
    await refused(updateDataSource(db, b.tenantId, admin, ds.id, { name: 'y' }), 'not_found');
    await deleteDataSource(db, a.tenantId, admin, ds.id);
    await refused(deleteDataSource(db, a.tenantId, admin, ds.id), 'not_found');
    expect((await auditOf(h, a.tenantId)).map((r) => r.action)).toEqual([
      'dataSource.create',
      'dataSource.delete',
    ]);
    expect(await auditOf(h, b.tenantId)).toEqual([]);
  });
});
