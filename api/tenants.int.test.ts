import { describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';
import {
  authenticateToken,
  createTenant,
  createToken,
  createUsageRecorder,
  findTenant,
  revokeToken,
  TenantError,
} from './tenants.ts';

const h = createHarness();
const unique = (p: string) => `${p}-${Date.now()}-${Math.random().toString(36).slice(2)}`;

describe('tenants and tokens', () => {
  it('tenant names are unique case-insensitively and must be printable', async () => {
    const name = unique('Acme');
    const t = await createTenant(h.db.db, name);
    await expect(createTenant(h.db.db, name.toUpperCase())).rejects.toMatchObject({
      code: 'tenant_exists',
    });
    await expect(createTenant(h.db.db, '  ')).rejects.toBeInstanceOf(TenantError);
    await expect(createTenant(h.db.db, 'bad\u0007name')).rejects.toMatchObject({
      code: 'invalid_name',
    });
    expect((await findTenant(h.db.db, name.toLowerCase())).id).toBe(t.id);
    expect((await findTenant(h.db.db, t.id)).name).toBe(name);
  });

  it('a token authenticates to its tenant with its scopes only', async () => {
    const a = await createTenant(h.db.db, unique('a'));
    const tok = await createToken(h.db.db, a.id, ['scim', 'admin']);
    expect(tok.token.startsWith(tok.prefix)).toBe(true);
    const p = await authenticateToken(h.db.db, tok.token);
    expect(p).toEqual({
      tokenId: tok.id,
      tenantId: a.id,
      scopes: ['scim', 'admin'],
      expiresAt: null,
    });
    expect(await authenticateToken(h.db.db, `${tok.token}x`)).toBeNull();
  });

  it('revoking is immediate and idempotent; an unknown id is an error', async () => {
    const a = await createTenant(h.db.db, unique('r'));
    const tok = await createToken(h.db.db, a.id, ['scim']);
    await revokeToken(h.db.db, tok.id);
    await revokeToken(h.db.db, tok.id);
    expect(await authenticateToken(h.db.db, tok.token)).toBeNull();
    await expect(
      revokeToken(h.db.db, '00000000-0000-4000-8000-000000000000'),
    ).rejects.toMatchObject({
      code: 'token_not_found',
    });
    await expect(revokeToken(h.db.db, 'not-a-uuid')).rejects.toMatchObject({
      code: 'token_not_found',
    });
  });

  it('a disabled tenant’s tokens stop working', async () => {
    const a = await createTenant(h.db.db, unique('d'));
    const tok = await createToken(h.db.db, a.id, ['scim']);
    await h.db.sql`update tenants set status = 'disabled' where id = ${a.id}`;
    expect(await authenticateToken(h.db.db, tok.token)).toBeNull();
  });

  it('records last use at most once a minute per token', async () => {
    const a = await createTenant(h.db.db, unique('u'));
    const tok = await createToken(h.db.db, a.id, ['scim']);
    const errors: unknown[] = [];
    const record = createUsageRecorder(h.db.db, (e) => errors.push(e));
    const [before] = await h.db.sql`select last_used_at from api_tokens where id = ${tok.id}`;
    expect(before?.last_used_at).toBeNull();
    await record(tok.id);
    const [after] = await h.db.sql`select last_used_at from api_tokens where id = ${tok.id}`;
    expect(after?.last_used_at).not.toBeNull();
    expect(record(tok.id)).toBeUndefined();
    expect(errors).toEqual([]);
  });
});
