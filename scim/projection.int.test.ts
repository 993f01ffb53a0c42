import { describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';
import {
  checkedClient,
  createGroup,
  ENTERPRISE,
  GROUP,
  groupBody,
  patchBody,
  type ScimClient,
  SEARCH,
  USER,
  userBody,
} from '../test/scim-helpers.ts';

const h = createHarness();

const FULL = {
  name: { givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' },
  displayName: 'Ada',
  title: 'Countess',
  emails: [
    { value: 'ada@work.example', type: 'work', primary: true },
    { value: 'ada@home.example', type: 'home' },
  ],
  [ENTERPRISE]: { employeeNumber: '1815', department: 'Analytical' },
};

async function setup(): Promise<{ c: ScimClient; id: string; gid: string }> {
  const t = await h.tenant();
  const c = checkedClient(h, t.scimToken);
  const res = await c.post('/Users', userBody('ada', { ...FULL, password: 'S3cret!pass' }));
  expect(res.status).toBe(201);
  const gid = await createGroup(c, 'engines', [res.body.id]);
  return { c, id: res.body.id, gid };
}

const keys = (o: Record<string, unknown>) => Object.keys(o).sort();
const q = encodeURIComponent;

describe('attributes / excludedAttributes on a single resource', () => {
  it('attributes returns only what is asked, plus id and schemas', async () => {
    const { c, id } = await setup();
    const res = await c.get(`/Users/${id}?attributes=userName`);
    expect(res.status).toBe(200);
    expect(keys(res.body)).toEqual(['id', 'schemas', 'userName']);
    const sub = await c.get(`/Users/${id}?attributes=name.givenName,emails.value`);
    expect(sub.body.name).toEqual({ givenName: 'Ada' });
    expect(sub.body.emails).toEqual([{ value: 'ada@work.example' }, { value: 'ada@home.example' }]);
    expect(keys(sub.body)).toEqual(['emails', 'id', 'name', 'schemas']);
    const ext = await c.get(`/Users/${id}?attributes=${q(`${ENTERPRISE}:employeeNumber`)}`);
    expect(ext.body[ENTERPRISE]).toEqual({ employeeNumber: '1815' });
    expect(ext.body.schemas).toContain(USER);
    const meta = await c.get(`/Users/${id}?attributes=meta.version,displayName`);
    expect(keys(meta.body)).toEqual(['displayName', 'id', 'meta', 'schemas']);
    expect(keys(meta.body.meta)).toEqual(['version']);
  });

  it('matches attribute names case-insensitively', async () => {
    const { c, id } = await setup();
    const res = await c.get(`/Users/${id}?attributes=USERNAME,Name.GivenName`);
    expect(res.status).toBe(200);
    expect(res.body.userName).toBe('ada');
    expect(res.body.name).toEqual({ givenName: 'Ada' });
  });

  it('excludedAttributes drops what is named and never id or schemas', async () => {
    const { c, id } = await setup();
    const res = await c.get(`/Users/${id}?excludedAttributes=emails,name.formatted,id,schemas`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(id);
    expect(res.body.schemas).toContain(USER);
    expect(res.body.emails).toBeUndefined();
    expect(res.body.name).toEqual({ givenName: 'Ada', familyName: 'Lovelace' });
    expect(res.body.userName).toBe('ada');
    expect(res.body.meta).toBeDefined();
    const ext = await c.get(`/Users/${id}?excludedAttributes=${q(ENTERPRISE)},meta`);
    expect(ext.body[ENTERPRISE]).toBeUndefined();
    expect(ext.body.meta).toBeUndefined();
    expect(ext.body.title).toBe('Countess');
  });

  it('attributes=id or schemas alone returns just those two', async () => {
    const { c, id } = await setup();
    for (const a of ['id', 'schemas']) {
      const res = await c.get(`/Users/${id}?attributes=${a}`);
      expect(keys(res.body)).toEqual(['id', 'schemas']);
    }
  });

  it("returns a user's groups (returned: request) only when attributes asks for them", async () => {
    const { c, id, gid } = await setup();
    const full = await c.get(`/Users/${id}`);
    expect(full.body.groups).toBeUndefined();
    const listed = await c.get(`/Users?filter=${encodeURIComponent(`id eq "${id}"`)}`);
    expect(listed.body.Resources[0].groups).toBeUndefined();
    const only = await c.get(`/Users/${id}?attributes=groups`);
    expect(keys(only.body)).toEqual(['groups', 'id', 'schemas']);
    expect(only.body.groups.map((g: { value: string }) => g.value)).toEqual([gid]);
    const both = await c.get(
      `/Users?attributes=userName,groups&filter=${encodeURIComponent(`id eq "${id}"`)}`,
    );
    expect(both.body.Resources[0].groups.map((g: { value: string }) => g.value)).toEqual([gid]);
    const without = await c.get(`/Users/${id}?excludedAttributes=groups`);
    expect(without.body.groups).toBeUndefined();
    expect(without.body.userName).toBe('ada');
  });

  it('group: excludedAttributes=members, attributes=displayName, attributes=members.value', async () => {
    const { c, id, gid } = await setup();
    const full = await c.get(`/Groups/${gid}`);
    expect(full.body.members).toHaveLength(1);
    const ex = await c.get(`/Groups/${gid}?excludedAttributes=members`);
    expect(ex.status).toBe(200);
    expect(ex.body.members).toBeUndefined();
    expect(ex.body.displayName).toBe('engines');
    expect(ex.body.meta.version).toBe(full.body.meta.version);
    const dn = await c.get(`/Groups/${gid}?attributes=displayName`);
    expect(keys(dn.body)).toEqual(['displayName', 'id', 'schemas']);
    expect(dn.body.schemas).toEqual([GROUP]);
    const mv = await c.get(`/Groups/${gid}?attributes=members.value`);
    expect(mv.body.members).toEqual([{ value: id }]);
  });
});

describe('password is never returned', () => {
  it('is absent from every answer and from the stored document', async () => {
    const { c, id } = await setup();
    const reads = [
      await c.get(`/Users/${id}`),
      await c.get(`/Users/${id}?attributes=password`),
      await c.get(`/Users/${id}?attributes=userName,password`),
      await c.get('/Users'),
      await c.get('/Users?attributes=password'),
      await c.post('/Users/.search', { schemas: [SEARCH], attributes: ['password'] }),
      await c.put(`/Users/${id}`, userBody('ada', { ...FULL, password: 'N3w!pass' })),
      await c.patch(
        `/Users/${id}?attributes=password,userName`,
        patchBody({ op: 'replace', path: 'password', value: 'An0ther!' }),
      ),
      await c.post('/Users?attributes=password', userBody('ada2', { password: 'x' })),
    ];
    for (const res of reads) {
      expect(res.status).toBeLessThan(300);
      expect(res.text).not.toMatch(/password/i);
      expect(res.text).not.toMatch(/S3cret|N3w!|An0ther/);
    }
    const stored = await h.db.sql`select doc::text as doc from users where id = ${id}`;
    expect(stored[0]?.doc).not.toMatch(/password|S3cret|N3w!|An0ther/i);
  });
});

describe('projection on lists and searches', () => {
  it('GET list honours attributes and excludedAttributes on every resource', async () => {
    const { c } = await setup();
    await c.post('/Users', userBody('bob', { title: 'Builder' }));
    const res = await c.get('/Users?attributes=userName&sortBy=userName');
    expect(res.status).toBe(200);
    expect(res.body.Resources).toHaveLength(2);
    for (const r of res.body.Resources) expect(keys(r)).toEqual(['id', 'schemas', 'userName']);
    const ex = await c.get('/Users?excludedAttributes=emails,meta,groups');
    for (const r of ex.body.Resources) {
      expect(r.emails).toBeUndefined();
      expect(r.meta).toBeUndefined();
      expect(r.groups).toBeUndefined();
      expect(r.id).toBeDefined();
      expect(r.userName).toBeDefined();
    }
  });

  it('groups list and filter with excludedAttributes=members', async () => {
    const { c, gid } = await setup();
    const res = await c.get(
      `/Groups?filter=${q('displayName eq "engines"')}&excludedAttributes=members`,
    );
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0].id).toBe(gid);
    expect(res.body.Resources[0].members).toBeUndefined();
    expect(res.body.Resources[0].displayName).toBe('engines');
  });

  it('POST /.search takes attributes as an array or a comma-separated string', async () => {
    const { c, gid } = await setup();
    const arr = await c.post('/Users/.search', {
      schemas: [SEARCH],
      attributes: ['userName', 'name.familyName'],
    });
    expect(arr.status).toBe(200);
    expect(keys(arr.body.Resources[0])).toEqual(['id', 'name', 'schemas', 'userName']);
    expect(arr.body.Resources[0].name).toEqual({ familyName: 'Lovelace' });
    const str = await c.post('/Users/.search', { schemas: [SEARCH], attributes: 'userName' });
    expect(keys(str.body.Resources[0])).toEqual(['id', 'schemas', 'userName']);
    const ex = await c.post('/Groups/.search', {
      schemas: [SEARCH],
      excludedAttributes: ['members'],
    });
    expect(ex.body.Resources[0].id).toBe(gid);
    expect(ex.body.Resources[0].members).toBeUndefined();
    const root = await c.post('/.search', {
      schemas: [SEARCH],
      attributes: ['displayName'],
    });
    expect(root.status).toBe(200);
    expect(root.body.totalResults).toBe(2);
    for (const r of root.body.Resources) expect(keys(r)).toEqual(['displayName', 'id', 'schemas']);
  });

  it('unknown attribute names are a 400, not a silent full answer', async () => {
    const { c, id } = await setup();
    for (const path of [`/Users/${id}?attributes=nope`, '/Users?excludedAttributes=nope']) {
      const res = await c.get(path);
      expect(res.status, path).toBe(400);
    }
  });
});

describe('projection on write answers', () => {
  it('POST and PUT honour attributes / excludedAttributes', async () => {
    const t = await h.tenant();
    const c = checkedClient(h, t.scimToken);
    const post = await c.post('/Users?attributes=userName', userBody('carol', FULL));
    expect(post.status).toBe(201);
    expect(keys(post.body)).toEqual(['id', 'schemas', 'userName']);
    expect(post.headers.get('location')).toMatch(new RegExp(`/Users/${post.body.id}$`));
    expect(post.headers.get('etag')).toMatch(/^W\//);
    const id = post.body.id as string;
    const put = await c.put(
      `/Users/${id}?excludedAttributes=emails,name`,
      userBody('carol', { ...FULL, title: 'Queen' }),
    );
    expect(put.status).toBe(200);
    expect(put.body.emails).toBeUndefined();
    expect(put.body.name).toBeUndefined();
    expect(put.body.title).toBe('Queen');
    const g = await c.post('/Groups?excludedAttributes=members', groupBody('writers', [id]));
    expect(g.status).toBe(201);
    expect(g.body.members).toBeUndefined();
    const gput = await c.put(`/Groups/${g.body.id}?attributes=members`, groupBody('writers', [id]));
    expect(keys(gput.body)).toEqual(['id', 'members', 'schemas']);
  });

  it('PATCH answers 204 by default and 200 with the projected resource when asked', async () => {
    const { c, id, gid } = await setup();
    const plain = await c.patch(
      `/Users/${id}`,
      patchBody({ op: 'replace', path: 'title', value: 'Lady' }),
    );
    expect(plain.status).toBe(204);
    expect(plain.text).toBe('');
    const asked = await c.patch(
      `/Users/${id}?attributes=title`,
      patchBody({ op: 'replace', path: 'title', value: 'Lady A' }),
    );
    expect(asked.status).toBe(200);
    expect(keys(asked.body)).toEqual(['id', 'schemas', 'title']);
    const group = await c.patch(
      `/Groups/${gid}?excludedAttributes=members`,
      patchBody({ op: 'replace', path: 'displayName', value: 'engines2' }),
    );
    expect(group.status).toBe(200);
    expect(group.body.members).toBeUndefined();
    expect(group.body.displayName).toBe('engines2');
  });
});
