import { describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';
import {
  checkedClient,
  createGroup,
  createUser,
  ERROR,
  groupBody,
  patchBody,
  type ScimClient,
  userBody,
} from '../test/scim-helpers.ts';

const h = createHarness();

async function freshClient(): Promise<ScimClient> {
  const t = await h.tenant();
  return checkedClient(h, t.scimToken);
}

const WEAK = /^W\/"[^"]+"$/;

async function versionOf(c: ScimClient, path: string): Promise<string> {
  const res = await c.get(path);
  expect(res.status).toBe(200);
  expect(res.headers.get('etag')).toBe(res.body.meta.version);
  return res.body.meta.version as string;
}

async function storedVersion(table: 'users' | 'groups', id: string): Promise<number> {
  const rows = await h.db.sql`select version from ${h.db.sql(table)} where id = ${id}`;
  return rows[0]?.version as number;
}

describe('meta.version and ETag', () => {
  it('is a weak ETag, the same in the header and in meta, on every answer with a body', async () => {
    const c = await freshClient();
    const created = await c.post('/Users', userBody('etag-1'));
    expect(created.status).toBe(201);
    expect(created.body.meta.version).toMatch(WEAK);
    expect(created.headers.get('etag')).toBe(created.body.meta.version);
    const id = created.body.id as string;
    expect(await versionOf(c, `/Users/${id}`)).toBe(created.body.meta.version);
    const put = await c.put(`/Users/${id}`, userBody('etag-1', { title: 'x' }));
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe(put.body.meta.version);
    const patch = await c.patch(
      `/Users/${id}`,
      patchBody({ op: 'replace', path: 'title', value: 'y' }),
    );
    expect(patch.status).toBe(204);
    expect(patch.headers.get('etag')).toMatch(WEAK);
    expect(await versionOf(c, `/Users/${id}`)).toBe(patch.headers.get('etag'));
    const list = await c.get(`/Users?filter=${encodeURIComponent(`id eq "${id}"`)}`);
    expect(list.body.Resources[0].meta.version).toBe(patch.headers.get('etag'));
  });

  it('changes on every PUT and PATCH that changes the resource', async () => {
    const c = await freshClient();
    const id = await createUser(c, 'bump');
    const seen = new Set([await versionOf(c, `/Users/${id}`)]);
    await c.put(`/Users/${id}`, userBody('bump', { displayName: 'B' }));
    seen.add(await versionOf(c, `/Users/${id}`));
    await c.patch(`/Users/${id}`, patchBody({ op: 'replace', path: 'active', value: false }));
    seen.add(await versionOf(c, `/Users/${id}`));
    await c.patch(`/Users/${id}`, patchBody({ op: 'replace', path: 'userName', value: 'bump2' }));
    seen.add(await versionOf(c, `/Users/${id}`));
    expect(seen.size).toBe(4);
  });

  it('changes when a group gains or loses a member, and on a rename', async () => {
    const c = await freshClient();
    const u1 = await createUser(c, 'member-1');
    const u2 = await createUser(c, 'member-2');
    const g = await createGroup(c, 'versioned');
    const v0 = await versionOf(c, `/Groups/${g}`);
    const add = await c.patch(
      `/Groups/${g}`,
      patchBody({ op: 'add', path: 'members', value: [{ value: u1 }, { value: u2 }] }),
    );
    expect(add.status).toBe(204);
    const v1 = await versionOf(c, `/Groups/${g}`);
    expect(v1).not.toBe(v0);
    expect(add.headers.get('etag')).toBe(v1);
    await c.patch(`/Groups/${g}`, patchBody({ op: 'remove', path: `members[value eq "${u1}"]` }));
    const v2 = await versionOf(c, `/Groups/${g}`);
    expect(v2).not.toBe(v1);
    await c.put(`/Groups/${g}`, groupBody('versioned', [u1]));
    const v3 = await versionOf(c, `/Groups/${g}`);
    expect(v3).not.toBe(v2);
    await c.patch(`/Groups/${g}`, patchBody({ op: 'replace', path: 'displayName', value: 'v2' }));
    const v4 = await versionOf(c, `/Groups/${g}`);
    expect(new Set([v0, v1, v2, v3, v4]).size).toBe(5);
    // Deleting a member user changes the group too.
    expect((await c.delete(`/Users/${u1}`)).status).toBe(204);
    expect(await versionOf(c, `/Groups/${g}`)).not.toBe(v4);
  });

  it('keeps the version when nothing changed', async () => {
    const c = await freshClient();
    const u = await createUser(c, 'same');
    const g = await createGroup(c, 'same-group', [u]);
    const uv = await versionOf(c, `/Users/${u}`);
    const gv = await versionOf(c, `/Groups/${g}`);
    await c.put(`/Users/${u}`, userBody('same'));
    expect(await versionOf(c, `/Users/${u}`)).toBe(uv);
    // Adding a member that is already there changes nothing.
    await c.patch(`/Groups/${g}`, patchBody({ op: 'add', path: 'members', value: [{ value: u }] }));
    expect(await versionOf(c, `/Groups/${g}`)).toBe(gv);
  });
});

describe('If-Match on writes', () => {
  const cases = [
    {
      name: 'PUT',
      run: (c: ScimClient, id: string, hd: Record<string, string>) =>
        c.put(`/Users/${id}`, userBody('im-user', { title: 'changed' }), hd),
    },
    {
      name: 'PATCH',
      run: (c: ScimClient, id: string, hd: Record<string, string>) =>
        c.patch(`/Users/${id}`, patchBody({ op: 'replace', path: 'title', value: 'changed' }), hd),
    },
    {
      name: 'DELETE',
      run: (c: ScimClient, id: string, hd: Record<string, string>) => c.delete(`/Users/${id}`, hd),
    },
  ];

  for (const tc of cases) {
    it(`${tc.name}: 412 when stale, nothing changes`, async () => {
      const c = await freshClient();
      const id = await createUser(c, 'im-user', { title: 'orig' });
      const stale = await versionOf(c, `/Users/${id}`);
      await c.patch(`/Users/${id}`, patchBody({ op: 'replace', path: 'title', value: 'v2' }));
      const before = await c.get(`/Users/${id}`);
      for (const header of [stale, 'W/"999"', '"999"', 'W/"nope", W/"998"']) {
        const res = await tc.run(c, id, { 'If-Match': header });
        expect(res.status, header).toBe(412);
        expect(res.body).toMatchObject({ schemas: [ERROR], status: '412' });
      }
      const after = await c.get(`/Users/${id}`);
      expect(after.status).toBe(200);
      expect(after.body).toEqual(before.body);
    });

    it(`${tc.name}: proceeds with the current version (weak or strong form, in a list) or *`, async () => {
      const c = await freshClient();
      for (const form of ['current', 'strong', 'list', '*']) {
        const id = await createUser(c, 'im-user', { title: 'orig' });
        const v = await versionOf(c, `/Users/${id}`);
        const header =
          form === 'current'
            ? v
            : form === 'strong'
              ? v.replace(/^W\//, '')
              : form === 'list'
                ? `W/"12345", ${v}`
                : '*';
        const res = await tc.run(c, id, { 'If-Match': header });
        expect(res.status, form).toBe(tc.name === 'PUT' ? 200 : 204);
        if (tc.name === 'DELETE') {
          expect((await c.get(`/Users/${id}`)).status).toBe(404);
        } else {
          expect((await c.get(`/Users/${id}`)).body.title).toBe('changed');
          await c.delete(`/Users/${id}`);
        }
      }
    });
  }

  it('applies to groups and to member changes', async () => {
    const c = await freshClient();
    const u = await createUser(c, 'gm');
    const g = await createGroup(c, 'im-group');
    const v = await versionOf(c, `/Groups/${g}`);
    const add = (hd: Record<string, string>) =>
      c.patch(`/Groups/${g}`, patchBody({ op: 'add', path: 'members', value: [{ value: u }] }), hd);
    expect((await add({ 'If-Match': 'W/"77"' })).status).toBe(412);
    expect(await h.db.sql`select 1 from group_members where group_id = ${g}`).toHaveLength(0);
    expect((await add({ 'If-Match': v })).status).toBe(204);
    // v is now stale.
    expect((await c.delete(`/Groups/${g}`, { 'If-Match': v })).status).toBe(412);
    expect((await c.put(`/Groups/${g}`, groupBody('x'), { 'If-Match': v })).status).toBe(412);
    expect((await c.get(`/Groups/${g}`)).body.displayName).toBe('im-group');
    expect(await storedVersion('groups', g)).toBe(2);
  });

  it('is checked before the resource is known to exist only as a 404', async () => {
    const c = await freshClient();
    const res = await c.put('/Users/00000000-0000-4000-8000-000000000000', userBody('ghost'), {
      'If-Match': '*',
    });
    expect(res.status).toBe(404);
  });
});

describe('If-None-Match on reads', () => {
  it('answers 304 without a body for the current version, 200 otherwise', async () => {
    const c = await freshClient();
    const id = await createUser(c, 'inm');
    const v = await versionOf(c, `/Users/${id}`);
    for (const header of [v, v.replace(/^W\//, ''), `W/"0", ${v}`, '*']) {
      const res = await c.get(`/Users/${id}`, { 'If-None-Match': header });
      expect(res.status, header).toBe(304);
      expect(res.text).toBe('');
      expect(res.headers.get('etag')).toBe(v);
    }
    await c.patch(`/Users/${id}`, patchBody({ op: 'replace', path: 'title', value: 'new' }));
    const stale = await c.get(`/Users/${id}`, { 'If-None-Match': v });
    expect(stale.status).toBe(200);
    expect(stale.body.title).toBe('new');
    expect(stale.headers.get('etag')).not.toBe(v);
  });

  it('answers 304 for a group whose membership did not change, 200 once it did', async () => {
    const c = await freshClient();
    const u = await createUser(c, 'inm-member');
    const g = await createGroup(c, 'inm-group');
    const v = await versionOf(c, `/Groups/${g}`);
    expect((await c.get(`/Groups/${g}`, { 'If-None-Match': v })).status).toBe(304);
    await c.patch(`/Groups/${g}`, patchBody({ op: 'add', path: 'members', value: [{ value: u }] }));
    const res = await c.get(`/Groups/${g}`, { 'If-None-Match': v });
    expect(res.status).toBe(200);
    expect(res.body.members).toHaveLength(1);
  });

  it('answers 404 for an unknown id whatever the header', async () => {
    const c = await freshClient();
    const res = await c.get('/Users/00000000-0000-4000-8000-000000000000', {
      'If-None-Match': '*',
    });
    expect(res.status).toBe(404);
  });
});
