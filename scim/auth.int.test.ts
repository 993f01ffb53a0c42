import { describe, expect, it } from 'vitest';
import { createToken, revokeToken } from '../api/tenants.ts';
import { createHarness } from '../test/harness.ts';

const h = createHarness();
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

describe('SCIM authentication', () => {
  it('401 with a SCIM error and a Bearer challenge without a token', async () => {
    const res = await h.request('GET', '/scim/v2/Users');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.headers.get('content-type')).toMatch(/application\/scim\+json/);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '401' });
  });

  it('401 for an unknown token', async () => {
    const res = await h.request('GET', '/scim/v2/Users', { token: 'idh_not-a-real-token-at-all' });
    expect(res.status).toBe(401);
    expect(res.body.status).toBe('401');
  });

  it('accepts the scheme name in any case', async () => {
    const t = await h.tenant();
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await h.request('GET', '/scim/v2/Users', {
        headers: { Authorization: `${scheme} ${t.scimToken}` },
      });
      expect(res.status).toBe(200);
    }
  });

  it('refuses an admin-only token on SCIM with 403', async () => {
    const t = await h.tenant();
    const res = await h.request('GET', '/scim/v2/Users', { token: t.adminToken });
    expect(res.status).toBe(403);
  });

  it('refuses a revoked token and an expired token', async () => {
    const t = await h.tenant();
    const tok = await createToken(h.db.db, t.tenantId, ['scim']);
    expect((await h.request('GET', '/scim/v2/Users', { token: tok.token })).status).toBe(200);
    await revokeToken(h.db.db, tok.id);
    // The revocation reaches the hub's token cache through PostgreSQL NOTIFY: poll, bounded.
    const until = Date.now() + 5000;
    let status = 200;
    while (status === 200 && Date.now() < until) {
      status = (await h.request('GET', '/scim/v2/Users', { token: tok.token })).status;
    }
    expect(status).toBe(401);
    const expired = await createToken(h.db.db, t.tenantId, ['scim'], {
      expiresAt: new Date(Date.now() - 1000),
    });
    expect((await h.request('GET', '/scim/v2/Users', { token: expired.token })).status).toBe(401);
  });

  it('stores only the SHA-256 of a token', async () => {
    const t = await h.tenant();
    const rows = await h.db
      .sql`select hash, prefix from api_tokens where tenant_id = ${t.tenantId}`;
    for (const r of rows) {
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(t.scimToken.startsWith(r.prefix) || t.adminToken.startsWith(r.prefix)).toBe(true);
    }
    const clear = await h.db.sql`select 1 from api_tokens where hash = ${t.scimToken}`;
    expect(clear).toHaveLength(0);
  });

  it('serves discovery without a token', async () => {
    for (const p of ['/ServiceProviderConfig', '/Schemas', '/ResourceTypes']) {
      expect((await h.request('GET', `/scim/v2${p}`)).status).toBe(200);
    }
  });
});
