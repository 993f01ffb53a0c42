import { describe, expect, it } from 'vitest';
import { createApp } from '../api/app.ts';
import { createDb } from '../db/client.ts';
import { createHarness } from '../test/harness.ts';

const h = createHarness();

describe('infrastructure failures', () => {
  it('a database outage is a 503 SCIM error with a request id, never a 404', async () => {
    const t = await h.tenant();
    const down = createDb('postgres://nobody:x@127.0.0.1:1/none', { max: 1 });
    const app = createApp({ ...h.services, db: down });
    for (const path of ['/scim/v2/Users', '/scim/v2/Users/6f1d3c8e-4a8e-4b5b-9d3f-0a6f0c1c2b3d']) {
      const res = await app.request(`http://hub.test${path}`, {
        headers: { Authorization: `Bearer ${t.scimToken}` },
      });
      expect(res.status).toBe(503);
      const requestId = res.headers.get('x-request-id');
      const body = (await res.json()) as { schemas: string[]; status: string; detail: string };
      expect(body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
      expect(body.status).toBe('503');
      expect(body.detail).toContain(requestId);
      expect(res.headers.get('retry-after')).toBe('5');
    }
    await down.close();
  });

  it('an unexpected failure is a 500 with a request id and no internals', async () => {
    const t = await h.tenant();
    const broken = {
      ...h.services.db,
      db: new Proxy(h.services.db.db, {
        get(target, prop, receiver) {
          if (prop === 'transaction')
            return () => Promise.reject(new TypeError('boom: secret detail'));
          return Reflect.get(target, prop, receiver);
        },
      }),
    };
    const app = createApp({ ...h.services, db: broken });
    const res = await app.request('http://hub.test/scim/v2/Users', {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.scimToken}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'x',
      }),
    });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('secret detail');
    expect(JSON.parse(text).detail).toContain(res.headers.get('x-request-id'));
  });
});
