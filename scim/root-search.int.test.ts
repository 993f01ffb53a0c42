import { describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';

const h = createHarness();
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

describe('POST /.search at the root', () => {
  it('searches users and groups together, users first, paged over both', async () => {
    const t = await h.tenant();
    const s = h.scimClient(t.scimToken);
    for (const n of ['u1', 'u2'])
      await s.post('/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: n,
      });
    await s.post('/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'g1',
    });
    const all = await s.post('/.search', { schemas: [SEARCH] });
    expect(all.status).toBe(200);
    expect(all.body.totalResults).toBe(3);
    expect(all.body.Resources.map((r: any) => r.userName ?? r.displayName)).toEqual([
      'u1',
      'u2',
      'g1',
    ]);
    const page = await s.post('/.search', { schemas: [SEARCH], startIndex: 2, count: 2 });
    expect(page.body.Resources.map((r: any) => r.userName ?? r.displayName)).toEqual(['u2', 'g1']);
    expect(page.body.totalResults).toBe(3);
  });

  it('a filter on a user-only attribute selects users only', async () => {
    const t = await h.tenant();
    const s = h.scimClient(t.scimToken);
    await s.post('/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'bob',
    });
    await s.post('/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'bob',
    });
    const res = await s.post('/.search', { schemas: [SEARCH], filter: 'userName eq "BOB"' });
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0].userName).toBe('bob');
  });

  it('a filter that fits neither type is 400 invalidFilter', async () => {
    const t = await h.tenant();
    const res = await h
      .scimClient(t.scimToken)
      .post('/.search', { schemas: [SEARCH], filter: 'nope eq "x"' });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidFilter');
  });

  it('requires the SearchRequest schema', async () => {
    const t = await h.tenant();
    const res = await h.scimClient(t.scimToken).post('/.search', { filter: 'userName pr' });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidSyntax');
  });
});
