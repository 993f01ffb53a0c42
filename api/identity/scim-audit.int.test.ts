import { describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import { auditOf } from './test-fixtures.ts';

const h = createHarness();
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

async function scimTenant() {
  const t = await h.tenant();
  const [token] = await h.db.sql`select id::text from api_tokens
    where tenant_id = ${t.tenantId} and 'scim' = any(scopes)`;
  return { ...t, tokenId: token!.id as string, c: h.scimClient(t.scimToken) };
}

describe('audit log of SCIM writes', () => {
  it('records every write with the token as actor, attribute names and member counts', async () => {
    const t = await scimTenant();
    const secret = 'Sup3r-Secret-Value!';
    const created = await t.c.post('/Users', {
      schemas: [USER],
      userName: 'audited',
      password: secret,
      name: { givenName: 'Au' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const put = await t.c.put(`/Users/${id}`, {
      schemas: [USER],
      userName: 'audited',
      name: { givenName: 'Au' },
      title: 'Boss',
      [ENTERPRISE]: { department: 'R&D' },
    });
    expect(put.status).toBe(200);
    const patched = await t.c.patch(`/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(patched.status).toBe(204);
    const u2 = (await t.c.post('/Users', { schemas: [USER], userName: 'second' })).body.id;
    const g = await t.c.post('/Groups', {
      schemas: [GROUP],
      displayName: 'G',
      members: [{ value: id }],
    });
    expect(g.status).toBe(201);
    await t.c.patch(`/Groups/${g.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: u2 }] }],
    });
    const del = await t.c.delete(`/Users/${id}`);
    expect(del.status).toBe(204);
    const bulk = await t.c.post('/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        {
          method: 'POST',
          bulkId: 'b1',
          path: '/Users',
          data: { schemas: [USER], userName: 'bulk' },
        },
      ],
    });
    expect(bulk.status).toBe(200);

    const rows = await auditOf(h, t.tenantId);
    expect(rows.map((r) => [r.action, r.target_type, r.target_id === id])).toEqual([
      ['scim.user.create', 'User', true],
      ['scim.user.replace', 'User', true],
      ['scim.user.patch', 'User', true],
      ['scim.user.create', 'User', false],
      ['scim.group.create', 'Group', false],
      ['scim.group.patch', 'Group', false],
      ['scim.user.delete', 'User', true],
      ['scim.user.create', 'User', false],
    ]);
    for (const r of rows) expect(r).toMatchObject({ actor_type: 'token', actor_id: t.tokenId });
    expect(rows.every((r) => typeof r.request_id === 'string' && r.request_id.length > 0)).toBe(
      true,
    );
    expect(rows[6]?.request_id).toBe(del.headers.get('x-request-id'));
    expect(rows[1]?.summary).toEqual({
      attributes: ['schemas', 'title', `${ENTERPRISE}:department`],
    });
    expect(rows[2]?.summary).toEqual({ attributes: ['active'] });
    expect(rows[4]?.summary).toMatchObject({ members: { added: 1, removed: 0, cleared: false } });
    expect(rows[5]?.summary).toEqual({
      attributes: [],
      members: { added: 1, removed: 0, cleared: false },
    });
    expect(rows[6]?.summary).toEqual({ groupsLeft: 1 });
    // Names only, never values.
    const all = JSON.stringify(rows);
    for (const value of [secret, 'Boss', 'R&D', 'Au']) expect(all).not.toContain(value);
  });

  it('records nothing for a refused or no-op write', async () => {
    const t = await scimTenant();
    const body = { schemas: [USER], userName: 'once' };
    const id = (await t.c.post('/Users', body)).body.id;
    expect((await t.c.post('/Users', body)).status).toBe(409);
    expect((await t.c.put(`/Users/${id}`, body)).status).toBe(200);
    expect((await t.c.put(`/Users/${id}`, body, { 'If-Match': 'W/"9"' })).status).toBe(412);
    expect((await auditOf(h, t.tenantId)).map((r) => r.action)).toEqual(['scim.user.create']);
  });

  it('keeps each tenant’s SCIM audit trail to itself', async () => {
    const a = await scimTenant();
    const b = await scimTenant();
    await a.c.post('/Users', { schemas: [USER], userName: 'a-user' });
    expect(await auditOf(h, b.tenantId)).toEqual([]);
    expect((await auditOf(h, a.tenantId)).length).toBe(1);
  });
});
