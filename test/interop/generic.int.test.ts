import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.ts';
import { createHarness } from '../harness.ts';
import {
  type Client,
  createGroup,
  createUser,
  expectError,
  filterQ,
  guard,
  URN,
} from './helpers.ts';

/**
 * Generic SCIM clients (Google, JumpCloud, Okta's probes) and the Queries section of
 * INTEROP.md, against real rows. maxResults is lowered so the cap is testable.
 */
const MAX_RESULTS = 10;
const h = guard(
  createHarness({ scim: { ...loadConfig({ LOG_LEVEL: 'silent' }).scim, maxResults: MAX_RESULTS } }),
);

type Res = { id: string; [k: string]: unknown };
const ids = (body: { Resources?: Res[] }) => (body.Resources ?? []).map((r) => r.id);

interface Seeded {
  c: Client;
  tenantId: string;
  alice: string;
  bob: string;
  carol: string;
  dave: string;
  group: string;
  /** All users in the default order (created, id). */
  all: string[];
}

/** Four users with fixed created/lastModified dates (Jan–Apr 2024) and one group. */
async function seed(): Promise<Seeded> {
  const t = await h.tenant();
  const alice = await createUser(t.c, 'Alice@Example.com', {
    externalId: 'ext-alice',
    name: { givenName: 'Alice', familyName: 'Liddell' },
    title: 'Engineer',
    active: true,
    emails: [
      { value: 'alice@work.example', type: 'work', primary: true },
      { value: 'alice@home.example', type: 'home' },
    ],
    [URN.ent]: { employeeNumber: '1', department: 'R&D' },
  });
  const bob = await createUser(t.c, 'bob@example.com', {
    externalId: 'ext-bob',
    title: 'Manager',
    active: false,
    emails: [{ value: 'bob@work.example', type: 'home' }],
    [URN.ent]: { employeeNumber: '2' },
  });
  const carol = await createUser(t.c, 'carol.q@example.org', {
    displayName: 'Carol "CQ" Quinn',
    active: true,
    emails: [{ value: 'carol@work.example', type: 'work' }],
  });
  const dave = await createUser(t.c, 'dave@example.net', { nickName: 'D', active: true });
  const all = [alice, bob, carol, dave];
  for (const [i, id] of all.entries()) {
    const at = `2024-0${i + 1}-01T00:00:00Z`;
    await h.db.sql`update users set created_at = ${at}, updated_at = ${at} where id = ${id}`;
  }
  const group = await createGroup(t.c, 'Engineers', [alice, carol]);
  return { c: t.c, tenantId: t.tenantId, alice, bob, carol, dave, group, all };
}

async function usersMatching(c: Client, filter: string): Promise<string[]> {
  const res = await c.get(`/Users?${filterQ(filter)}`);
  expect(res.status, `${filter}: ${res.text}`).toBe(200);
  expect(res.body.totalResults, filter).toBe(ids(res.body).length);
  return ids(res.body);
}

describe('probes', () => {
  it('Google: GET /Users?count=1 → ListResponse with integer counts and a full first user', async () => {
    const t = await h.tenant();
    const empty = await t.c.get('/Users?count=1');
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({
      schemas: [URN.list],
      totalResults: 0,
      itemsPerPage: 0,
      startIndex: 1,
    });
    await createUser(t.c, 'probe1@example.com', {
      name: { givenName: 'Pro', familyName: 'Be' },
      emails: [{ value: 'probe1@example.com', type: 'work', primary: true }],
      active: true,
    });
    await createUser(t.c, 'probe2@example.com', { active: true });
    const res = await t.c.get('/Users?count=1');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalResults: 2, itemsPerPage: 1, startIndex: 1 });
    const first = res.body.Resources[0];
    expect(first).toMatchObject({
      userName: 'probe1@example.com',
      name: { givenName: 'Pro', familyName: 'Be' },
      active: true,
    });
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.emails[0].value).toBe('probe1@example.com');
  });

  it('Okta: GET /Users?count=1&startIndex=1 has integer totalResults, itemsPerPage, startIndex', async () => {
    const t = await h.tenant();
    await createUser(t.c, 'okta.probe@example.com', {
      name: { givenName: 'Okta', familyName: 'Probe' },
      emails: [{ value: 'okta.probe@example.com', type: 'work', primary: true }],
      active: true,
    });
    const res = await t.c.get('/Users?count=1&startIndex=1');
    expect(res.status).toBe(200);
    for (const k of ['totalResults', 'itemsPerPage', 'startIndex']) {
      expect(Number.isInteger(res.body[k]), k).toBe(true);
    }
    expect(res.body).toMatchObject({ totalResults: 1, itemsPerPage: 1, startIndex: 1 });
    const r = res.body.Resources[0];
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['id', 'userName', 'name', 'active']));
    expect([r.name.givenName, r.name.familyName, r.emails[0].value]).toEqual([
      'Okta',
      'Probe',
      'okta.probe@example.com',
    ]);
  });

  it('Entra test connection on an empty tenant → 200 empty ListResponse (Users and Groups)', async () => {
    const t = await h.tenant();
    for (const p of [
      `/Users?${filterQ(`userName eq "${randomUUID()}"`)}`,
      `/Groups?${filterQ(`displayName eq "${randomUUID()}"`)}&excludedAttributes=members`,
    ]) {
      const res = await t.c.get(p);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ schemas: [URN.list], totalResults: 0 });
      expect(res.body.Resources ?? []).toEqual([]);
    }
  });

  it('unknown id → 404 SCIM error with detail; bad token → 401 with Bearer challenge', async () => {
    const t = await h.tenant();
    for (const p of [`/Users/${randomUUID()}`, `/Groups/${randomUUID()}`, '/Users/not-a-uuid']) {
      const res = await t.c.get(p);
      expectError(res, 404);
      expect(res.body.detail.length).toBeGreaterThan(0);
    }
    const bad = await h.request('GET', '/scim/v2/Users', { token: 'nope' });
    expectError(bad, 401);
    expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const lower = await h.request('GET', '/scim/v2/Users', {
      headers: { Authorization: `bearer ${t.scimToken}` },
    });
    expect(lower.status).toBe(200);
  });

  it('ServiceProviderConfig states the configured maxResults', async () => {
    const res = await h.request('GET', '/scim/v2/ServiceProviderConfig');
    expect(res.body.filter).toEqual({ supported: true, maxResults: MAX_RESULTS });
    expect(res.text).not.toContain('null');
  });
});

describe('queries: filters against real data', () => {
  it('userName eq is case-insensitive, also with an upper-cased attribute name', async () => {
    const s = await seed();
    expect(await usersMatching(s.c, 'userName eq "alice@example.com"')).toEqual([s.alice]);
    expect(await usersMatching(s.c, 'USERNAME eq "ALICE@EXAMPLE.COM"')).toEqual([s.alice]);
    expect(await usersMatching(s.c, 'userName eq "alice@example"')).toEqual([]);
  });

  it('externalId eq (caseExact) and id eq', async () => {
    const s = await seed();
    expect(await usersMatching(s.c, 'externalId eq "ext-alice"')).toEqual([s.alice]);
    expect(await usersMatching(s.c, 'externalId eq "EXT-ALICE"')).toEqual([]);
    expect(await usersMatching(s.c, `id eq "${s.bob}"`)).toEqual([s.bob]);
    expect(await usersMatching(s.c, 'id eq "not-a-uuid"')).toEqual([]);
  });

  it('emails[type eq "work"].value eq matches only the work address', async () => {
    const s = await seed();
    expect(
      await usersMatching(s.c, 'emails[type eq "work"].value eq "alice@work.example"'),
    ).toEqual([s.alice]);
    // bob's address is at the work domain but typed home
    expect(await usersMatching(s.c, 'emails[type eq "work"].value eq "bob@work.example"')).toEqual(
      [],
    );
    expect(await usersMatching(s.c, 'emails[type eq "work" and value co "work.example"]')).toEqual([
      s.alice,
      s.carol,
    ]);
    expect(await usersMatching(s.c, 'emails.value eq "bob@work.example"')).toEqual([s.bob]);
  });

  it('and / or / not and grouping parentheses', async () => {
    const s = await seed();
    expect(await usersMatching(s.c, 'title eq "Engineer" and active eq true')).toEqual([s.alice]);
    expect(await usersMatching(s.c, 'title eq "Engineer" and active eq false')).toEqual([]);
    expect(await usersMatching(s.c, 'title eq "Engineer" or title eq "Manager"')).toEqual([
      s.alice,
      s.bob,
    ]);
    expect(await usersMatching(s.c, 'not (title eq "Engineer")')).toEqual([s.bob, s.carol, s.dave]);
    expect(
      await usersMatching(s.c, '(title eq "Engineer" or title eq "Manager") and active eq false'),
    ).toEqual([s.bob]);
    expect(
      await usersMatching(s.c, 'userName sw "a" or (userName sw "b" and not (active eq true))'),
    ).toEqual([s.alice, s.bob]);
    expect(await usersMatching(s.c, 'title ne "Engineer"')).toEqual([s.bob, s.carol, s.dave]);
  });

  it('pr, including on multi-valued and absent attributes', async () => {
    const s = await seed();
    expect(await usersMatching(s.c, 'title pr')).toEqual([s.alice, s.bob]);
    expect(await usersMatching(s.c, 'emails pr')).toEqual([s.alice, s.bob, s.carol]);
    expect(await usersMatching(s.c, 'not (emails pr)')).toEqual([s.dave]);
    expect(await usersMatching(s.c, 'nickName pr and userName ew ".net"')).toEqual([s.dave]);
  });

  it('co / sw / ew, case-insensitive on caseExact=false attributes', async () => {
    const s = await seed();
    expect(await usersMatching(s.c, 'userName co "EXAMPLE.O"')).toEqual([s.carol]);
    expect(await usersMatching(s.c, 'userName sw "DAVE"')).toEqual([s.dave]);
    expect(await usersMatching(s.c, 'userName ew ".net"')).toEqual([s.dave]);
    expect(await usersMatching(s.c, 'userName co "example"')).toEqual(s.all);
    expect(await usersMatching(s.c, 'name.familyName co "IDDEL"')).toEqual([s.alice]);
    expect(await usersMatching(s.c, 'externalId sw "EXT"')).toEqual([]);
    expect(await usersMatching(s.c, 'externalId sw "ext-"')).toEqual([s.alice, s.bob]);
  });

  it('gt / ge / lt / le on meta.lastModified and meta.created', async () => {
    const s = await seed();
    const feb = '"2024-02-01T00:00:00Z"';
    expect(await usersMatching(s.c, `meta.lastModified gt ${feb}`)).toEqual([s.carol, s.dave]);
    expect(await usersMatching(s.c, `meta.lastModified ge ${feb}`)).toEqual([
      s.bob,
      s.carol,
      s.dave,
    ]);
    expect(await usersMatching(s.c, `meta.lastModified lt ${feb}`)).toEqual([s.alice]);
    expect(await usersMatching(s.c, `meta.lastModified le ${feb}`)).toEqual([s.alice, s.bob]);
    expect(await usersMatching(s.c, 'meta.lastModified gt "2024-02-01T01:00:00+02:00"')).toEqual([
      s.bob,
      s.carol,
      s.dave,
    ]);
    expect(
      await usersMatching(
        s.c,
        'meta.created ge "2024-02-15T00:00:00Z" and meta.created lt "2024-04-01T00:00:00Z"',
      ),
    ).toEqual([s.carol]);
  });

  it('escaped quotes inside strings', async () => {
    const s = await seed();
    expect(await usersMatching(s.c, 'displayName eq "Carol \\"CQ\\" Quinn"')).toEqual([s.carol]);
    expect(await usersMatching(s.c, 'displayName co "\\"CQ\\""')).toEqual([s.carol]);
    expect(await usersMatching(s.c, 'displayName eq "Carol "')).toEqual([]);
  });

  it('enterprise URN attribute paths', async () => {
    const s = await seed();
    expect(await usersMatching(s.c, `${URN.ent}:employeeNumber eq "1"`)).toEqual([s.alice]);
    expect(await usersMatching(s.c, `${URN.ent}:department eq "r&d"`)).toEqual([s.alice]);
    expect(await usersMatching(s.c, `${URN.ent}:employeeNumber pr`)).toEqual([s.alice, s.bob]);
  });

  it('displayName eq on groups, with excludedAttributes=members', async () => {
    const s = await seed();
    const res = await s.c.get(
      `/Groups?${filterQ('displayName eq "engineers"')}&excludedAttributes=members`,
    );
    expect(ids(res.body)).toEqual([s.group]);
    expect(res.body.Resources[0]).not.toHaveProperty('members');
    const withMembers = await s.c.get(`/Groups?${filterQ('displayName eq "Engineers"')}`);
    expect(withMembers.body.Resources[0].members).toHaveLength(2);
  });

  it('unknown attribute or malformed filter → 400 invalidFilter, never all rows', async () => {
    const s = await seed();
    for (const f of [
      'nosuch eq "x"',
      'userName eq',
      'userName xx "a"',
      'userName eq "a" and',
      '(userName eq "a"',
      'emails[type eq "work"',
      'name.nosuch eq "x"',
      `${URN.ent}:nosuch eq "x"`,
      'urn:nope:attr eq "x"',
    ]) {
      expectError(await s.c.get(`/Users?${filterQ(f)}`), 400, 'invalidFilter');
    }
  });
});

describe('queries: paging, projection, search', () => {
  it('stable ordering across pages whatever count / startIndex', async () => {
    const s = await seed();
    for (const count of [1, 2, 3]) {
      const seen: string[] = [];
      for (let start = 1; start <= s.all.length; start += count) {
        const res = await s.c.get(`/Users?startIndex=${start}&count=${count}`);
        expect(res.body).toMatchObject({ totalResults: 4, startIndex: start });
        seen.push(...ids(res.body));
      }
      expect(seen, `count=${count}`).toEqual(s.all);
    }
    const mid = await s.c.get('/Users?startIndex=2&count=2');
    expect(ids(mid.body)).toEqual(s.all.slice(1, 3));
    const past = await s.c.get('/Users?startIndex=9&count=2');
    expect(past.body).toMatchObject({ totalResults: 4, itemsPerPage: 0, startIndex: 9 });
    // a filtered listing pages the same way
    const f = filterQ('userName co "example"');
    const p1 = ids((await s.c.get(`/Users?${f}&count=2&startIndex=1`)).body);
    const p2 = ids((await s.c.get(`/Users?${f}&count=2&startIndex=3`)).body);
    expect([...p1, ...p2]).toEqual(s.all);
  });

  it('stable ordering when rows share a timestamp', async () => {
    const t = await h.tenant();
    const made: string[] = [];
    for (let i = 0; i < 6; i++) made.push(await createUser(t.c, `same-${i}@x.test`));
    await h.db.sql`update users set created_at = '2024-05-05T00:00:00Z'
      where tenant_id = ${t.tenantId}`;
    const full = ids((await t.c.get('/Users')).body);
    expect([...full].sort()).toEqual([...made].sort());
    const paged: string[] = [];
    for (let start = 1; start <= 6; start += 4) {
      paged.push(...ids((await t.c.get(`/Users?startIndex=${start}&count=4`)).body));
    }
    expect(paged).toEqual(full);
  });

  it('startIndex < 1 is 1', async () => {
    const s = await seed();
    for (const start of ['0', '-5']) {
      const res = await s.c.get(`/Users?startIndex=${start}&count=2`);
      expect(res.status).toBe(200);
      expect(res.body.startIndex).toBe(1);
      expect(ids(res.body)).toEqual(s.all.slice(0, 2));
    }
  });

  it('count=0 → only totalResults', async () => {
    const s = await seed();
    const res = await s.c.get('/Users?count=0');
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(4);
    expect(res.body.Resources ?? []).toEqual([]);
    expect(res.body.itemsPerPage).toBe(0);
    const filtered = await s.c.get(`/Users?count=0&${filterQ('title pr')}`);
    expect(filtered.body.totalResults).toBe(2);
    expect(filtered.body.Resources ?? []).toEqual([]);
    const negative = await s.c.get('/Users?count=-3');
    expect(negative.body.totalResults).toBe(4);
    expect(negative.body.Resources ?? []).toEqual([]);
  });

  it('count is capped at maxResults; totalResults stays the real count', async () => {
    const t = await h.tenant();
    for (let i = 0; i < MAX_RESULTS + 3; i++) await createUser(t.c, `cap-${i}@x.test`);
    for (const q of ['/Users?count=1000', '/Users']) {
      const res = await t.c.get(q);
      expect(res.body).toMatchObject({
        totalResults: MAX_RESULTS + 3,
        itemsPerPage: MAX_RESULTS,
      });
      expect(res.body.Resources).toHaveLength(MAX_RESULTS);
    }
    const rest = await t.c.get(`/Users?count=1000&startIndex=${MAX_RESULTS + 1}`);
    expect(rest.body.Resources).toHaveLength(3);
  });

  it('cursor pagination (RFC 9865) walks every row once', async () => {
    const s = await seed();
    const seen: string[] = [];
    let res = await s.c.get('/Users?cursor&count=3');
    for (let guardLoops = 0; guardLoops < 5; guardLoops++) {
      expect(res.status).toBe(200);
      expect(res.body.totalResults).toBe(4);
      seen.push(...ids(res.body));
      if (!res.body.nextCursor) break;
      res = await s.c.get(`/Users?cursor=${encodeURIComponent(res.body.nextCursor)}&count=3`);
    }
    expect(seen).toEqual(s.all);
    expectError(await s.c.get('/Users?cursor=garbage&count=3'), 400, 'invalidCursor');
  });

  it('attributes / excludedAttributes on lists and single GETs', async () => {
    const s = await seed();
    const only = await s.c.get(`/Users/${s.alice}?attributes=userName,emails.value`);
    expect(only.body).toEqual({
      schemas: [URN.user, URN.ent],
      id: s.alice,
      userName: 'Alice@Example.com',
      emails: [{ value: 'alice@work.example' }, { value: 'alice@home.example' }],
    });
    const ext = await s.c.get(`/Users?attributes=${URN.ent}:employeeNumber&${filterQ('title pr')}`);
    expect(ext.body.Resources.map((r: Res) => r[URN.ent])).toEqual([
      { employeeNumber: '1' },
      { employeeNumber: '2' },
    ]);
    expect(ext.body.Resources[0]).not.toHaveProperty('userName');
    const excluded = await s.c.get(
      `/Users?excludedAttributes=emails,name.givenName,meta&${filterQ(`id eq "${s.alice}"`)}`,
    );
    const r = excluded.body.Resources[0];
    expect(r).not.toHaveProperty('emails');
    expect(r).not.toHaveProperty('meta');
    expect(r.name).toEqual({ familyName: 'Liddell' });
    expect(r.userName).toBe('Alice@Example.com');
    expect(r.id).toBe(s.alice);
    const groups = await s.c.get(`/Users/${s.alice}?attributes=groups`);
    expect(groups.body.groups.map((g: Res) => g.value)).toEqual([s.group]);
    const noGroups = await s.c.get(`/Users/${s.alice}?excludedAttributes=groups`);
    expect(noGroups.body).not.toHaveProperty('groups');
    expectError(await s.c.get('/Users?attributes=nosuch'), 400, 'invalidValue');
  });

  it('POST /Users/.search has the same semantics as GET', async () => {
    const s = await seed();
    const get = await s.c.get(
      `/Users?${filterQ('emails pr')}&attributes=userName&startIndex=2&count=2&sortBy=userName`,
    );
    const post = await s.c.post('/Users/.search', {
      schemas: [URN.search],
      filter: 'emails pr',
      attributes: ['userName'],
      startIndex: 2,
      count: 2,
      sortBy: 'userName',
    });
    expect(post.status).toBe(200);
    expect(post.body).toEqual(get.body);
    expect(ids(post.body)).toEqual([s.bob, s.carol]);
    const groups = await s.c.post('/Groups/.search', {
      schemas: [URN.search],
      filter: 'displayName eq "engineers"',
      excludedAttributes: ['members'],
    });
    expect(ids(groups.body)).toEqual([s.group]);
    expect(groups.body.Resources[0]).not.toHaveProperty('members');
    expectError(
      await s.c.post('/Users/.search', { schemas: [URN.search], filter: 'nosuch eq 1' }),
      400,
      'invalidFilter',
    );
  });

  it('POST /.search at the root searches users and groups', async () => {
    const s = await seed();
    const all = await s.c.post('/.search', { schemas: [URN.search] });
    expect(all.status).toBe(200);
    expect(all.body.totalResults).toBe(5);
    expect(ids(all.body)).toEqual([...s.all, s.group]);
    const one = await s.c.post('/.search', {
      schemas: [URN.search],
      filter: 'externalId eq "ext-alice"',
    });
    expect(ids(one.body)).toEqual([s.alice]);
    const paged = await s.c.post('/.search', { schemas: [URN.search], startIndex: 4, count: 2 });
    expect(ids(paged.body)).toEqual([s.dave, s.group]);
    expect(paged.body).toMatchObject({ totalResults: 5, startIndex: 4, itemsPerPage: 2 });
    const counted = await s.c.post('/.search', { schemas: [URN.search], count: 0 });
    expect(counted.body.totalResults).toBe(5);
    expect(counted.body.Resources ?? []).toEqual([]);
  });

  it('sortBy and sortOrder', async () => {
    const s = await seed();
    const asc = await s.c.get('/Users?sortBy=userName');
    expect(ids(asc.body)).toEqual([s.alice, s.bob, s.carol, s.dave]);
    const desc = await s.c.get('/Users?sortBy=userName&sortOrder=descending');
    expect(ids(desc.body)).toEqual([s.dave, s.carol, s.bob, s.alice]);
  });
});
