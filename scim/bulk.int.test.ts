import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';
import {
  BULK_REQUEST,
  BULK_RESPONSE,
  checkedClient,
  createGroup,
  createUser,
  ENTERPRISE,
  ERROR,
  GROUP,
  groupBody,
  patchBody,
  type ScimClient,
  userBody,
} from '../test/scim-helpers.ts';

const h = createHarness();
const BASE = 'http://hub.test/scim/v2';

type Op = Record<string, unknown>;
type OpResult = {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: Record<string, unknown>;
};

async function fresh(): Promise<{ c: ScimClient; tenantId: string }> {
  const t = await h.tenant();
  return { c: checkedClient(h, t.scimToken), tenantId: t.tenantId };
}

const bulk = (c: ScimClient, Operations: Op[], extra: Record<string, unknown> = {}) =>
  c.post('/Bulk', { schemas: [BULK_REQUEST], Operations, ...extra });

const postUser = (bulkId: string, userName: string, extra: Record<string, unknown> = {}): Op => ({
  method: 'POST',
  path: '/Users',
  bulkId,
  data: userBody(userName, extra),
});

const postGroup = (bulkId: string, displayName: string, members: string[] = []): Op => ({
  method: 'POST',
  path: '/Groups',
  bulkId,
  data: groupBody(displayName, members),
});

async function countRows(tenantId: string) {
  const [u] = await h.db.sql`select count(*)::int as n from users where tenant_id = ${tenantId}`;
  const [g] = await h.db.sql`select count(*)::int as n from groups where tenant_id = ${tenantId}`;
  const [m] = await h.db
    .sql`select count(*)::int as n from group_members where tenant_id = ${tenantId}`;
  return { users: u?.n as number, groups: g?.n as number, members: m?.n as number };
}

function results(res: { status: number; body: { schemas: string[]; Operations: OpResult[] } }) {
  expect(res.status).toBe(200);
  expect(res.body.schemas).toEqual([BULK_RESPONSE]);
  for (const op of res.body.Operations) expect(typeof op.status).toBe('string');
  return res.body.Operations;
}

describe('limits', () => {
  it('advertises maxOperations 1000 and maxPayloadSize 1 MB', async () => {
    const res = await h.request('GET', '/scim/v2/ServiceProviderConfig');
    expect(res.body.bulk).toEqual({
      supported: true,
      maxOperations: 1000,
      maxPayloadSize: 1_048_576,
    });
  });

  it('runs 1000 operations', async () => {
    const { c, tenantId } = await fresh();
    const ops = Array.from({ length: 1000 }, (_, i) => postUser(`u${i}`, `max-${i}`));
    const out = results(await bulk(c, ops));
    expect(out).toHaveLength(1000);
    expect(out.every((o) => o.status === '201')).toBe(true);
    expect((await countRows(tenantId)).users).toBe(1000);
  });

  it('refuses 1001 operations with 413 and runs none', async () => {
    const { c, tenantId } = await fresh();
    const ops = Array.from({ length: 1001 }, (_, i) => postUser(`u${i}`, `over-${i}`));
    const res = await bulk(c, ops);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '413' });
    expect((await countRows(tenantId)).users).toBe(0);
  });

  it('refuses a payload over maxPayloadSize with 413 and accepts one of exactly that size', async () => {
    const { c, tenantId } = await fresh();
    const limit = 1_048_576;
    const make = (size: number) => {
      const body = JSON.stringify({
        schemas: [BULK_REQUEST],
        Operations: [postUser('a', `size-${size}`)],
      });
      // Whitespace padding keeps the JSON valid and the operations unchanged.
      return `${body.slice(0, -1)}${' '.repeat(size - body.length)}}`;
    };
    const over = await c.post('/Bulk', make(limit + 1));
    expect(over.status).toBe(413);
    expect((await countRows(tenantId)).users).toBe(0);
    const exact = await c.post('/Bulk', make(limit));
    expect(results(exact)[0]?.status).toBe('201');
  });
});

describe('bulkId references', () => {
  for (const order of ['user first', 'group first'] as const) {
    it(`creates a user and a group holding it in one request (${order})`, async () => {
      const { c, tenantId } = await fresh();
      const user = postUser('alice', 'alice');
      const group = postGroup('admins', 'admins', ['bulkId:alice']);
      const out = results(await bulk(c, order === 'user first' ? [user, group] : [group, user]));
      expect(out).toHaveLength(2);
      // Results come back in request order.
      const byId = Object.fromEntries(out.map((o) => [o.bulkId, o]));
      expect(out.map((o) => o.bulkId)).toEqual(
        order === 'user first' ? ['alice', 'admins'] : ['admins', 'alice'],
      );
      for (const o of out) {
        expect(o.status).toBe('201');
        expect(o.method).toBe('POST');
        expect(o.version).toMatch(/^W\//);
      }
      const userId = byId.alice?.location?.split('/').pop() as string;
      const groupId = byId.admins?.location?.split('/').pop() as string;
      expect(byId.alice?.location).toBe(`${BASE}/Users/${userId}`);
      expect(byId.admins?.location).toBe(`${BASE}/Groups/${groupId}`);
      const g = await c.get(`/Groups/${groupId}`);
      expect(g.body.members).toEqual([expect.objectContaining({ value: userId, type: 'User' })]);
      expect(g.body.meta.version).toBe(byId.admins?.version);
      const u = await c.get(`/Users/${userId}?attributes=groups`);
      expect(u.body.groups).toEqual([expect.objectContaining({ value: groupId })]);
      expect(await countRows(tenantId)).toEqual({ users: 1, groups: 1, members: 1 });
    });
  }

  it('resolves bulkIds in paths and chains of references', async () => {
    const { c } = await fresh();
    const out = results(
      await bulk(c, [
        {
          method: 'PATCH',
          path: '/Groups/bulkId:outer',
          data: patchBody({ op: 'add', path: 'members', value: [{ value: 'bulkId:bob' }] }),
        },
        postGroup('outer', 'outer', ['bulkId:inner']),
        postGroup('inner', 'inner', ['bulkId:carol']),
        postUser('carol', 'carol'),
        postUser('bob', 'bob', { [ENTERPRISE]: { manager: { value: 'bulkId:carol' } } }),
      ]),
    );
    expect(out.map((o) => o.status)).toEqual(['200', '201', '201', '201', '201']);
    const outerId = out[1]?.location?.split('/').pop() as string;
    expect(out[0]?.location).toBe(`${BASE}/Groups/${outerId}`);
    const outer = await c.get(`/Groups/${outerId}`);
    expect(outer.body.members).toHaveLength(2);
    const bobId = out[4]?.location?.split('/').pop() as string;
    const carolId = out[3]?.location?.split('/').pop() as string;
    const bob = await c.get(`/Users/${bobId}`);
    expect(bob.body[ENTERPRISE].manager.value).toBe(carolId);
    const carol = await c.get(`/Users/${carolId}?attributes=groups`);
    const groups = Object.fromEntries(
      carol.body.groups.map((g: { display: string; type: string }) => [g.display, g.type]),
    );
    expect(groups).toEqual({ inner: 'direct', outer: 'indirect' });
  });

  it('rejects circular references with 409 and creates nothing', async () => {
    const { c, tenantId } = await fresh();
    const out = results(
      await bulk(c, [
        postGroup('a', 'cycle-a', ['bulkId:b']),
        postGroup('b', 'cycle-b', ['bulkId:a']),
        postGroup('self', 'cycle-self', ['bulkId:self']),
      ]),
    );
    expect(out.map((o) => o.status)).toEqual(['409', '409', '409']);
    for (const o of out) {
      expect(o.location).toBeUndefined();
      expect(o.response).toMatchObject({ schemas: [ERROR], status: '409' });
    }
    expect(await countRows(tenantId)).toEqual({ users: 0, groups: 0, members: 0 });
  });

  it('fails only the operation whose bulkId reference is unknown or failed', async () => {
    const { c, tenantId } = await fresh();
    const existing = await createUser(c, 'taken');
    const out = results(
      await bulk(c, [
        postGroup('g1', 'refs-unknown', ['bulkId:nobody']),
        postUser('dup', 'taken'),
        postGroup('g2', 'refs-failed', ['bulkId:dup']),
        postGroup('g3', 'refs-fine', [existing]),
      ]),
    );
    expect(out.map((o) => o.bulkId)).toEqual(['g1', 'dup', 'g2', 'g3']);
    expect(['400', '409']).toContain(out[0]?.status);
    expect(out[1]).toMatchObject({ status: '409', response: { scimType: 'uniqueness' } });
    expect(['400', '409']).toContain(out[2]?.status);
    expect(out[3]?.status).toBe('201');
    const names = await h.db.sql`select display_name from groups where tenant_id = ${tenantId}`;
    expect(names.map((r) => r.display_name)).toEqual(['refs-fine']);
    expect((await countRows(tenantId)).users).toBe(1);
  });

  it('refuses duplicate bulkIds and a POST without bulkId as a whole-request 400', async () => {
    const { c, tenantId } = await fresh();
    const dup = await bulk(c, [postUser('x', 'x1'), postUser('x', 'x2')]);
    expect(dup.status).toBe(400);
    const noId = await bulk(c, [{ method: 'POST', path: '/Users', data: userBody('y') }]);
    expect(noId.status).toBe(400);
    expect((await countRows(tenantId)).users).toBe(0);
  });
});

describe('failOnErrors', () => {
  it('stops after N errors; later operations are not executed', async () => {
    const { c, tenantId } = await fresh();
    await createUser(c, 'exists');
    const out = results(
      await bulk(
        c,
        [
          postUser('a', 'exists'),
          postUser('b', 'ok-1'),
          { method: 'DELETE', path: `/Users/${randomUUID()}` },
          postUser('c', 'never-1'),
          postGroup('d', 'never-group'),
        ],
        { failOnErrors: 2 },
      ),
    );
    expect(out.map((o) => o.status)).toEqual(['409', '201', '404']);
    const users = await h.db.sql`select user_name from users where tenant_id = ${tenantId}
      order by user_name`;
    expect(users.map((r) => r.user_name)).toEqual(['exists', 'ok-1']);
    expect((await countRows(tenantId)).groups).toBe(0);
  });

  it('failOnErrors=1 stops at the first error; without it every operation runs', async () => {
    const { c, tenantId } = await fresh();
    const ops = [
      {
        method: 'PATCH',
        path: `/Users/${randomUUID()}`,
        data: patchBody({ op: 'remove', path: 'title' }),
      },
      postUser('a', 'after-error'),
    ];
    const stopped = results(await bulk(c, ops, { failOnErrors: 1 }));
    expect(stopped.map((o) => o.status)).toEqual(['404']);
    expect((await countRows(tenantId)).users).toBe(0);
    const all = results(await bulk(c, ops));
    expect(all.map((o) => o.status)).toEqual(['404', '201']);
    expect((await countRows(tenantId)).users).toBe(1);
  });

  it('refuses a non-integer failOnErrors', async () => {
    const { c } = await fresh();
    const res = await bulk(c, [postUser('a', 'a')], { failOnErrors: 'many' });
    expect(res.status).toBe(400);
  });
});

describe('PUT, PATCH and DELETE through bulk', () => {
  it('honours version as If-Match and reports location and version', async () => {
    const { c } = await fresh();
    const u = await createUser(c, 'versioned');
    const g = await createGroup(c, 'vgroup');
    const uv = (await c.get(`/Users/${u}`)).body.meta.version as string;
    const gv = (await c.get(`/Groups/${g}`)).body.meta.version as string;
    const stale = results(
      await bulk(c, [
        { method: 'PUT', path: `/Users/${u}`, version: 'W/"99"', data: userBody('renamed') },
        {
          method: 'PATCH',
          path: `/Groups/${g}`,
          version: 'W/"99"',
          data: patchBody({ op: 'add', path: 'members', value: [{ value: u }] }),
        },
        { method: 'DELETE', path: `/Users/${u}`, version: 'W/"99"' },
      ]),
    );
    expect(stale.map((o) => o.status)).toEqual(['412', '412', '412']);
    for (const o of stale) expect(o.response).toMatchObject({ schemas: [ERROR], status: '412' });
    expect((await c.get(`/Users/${u}`)).body.userName).toBe('versioned');
    expect((await c.get(`/Groups/${g}`)).body.members).toBeUndefined();

    const fine = results(
      await bulk(c, [
        { method: 'PUT', path: `/Users/${u}`, version: uv, data: userBody('renamed') },
        {
          method: 'PATCH',
          path: `/Groups/${g}`,
          version: gv,
          data: patchBody({ op: 'add', path: 'members', value: [{ value: u }] }),
        },
      ]),
    );
    expect(fine.map((o) => o.status)).toEqual(['200', '200']);
    expect(fine[0]?.location).toBe(`${BASE}/Users/${u}`);
    expect(fine[1]?.location).toBe(`${BASE}/Groups/${g}`);
    const user = await c.get(`/Users/${u}`);
    const group = await c.get(`/Groups/${g}`);
    expect(fine[0]?.version).toBe(user.body.meta.version);
    expect(fine[1]?.version).toBe(group.body.meta.version);
    expect(user.body.userName).toBe('renamed');
    expect(group.body.members).toHaveLength(1);

    const del = results(
      await bulk(c, [
        { method: 'DELETE', path: `/Groups/${g}`, version: group.body.meta.version },
        { method: 'DELETE', path: `/Users/${u}`, version: '*' },
      ]),
    );
    expect(del.map((o) => o.status)).toEqual(['204', '204']);
    expect(del[0]?.location).toBe(`${BASE}/Groups/${g}`);
    expect(del[1]?.location).toBe(`${BASE}/Users/${u}`);
    expect((await c.get(`/Groups/${g}`)).status).toBe(404);
    expect((await c.get(`/Users/${u}`)).status).toBe(404);
  });

  it('reports errors per operation with a SCIM error body and the location', async () => {
    const { c } = await fresh();
    const u = await createUser(c, 'err');
    const missing = randomUUID();
    const out = results(
      await bulk(c, [
        { method: 'PATCH', path: `/Users/${u}`, data: patchBody({ op: 'explode', path: 'x' }) },
        { method: 'PUT', path: `/Users/${missing}`, data: userBody('ghost') },
        { method: 'POST', path: '/Nope', bulkId: 'n', data: userBody('n') },
        { method: 'PUT', path: `/Users/${u}`, data: { schemas: [GROUP], displayName: 'x' } },
      ]),
    );
    expect(out.map((o) => o.status)).toEqual(['400', '404', '400', '400']);
    expect(out[0]?.location).toBe(`${BASE}/Users/${u}`);
    expect(out[1]?.location).toBe(`${BASE}/Users/${missing}`);
    expect(out[2]?.location).toBeUndefined();
    for (const o of out) {
      expect(o.response?.schemas).toEqual([ERROR]);
      expect(o.response?.status).toBe(o.status);
    }
    expect((await c.get(`/Users/${u}`)).body.meta.version).toBe('W/"1"');
  });

  it('answers 400 for a malformed bulk request', async () => {
    const { c } = await fresh();
    const cases: unknown[] = [
      { Operations: [postUser('a', 'a')] },
      { schemas: [BULK_REQUEST] },
      { schemas: [BULK_REQUEST], Operations: [] },
      { schemas: [BULK_REQUEST], Operations: [{ method: 'GET', path: '/Users' }] },
      { schemas: [BULK_REQUEST], Operations: [{ method: 'POST', bulkId: 'a', data: {} }] },
      { schemas: [BULK_REQUEST], Operations: ['x'] },
      { schemas: [BULK_REQUEST], Operations: [{ method: 'PUT', path: '/Users/x', data: [] }] },
    ];
    for (const body of cases) {
      const res = await c.post('/Bulk', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.schemas).toEqual([ERROR]);
    }
  });
});
