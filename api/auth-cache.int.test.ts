import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';
import { createAuthCache } from './auth-cache.ts';
import { createTenant, createToken } from './tenants.ts';

const h = createHarness();
const logger = pino({ level: 'silent' });
const unique = (p: string) => `${p}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
const caches: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const c of caches) await c.close();
});

/** Polls until `check` holds; notifications are asynchronous by nature. Bounded to 5 s. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached within 5 s');
    await h.db.sql`select 1`;
  }
}

describe('token authentication cache', () => {
  it('answers from cache: one lookup for many requests', async () => {
    const t = await createTenant(h.db.db, unique('c'));
    const tok = await createToken(h.db.db, t.id, ['scim']);
    let selects = 0;
    const counted = new Proxy(h.db.db, {
      get(target, prop, receiver) {
        if (prop === 'select') selects++;
        return Reflect.get(target, prop, receiver);
      },
    });
    const cache = await createAuthCache({ ...h.db, db: counted }, logger);
    caches.push(cache);
    for (let i = 0; i < 20; i++) expect((await cache.authenticate(tok.token))?.tenantId).toBe(t.id);
    expect(selects).toBe(1);
  });

  it('a revocation made elsewhere (another connection) reaches the cache at once', async () => {
    const t = await createTenant(h.db.db, unique('r'));
    const tok = await createToken(h.db.db, t.id, ['scim']);
    const cache = await createAuthCache(h.db, logger, { ttlMs: 3_600_000 });
    caches.push(cache);
    expect(await cache.authenticate(tok.token)).not.toBeNull();
    await h.db.sql`update api_tokens set revoked_at = now() where id = ${tok.id}`;
    await eventually(async () => (await cache.authenticate(tok.token)) === null);
  });

  it('disabling the tenant reaches the cache at once', async () => {
    const t = await createTenant(h.db.db, unique('d'));
    const tok = await createToken(h.db.db, t.id, ['scim']);
    const cache = await createAuthCache(h.db, logger, { ttlMs: 3_600_000 });
    caches.push(cache);
    expect(await cache.authenticate(tok.token)).not.toBeNull();
    await h.db.sql`update tenants set status = 'disabled' where id = ${t.id}`;
    await eventually(async () => (await cache.authenticate(tok.token)) === null);
  });

  it('never trusts a cached token past its own expiry', async () => {
    const t = await createTenant(h.db.db, unique('e'));
    const tok = await createToken(h.db.db, t.id, ['scim'], {
      expiresAt: new Date(Date.now() + 300),
    });
    const cache = await createAuthCache(h.db, logger, { ttlMs: 3_600_000 });
    caches.push(cache);
    expect(await cache.authenticate(tok.token)).not.toBeNull();
    await eventually(async () => (await cache.authenticate(tok.token)) === null);
  });

  it('does not cache unknown tokens', async () => {
    const cache = await createAuthCache(h.db, logger);
    caches.push(cache);
    expect(await cache.authenticate('idh_unknown-token-value')).toBeNull();
    expect(await cache.authenticate('idh_unknown-token-value')).toBeNull();
  });
});
