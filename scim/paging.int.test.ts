import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';
import {
  checkedClient,
  createGroup,
  createUser,
  LIST,
  patchBody,
  type ScimClient,
  SEARCH,
} from '../test/scim-helpers.ts';

const h = createHarness();

async function freshClient(): Promise<ScimClient> {
  const t = await h.tenant();
  return checkedClient(h, t.scimToken);
}

/**
 * Creates users one by one and returns their ids in order. The pause makes every `created`
 * (millisecond precision) distinct, so creation order is the default list order.
 */
async function seedUsers(
  c: ScimClient,
  specs: { userName: string; extra?: Record<string, unknown> }[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const s of specs) {
    ids.push(await createUser(c, s.userName, s.extra));
    await new Promise((r) => setTimeout(r, 2));
  }
  return ids;
}

const decode = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
/** The same cursor with some fields replaced (keeps its query binding). */
const forge = (cursor: string, change: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ q: decode(cursor).q, ...change })).toString('base64url');

const ids = (body: { Resources?: { id: string }[] }) => (body.Resources ?? []).map((r) => r.id);

/** Walks a listing with startIndex/count and returns every id seen, page by page. */
async function walkIndex(c: ScimClient, query: string, count: number): Promise<string[]> {
  const seen: string[] = [];
  for (let start = 1; ; start += count) {
    const res = await c.get(`/Users?${query}&startIndex=${start}&count=${count}`);
    expect(res.status).toBe(200);
    expect(res.body.startIndex).toBe(start);
    const page = ids(res.body);
    seen.push(...page);
    if (page.length < count) break;
  }
  return seen;
}

/** Walks a listing by cursor; `between` runs after each page (to write mid-walk). */
async function walkCursor(
  c: ScimClient,
  query: string,
  count: number,
  between: (page: number) => Promise<void> = async () => {},
): Promise<string[]> {
  const seen: string[] = [];
  let cursor = '';
  for (let page = 0; page < 100; page++) {
    const res = await c.get(`/Users?${query}&count=${count}&cursor=${encodeURIComponent(cursor)}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.startIndex).toBeUndefined();
    seen.push(...ids(res.body));
    if (!res.body.nextCursor) return seen;
    cursor = res.body.nextCursor;
    await between(page);
  }
  throw new Error(`cursor walk of "${query}" did not end`);
}

describe('sortBy', () => {
  it('sorts by userName ascending and descending, case-insensitively', async () => {
    const c = await freshClient();
    const [carol, alice, bob] = await seedUsers(c, [
      { userName: 'carol' },
      { userName: 'Alice' },
      { userName: 'bob' },
    ]);
    const asc = await c.get('/Users?sortBy=userName');
    expect(ids(asc.body)).toEqual([alice, bob, carol]);
    const desc = await c.get('/Users?sortBy=userName&sortOrder=descending');
    expect(ids(desc.body)).toEqual([carol, bob, alice]);
    const explicit = await c.get('/Users?sortBy=userName&sortOrder=ascending');
    expect(ids(explicit.body)).toEqual([alice, bob, carol]);
  });

  it('sorts by sub-attributes, extension attributes, meta and booleans', async () => {
    const c = await freshClient();
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const [u1, u2, u3] = await seedUsers(c, [
      {
        userName: 'u1',
        extra: { name: { familyName: 'Zeta' }, active: true, [ENT]: { employeeNumber: '2' } },
      },
      {
        userName: 'u2',
        extra: { name: { familyName: 'alpha' }, active: false, [ENT]: { employeeNumber: '3' } },
      },
      {
        userName: 'u3',
        extra: { name: { familyName: 'Mu' }, active: true, [ENT]: { employeeNumber: '1' } },
      },
    ]);
    expect(ids((await c.get('/Users?sortBy=name.familyName')).body)).toEqual([u2, u3, u1]);
    expect(ids((await c.get(`/Users?sortBy=${ENT}:employeeNumber`)).body)).toEqual([u3, u1, u2]);
    expect(ids((await c.get('/Users?sortBy=meta.created')).body)).toEqual([u1, u2, u3]);
    expect(ids((await c.get('/Users?sortBy=meta.created&sortOrder=descending')).body)).toEqual([
      u3,
      u2,
      u1,
    ]);
    // false < true; ties (u1, u3) keep creation order.
    expect(ids((await c.get('/Users?sortBy=active')).body)).toEqual([u2, u1, u3]);
    // lastModified: touching u1 moves it last.
    expect(
      (await c.patch(`/Users/${u1}`, patchBody({ op: 'replace', path: 'title', value: 'x' })))
        .status,
    ).toBe(204);
    expect(ids((await c.get('/Users?sortBy=meta.lastModified')).body)).toEqual([u2, u3, u1]);
  });

  it('breaks ties stably and puts resources without the attribute last', async () => {
    const c = await freshClient();
    const seeded = await seedUsers(
      c,
      Array.from({ length: 9 }, (_, i) => ({
        userName: `tie-${i}`,
        extra: i === 4 ? {} : { title: i % 2 ? 'B' : 'A' },
      })),
    );
    const [t0, t1, t2, t3, t4, t5, t6, t7, t8] = seeded;
    const asc = await c.get('/Users?sortBy=title');
    expect(ids(asc.body)).toEqual([t0, t2, t6, t8, t1, t3, t5, t7, t4]);
    const desc = await c.get('/Users?sortBy=title&sortOrder=descending');
    expect(ids(desc.body)).toEqual([t1, t3, t5, t7, t0, t2, t6, t8, t4]);
    // The same order whatever the page size.
    for (const count of [1, 2, 4, 5]) {
      expect(await walkIndex(c, 'sortBy=title', count)).toEqual(ids(asc.body));
      expect(await walkIndex(c, 'sortBy=title&sortOrder=descending', count)).toEqual(
        ids(desc.body),
      );
      expect(await walkCursor(c, 'sortBy=title', count)).toEqual(ids(asc.body));
      expect(await walkCursor(c, 'sortBy=title&sortOrder=descending', count)).toEqual(
        ids(desc.body),
      );
    }
  });

  it('sorts groups by displayName', async () => {
    const c = await freshClient();
    const b = await createGroup(c, 'beta');
    const a = await createGroup(c, 'Alpha');
    const res = await c.get('/Groups?sortBy=displayName');
    expect(ids(res.body)).toEqual([a, b]);
  });

  it('answers 400 for an unknown or membership sortBy and a bad sortOrder', async () => {
    const c = await freshClient();
    for (const q of [
      'sortBy=nope',
      'sortBy=name.nope',
      'sortBy=groups',
      'sortBy=userName&sortOrder=sideways',
    ]) {
      const res = await c.get(`/Users?${q}`);
      expect(res.status, q).toBe(400);
    }
    expect((await c.get('/Groups?sortBy=members')).status).toBe(400);
  });
});

describe('index pagination', () => {
  it('gives the same order across pages whatever the page size', async () => {
    const c = await freshClient();
    const seeded = await seedUsers(
      c,
      Array.from({ length: 11 }, (_, i) => ({ userName: `p-${String(10 - i).padStart(2, '0')}` })),
    );
    const all = await c.get('/Users');
    expect(ids(all.body)).toEqual(seeded);
    for (const count of [1, 2, 3, 4, 7, 11, 20]) {
      expect(await walkIndex(c, '', count), `count=${count}`).toEqual(seeded);
      expect(await walkIndex(c, 'sortBy=userName', count), `sorted count=${count}`).toEqual(
        [...seeded].reverse(),
      );
    }
  });

  it('reports the real totalResults on every page, with and without a filter', async () => {
    const c = await freshClient();
    await seedUsers(
      c,
      Array.from({ length: 7 }, (_, i) => ({
        userName: `tot-${i}`,
        extra: { title: i < 5 ? 'eng' : 'ops' },
      })),
    );
    const first = await c.get('/Users?count=2');
    expect(first.body).toMatchObject({
      schemas: [LIST],
      totalResults: 7,
      itemsPerPage: 2,
      startIndex: 1,
    });
    const last = await c.get('/Users?count=2&startIndex=7');
    expect(last.body).toMatchObject({ totalResults: 7, itemsPerPage: 1, startIndex: 7 });
    const filtered = await c.get(
      `/Users?filter=${encodeURIComponent('title eq "eng"')}&count=2&startIndex=3`,
    );
    expect(filtered.body).toMatchObject({ totalResults: 5, itemsPerPage: 2, startIndex: 3 });
    const beyond = await c.get('/Users?startIndex=50&count=5');
    expect(beyond.status).toBe(200);
    expect(beyond.body).toMatchObject({ totalResults: 7, itemsPerPage: 0 });
    expect(ids(beyond.body)).toEqual([]);
  });

  it('treats startIndex < 1 as 1 and count < 0 as 0', async () => {
    const c = await freshClient();
    const seeded = await seedUsers(c, [{ userName: 's1' }, { userName: 's2' }]);
    for (const start of ['0', '-5']) {
      const res = await c.get(`/Users?startIndex=${start}&count=1`);
      expect(res.status).toBe(200);
      expect(res.body.startIndex).toBe(1);
      expect(ids(res.body)).toEqual([seeded[0]]);
    }
    const neg = await c.get('/Users?count=-3');
    expect(neg.status).toBe(200);
    expect(neg.body.totalResults).toBe(2);
    expect(neg.body.Resources).toBeUndefined();
  });

  it('count=0 returns only totalResults', async () => {
    const c = await freshClient();
    await seedUsers(c, [{ userName: 'z1' }, { userName: 'z2' }, { userName: 'z3' }]);
    const res = await c.get('/Users?count=0');
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(3);
    expect(res.body.itemsPerPage).toBe(0);
    expect(res.body.Resources).toBeUndefined();
    const search = await c.post('/Users/.search', { schemas: [SEARCH], count: 0 });
    expect(search.body.totalResults).toBe(3);
    expect(search.body.Resources).toBeUndefined();
  });

  it('caps count at maxResults and still counts every row', async () => {
    const t = await h.tenant();
    const c = checkedClient(h, t.scimToken);
    const max = h.config.scim.maxResults;
    const n = max + 5;
    await h.db.sql`insert into users (tenant_id, user_name, user_name_key, doc)
      select ${t.tenantId}, 'bulk-' || i, 'bulk-' || i,
             jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User'),
                                'userName', 'bulk-' || i, 'active', true)
      from generate_series(1, ${n}) as i`;
    const res = await c.get(`/Users?count=${max * 10}&attributes=userName`);
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(n);
    expect(res.body.itemsPerPage).toBe(max);
    expect(res.body.Resources).toHaveLength(max);
    const rest = await c.get(`/Users?count=${max * 10}&startIndex=${max + 1}&attributes=userName`);
    expect(rest.body.itemsPerPage).toBe(5);
    const all = new Set([...ids(res.body), ...ids(rest.body)]);
    expect(all.size).toBe(n);
  });
});

describe('cursor pagination (RFC 9865)', () => {
  it('walks every resource exactly once, in order, for several page sizes', async () => {
    const c = await freshClient();
    const seeded = await seedUsers(
      c,
      Array.from({ length: 10 }, (_, i) => ({ userName: `c-${String(9 - i)}` })),
    );
    for (const count of [1, 3, 4, 10, 25]) {
      expect(await walkCursor(c, '', count), `count=${count}`).toEqual(seeded);
      expect(await walkCursor(c, 'sortBy=userName', count), `sorted count=${count}`).toEqual(
        [...seeded].reverse(),
      );
    }
  });

  it('walks by cursor over boolean, numeric-like, timestamp and missing sort keys', async () => {
    const c = await freshClient();
    await seedUsers(
      c,
      Array.from({ length: 8 }, (_, i) => ({
        userName: `k-${i}`,
        extra: {
          active: i % 3 !== 0,
          ...(i % 4 === 1 ? {} : { name: { familyName: `F${i % 3}` } }),
        },
      })),
    );
    for (const sort of ['active', 'name.familyName', 'meta.created', 'meta.lastModified', 'id']) {
      for (const order of ['ascending', 'descending']) {
        const q = `sortBy=${sort}&sortOrder=${order}`;
        const full = ids((await c.get(`/Users?${q}`)).body);
        expect(full).toHaveLength(8);
        for (const count of [1, 3]) {
          expect(await walkCursor(c, q, count), `${q} count=${count}`).toEqual(full);
        }
      }
    }
  });

  it('reports totalResults and nextCursor; the last page has none', async () => {
    const c = await freshClient();
    await seedUsers(c, [{ userName: 'n1' }, { userName: 'n2' }, { userName: 'n3' }]);
    const first = await c.get('/Users?cursor&count=2');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ totalResults: 3, itemsPerPage: 2 });
    expect(typeof first.body.nextCursor).toBe('string');
    const second = await c.get(`/Users?cursor=${first.body.nextCursor}&count=2`);
    expect(second.body).toMatchObject({ totalResults: 3, itemsPerPage: 1 });
    expect(second.body.nextCursor).toBeUndefined();
  });

  it('returns every original resource exactly once when resources are inserted mid-walk', async () => {
    const c = await freshClient();
    const seeded = await seedUsers(
      c,
      Array.from({ length: 12 }, (_, i) => ({ userName: `m-${String(i * 2 + 10)}` })),
    );
    let extra = 0;
    const insert = async () => {
      // One sorts before everything, one after, one in the middle.
      for (const name of [`a-${extra}`, `z-${extra}`, `m-${String(extra * 2 + 11)}`]) {
        await createUser(c, name);
      }
      extra++;
    };
    for (const query of ['', 'sortBy=userName', 'sortBy=userName&sortOrder=descending']) {
      const seen = await walkCursor(c, query, 4, insert);
      const originals = seen.filter((id) => seeded.includes(id));
      const expected =
        query === '' ? seeded : query.includes('descending') ? [...seeded].reverse() : seeded;
      expect(originals, `query "${query}"`).toEqual(expected);
      expect(new Set(seen).size, `no duplicates for "${query}"`).toBe(seen.length);
    }
  });

  it('works through POST /.search with the cursor in the body', async () => {
    const c = await freshClient();
    const seeded = await seedUsers(c, [{ userName: 'q1' }, { userName: 'q2' }, { userName: 'q3' }]);
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const res = await c.post('/Users/.search', { schemas: [SEARCH], cursor, count: 2 });
      expect(res.status, res.text).toBe(200);
      seen.push(...ids(res.body));
      if (!res.body.nextCursor) break;
      cursor = res.body.nextCursor;
    }
    expect(seen).toEqual(seeded);
  });

  it('answers 400 invalidCursor for garbage and for a cursor of another query', async () => {
    const c = await freshClient();
    await seedUsers(c, [{ userName: 'g1' }, { userName: 'g2' }, { userName: 'g3' }]);
    const first = await c.get('/Users?cursor=&count=1');
    const next = first.body.nextCursor as string;
    expect(next).toBeTruthy();
    const bad = [
      'garbage',
      '!!!',
      Buffer.from('{"q":"x"}').toString('base64url'),
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('null').toString('base64url'),
      forge(next, { after: { id: 'nope', createdAt: '2024-01-01T00:00:00.000Z' } }),
      forge(next, { after: { id: randomUUID(), createdAt: '123' } }),
      forge(next, { after: { id: randomUUID(), createdAt: '2024-01-01T00:00:00.000Z', key: 'x' } }),
      forge(next, { offset: -1 }),
    ];
    for (const cursor of bad) {
      const res = await c.get(`/Users?cursor=${encodeURIComponent(cursor)}&count=1`);
      expect(res.status, cursor).toBe(400);
      expect(res.body.scimType, cursor).toBe('invalidCursor');
    }
    for (const other of [
      'sortBy=userName',
      `filter=${encodeURIComponent('userName pr')}`,
      'sortOrder=descending&sortBy=userName',
    ]) {
      const res = await c.get(`/Users?${other}&cursor=${next}&count=1`);
      expect(res.status, other).toBe(400);
      expect(res.body.scimType).toBe('invalidCursor');
    }
    const groups = await c.get(`/Groups?cursor=${next}&count=1`);
    expect(groups.status).toBe(400);
    expect(groups.body.scimType).toBe('invalidCursor');
    const both = await c.get(`/Users?cursor=${next}&startIndex=2`);
    expect(both.status).toBe(400);
    // A sorted cursor whose key the sort type cannot read.
    const sorted = await c.get('/Users?sortBy=meta.created&cursor=&count=1');
    const sortedNext = sorted.body.nextCursor as string;
    for (const key of ['not-a-date', 42, true]) {
      const cursor = forge(sortedNext, {
        after: { ...decode(sortedNext).after, key },
      });
      const res = await c.get(`/Users?sortBy=meta.created&cursor=${cursor}&count=1`);
      expect(res.status, String(key)).toBe(400);
      expect(res.body.scimType).toBe('invalidCursor');
    }
    // The key's SQL type travels in the cursor; only the known sort-key types are accepted.
    for (const type of ['regclass', 'text); drop table users; --', undefined]) {
      const cursor = forge(sortedNext, { after: { ...decode(sortedNext).after, type } });
      const res = await c.get(`/Users?sortBy=meta.created&cursor=${cursor}&count=1`);
      expect(res.status, String(type)).toBe(400);
      expect(res.body.scimType).toBe('invalidCursor');
    }
  });

  it('count=0 in cursor mode returns only totalResults', async () => {
    const c = await freshClient();
    await seedUsers(c, [{ userName: 'k1' }, { userName: 'k2' }]);
    const res = await c.get('/Users?cursor&count=0');
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(2);
    expect(res.body.Resources).toBeUndefined();
    expect(res.body.nextCursor).toBeUndefined();
  });
});

describe('meta.lastModified filters ("changes since")', () => {
  /** Waits until a write made now gets a lastModified strictly after `ts` (server clock). */
  async function waitPast(c: ScimClient, ts: string): Promise<void> {
    const probe = await createGroup(c, `probe-${Math.random().toString(36).slice(2)}`);
    for (let i = 0; i < 200; i++) {
      const res = await c.patch(
        `/Groups/${probe}?attributes=meta.lastModified`,
        patchBody({ op: 'replace', path: 'externalId', value: `p${i}` }),
      );
      if (Date.parse(res.body.meta.lastModified) > Date.parse(ts)) return;
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error('server clock did not move');
  }

  it('returns exactly the resources changed after a server timestamp', async () => {
    const c = await freshClient();
    const seeded = await seedUsers(
      c,
      Array.from({ length: 6 }, (_, i) => ({ userName: `lm-${i}` })),
    );
    const last = await c.get(`/Users/${seeded[5]}`);
    const ts = last.body.meta.lastModified as string;
    await waitPast(c, ts);
    const changed = [seeded[1], seeded[4]] as string[];
    for (const id of changed) {
      const res = await c.patch(
        `/Users/${id}`,
        patchBody({ op: 'replace', path: 'title', value: 'new' }),
      );
      expect(res.status).toBe(204);
    }
    const q = (f: string) =>
      c.get(`/Users?filter=${encodeURIComponent(f)}&sortBy=meta.lastModified`);
    const gt = await q(`meta.lastModified gt "${ts}"`);
    expect(gt.status).toBe(200);
    expect(ids(gt.body)).toEqual(changed);
    expect(gt.body.totalResults).toBe(2);
    // The other operators, checked against the lastModified each user really has.
    const all = (await c.get('/Users')).body.Resources as {
      id: string;
      meta: { lastModified: string };
    }[];
    const at = Date.parse(ts);
    const where = (test: (lm: number) => boolean) =>
      new Set(all.filter((r) => test(Date.parse(r.meta.lastModified))).map((r) => r.id));
    expect(new Set(ids((await q(`meta.lastModified ge "${ts}"`)).body))).toEqual(
      where((lm) => lm >= at),
    );
    expect(new Set(ids((await q(`meta.lastModified le "${ts}"`)).body))).toEqual(
      where((lm) => lm <= at),
    );
    const lt = new Set(ids((await q(`meta.lastModified lt "${ts}"`)).body));
    expect(lt).toEqual(where((lm) => lm < at));
    expect(lt.has(seeded[0] as string)).toBe(true);
    expect(where((lm) => lm >= at).has(seeded[5] as string)).toBe(true);
    for (const r of gt.body.Resources) {
      expect(Date.parse(r.meta.lastModified)).toBeGreaterThan(Date.parse(ts));
    }
  });

  it('reports a group whose membership changed', async () => {
    const c = await freshClient();
    const u = await createUser(c, 'lm-member');
    const g1 = await createGroup(c, 'lm-g1');
    const g2 = await createGroup(c, 'lm-g2');
    const ts = (await c.get(`/Groups/${g2}`)).body.meta.lastModified as string;
    await waitPast(c, ts);
    const add = await c.patch(
      `/Groups/${g1}`,
      patchBody({ op: 'add', path: 'members', value: [{ value: u }] }),
    );
    expect(add.status).toBe(204);
    const res = await c.get(
      `/Groups?filter=${encodeURIComponent(`meta.lastModified gt "${ts}" and displayName sw "lm-"`)}`,
    );
    expect(ids(res.body)).toEqual([g1]);
  });

  it('rejects a value that is not a dateTime', async () => {
    const c = await freshClient();
    const res = await c.get(
      `/Users?filter=${encodeURIComponent('meta.lastModified gt "yesterday"')}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidFilter');
  });
});
