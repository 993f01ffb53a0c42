import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';
import {
  BULK_REQUEST,
  checkedClient,
  createUser,
  LIST,
  patchBody,
  type ScimClient,
} from '../test/scim-helpers.ts';

const h = createHarness();
const ORG = 'urn:idhub:params:scim:schemas:core:2.0:Organization';
const IDHUB = 'urn:idhub:params:scim:schemas:extension:idhub:2.0:User';

async function fresh(): Promise<{ c: ScimClient; tenantId: string }> {
  const t = await h.tenant();
  return { c: checkedClient(h, t.scimToken), tenantId: t.tenantId };
}

const orgBody = (displayName: string, parent?: string, extra: Record<string, unknown> = {}) => ({
  schemas: [ORG],
  displayName,
  ...(parent ? { parent: { value: parent } } : {}),
  ...extra,
});

async function createOrg(c: ScimClient, name: string, parent?: string): Promise<string> {
  const res = await c.post('/Organizations', orgBody(name, parent));
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

const pathOf = async (c: ScimClient, id: string) =>
  (await c.get(`/Organizations/${id}`)).body.path as string;

describe('SCIM /Organizations', () => {
  it('creates, reads, replaces, patches and deletes an organisation', async () => {
    const { c, tenantId } = await fresh();
    const post = await c.post('/Organizations', orgBody('Acme', undefined, { externalId: 'e-1' }));
    expect(post.status).toBe(201);
    const id = post.body.id as string;
    expect(post.headers.get('location')).toBe(`http://hub.test/scim/v2/Organizations/${id}`);
    expect(post.headers.get('etag')).toBe('W/"1"');
    expect(post.body).toMatchObject({
      schemas: [ORG],
      id,
      externalId: 'e-1',
      displayName: 'Acme',
      path: 'Acme',
      meta: { resourceType: 'Organization', version: 'W/"1"' },
    });
    expect(post.body).not.toHaveProperty('parent');

    const child = await c.post('/Organizations', orgBody('Sales', id));
    expect(child.status).toBe(201);
    expect(child.body.parent).toEqual({
      value: id,
      $ref: `http://hub.test/scim/v2/Organizations/${id}`,
      display: 'Acme',
    });
    expect(child.body.path).toBe('Acme/Sales');

    const got = await c.get(`/Organizations/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.displayName).toBe('Acme');
    const cached = await c.get(`/Organizations/${id}`, {
      'If-None-Match': got.headers.get('etag')!,
    });
    expect(cached.status).toBe(304);

    const put = await c.put(
      `/Organizations/${id}`,
      orgBody('Acme Corp', undefined, { externalId: 'e-2' }),
    );
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ displayName: 'Acme Corp', externalId: 'e-2' });
    expect(await pathOf(c, child.body.id)).toBe('Acme Corp/Sales');

    const stale = await c.patch(
      `/Organizations/${id}`,
      patchBody({ op: 'replace', path: 'displayName', value: 'X' }),
      { 'If-Match': 'W/"1"' },
    );
    expect(stale.status).toBe(412);
    const patched = await c.patch(
      `/Organizations/${child.body.id}?attributes=displayName`,
      patchBody({ op: 'Replace', path: 'displayName', value: 'Sales EMEA' }),
    );
    expect(patched.status).toBe(200);
    expect(patched.body.displayName).toBe('Sales EMEA');

    expect((await c.delete(`/Organizations/${child.body.id}`)).status).toBe(204);
    expect((await c.get(`/Organizations/${child.body.id}`)).status).toBe(404);
    expect((await c.delete(`/Organizations/${id}`)).status).toBe(204);
    const ops = await h.db.sql`select operation from outbox
      where tenant_id = ${tenantId} and resource_type = 'Organization' order by id`;
    expect(ops.map((r) => r.operation)).toEqual([
      'create',
      'create',
      'update',
      'update',
      'update',
      'delete',
      'delete',
    ]);
  });

  it('requires a displayName and refuses readOnly path and unknown parents', async () => {
    const { c } = await fresh();
    expect((await c.post('/Organizations', { schemas: [ORG] })).status).toBe(400);
    const ignored = await c.post('/Organizations', orgBody('A', undefined, { path: 'Z/Y' }));
    expect(ignored.body.path).toBe('A');
    const unknown = await c.post('/Organizations', orgBody('B', randomUUID()));
    expect(unknown.status).toBe(400);
    expect(unknown.body.scimType).toBe('invalidValue');
    expect((await c.post('/Organizations', orgBody('B', 'not-a-uuid'))).status).toBe(400);
    const ro = await c.patch(
      `/Organizations/${ignored.body.id}`,
      patchBody({ op: 'replace', path: 'path', value: 'x' }),
    );
    expect(ro.status).toBe(400);
    expect(ro.body.scimType).toBe('mutability');
  });

  it('keeps names unique among siblings, case-insensitively, but not across parents', async () => {
    const { c } = await fresh();
    const a = await createOrg(c, 'A');
    const b = await createOrg(c, 'B');
    await createOrg(c, 'Sales', a);
    const dup = await c.post('/Organizations', orgBody('sALES', a));
    expect(dup.status).toBe(409);
    expect(dup.body.scimType).toBe('uniqueness');
    expect((await c.post('/Organizations', orgBody('Sales', b))).status).toBe(201);
    expect((await c.post('/Organizations', orgBody('a'))).status).toBe(409);
    // A rename or a move into a clash is refused too, and changes nothing.
    const other = await createOrg(c, 'Other', a);
    const rename = await c.patch(
      `/Organizations/${other}`,
      patchBody({ op: 'replace', path: 'displayName', value: 'SALES' }),
    );
    expect(rename.status).toBe(409);
    const salesB = (await c.get(`/Organizations?filter=${encodeURIComponent('path eq "B/Sales"')}`))
      .body.Resources[0].id;
    const move = await c.patch(
      `/Organizations/${salesB}`,
      patchBody({ op: 'replace', path: 'parent.value', value: a }),
    );
    expect(move.status).toBe(409);
    expect(await pathOf(c, salesB)).toBe('B/Sales');
    // Renaming to a case variant of its own name is allowed.
    const own = await c.patch(
      `/Organizations/${other}`,
      patchBody({ op: 'replace', path: 'displayName', value: 'OTHER' }),
    );
    expect(own.status).toBe(204);
  });

  it('moves a subtree in one change and updates the descendants’ paths', async () => {
    const { c, tenantId } = await fresh();
    const root = await createOrg(c, 'Root');
    const a = await createOrg(c, 'A', root);
    const a1 = await createOrg(c, 'A1', a);
    const a11 = await createOrg(c, 'A11', a1);
    const b = await createOrg(c, 'B', root);
    const res = await c.patch(
      `/Organizations/${a1}?attributes=parent,path`,
      patchBody({ op: 'replace', path: 'parent', value: { value: b } }),
    );
    expect(res.status).toBe(200);
    expect(res.body.parent).toMatchObject({ value: b, display: 'B' });
    expect(res.body.path).toBe('Root/B/A1');
    expect(await pathOf(c, a11)).toBe('Root/B/A1/A11');
    const [row] = await h.db.sql`select path from organizations where id = ${a11}`;
    expect(row?.path).toBe(`/${root}/${b}/${a1}/${a11}/`);
    // To the root: remove the parent.
    const up = await c.patch(`/Organizations/${a1}`, patchBody({ op: 'remove', path: 'parent' }));
    expect(up.status).toBe(204);
    expect(await pathOf(c, a11)).toBe('A1/A11');
    const [ev] = await h.db.sql`select count(*)::int as n from outbox
      where tenant_id = ${tenantId} and resource_id = ${a1} and operation = 'update'`;
    expect(ev?.n).toBe(2);
  });

  it('refuses cycles: under itself or one of its descendants', async () => {
    const { c } = await fresh();
    const a = await createOrg(c, 'A');
    const b = await createOrg(c, 'B', a);
    const cc = await createOrg(c, 'C', b);
    for (const parent of [a, cc]) {
      const res = await c.patch(
        `/Organizations/${a}`,
        patchBody({ op: 'replace', path: 'parent.value', value: parent }),
      );
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
    }
    const put = await c.put(`/Organizations/${a}`, orgBody('A', b));
    expect(put.status).toBe(400);
    expect(await pathOf(c, cc)).toBe('A/B/C');
  });

  it('refuses to delete an organisation with children or users (409)', async () => {
    const { c } = await fresh();
    const a = await createOrg(c, 'A');
    const b = await createOrg(c, 'B', a);
    const withChild = await c.delete(`/Organizations/${a}`);
    expect(withChild.status).toBe(409);
    expect(withChild.body.detail).toMatch(/child organisation/);
    const user = await createUser(c, 'u@x', { [IDHUB]: { organization: { value: b } } });
    const withUser = await c.delete(`/Organizations/${b}`);
    expect(withUser.status).toBe(409);
    expect(withUser.body.detail).toMatch(/1 user/);
    await c.patch(`/Users/${user}`, patchBody({ op: 'remove', path: `${IDHUB}:organization` }));
    expect((await c.delete(`/Organizations/${b}`)).status).toBe(204);
    expect((await c.delete(`/Organizations/${a}`)).status).toBe(204);
  });

  it('filters, sorts and pages in SQL', async () => {
    const { c } = await fresh();
    const root = await createOrg(c, 'Root');
    const ids: string[] = [];
    for (const n of ['d', 'B', 'a', 'C']) ids.push(await createOrg(c, n, root));
    const q = (s: string) => c.get(`/Organizations?${s}`);
    const all = await q('sortBy=displayName&count=2&startIndex=2');
    expect(all.body).toMatchObject({ schemas: [LIST], totalResults: 5, itemsPerPage: 2 });
    expect(all.body.Resources.map((r: { displayName: string }) => r.displayName)).toEqual([
      'B',
      'C',
    ]);
    const byParent = await q(`filter=${encodeURIComponent(`parent.value eq "${root}"`)}`);
    expect(byParent.body.totalResults).toBe(4);
    const roots = await q(`filter=${encodeURIComponent('not (parent pr)')}`);
    expect(roots.body.Resources.map((r: { id: string }) => r.id)).toEqual([root]);
    const byName = await q(`filter=${encodeURIComponent('displayName eq "c"')}`);
    expect(byName.body.Resources[0].id).toBe(ids[3]);
    const byPath = await q(`filter=${encodeURIComponent('path sw "Root/"')}&sortBy=path`);
    expect(byPath.body.Resources.map((r: { path: string }) => r.path)).toEqual([
      'Root/a',
      'Root/B',
      'Root/C',
      'Root/d',
    ]);
    const parentName = await q(`filter=${encodeURIComponent('parent.display eq "ROOT"')}`);
    expect(parentName.body.totalResults).toBe(4);
    const projected = await q('attributes=displayName&count=1');
    expect(Object.keys(projected.body.Resources[0]).sort()).toEqual([
      'displayName',
      'id',
      'schemas',
    ]);
    const excluded = await q('excludedAttributes=path,parent&count=5');
    for (const r of excluded.body.Resources) expect(r).not.toHaveProperty('path');
    const bad = await q(`filter=${encodeURIComponent('nope eq "x"')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.scimType).toBe('invalidFilter');
    const search = await c.post('/Organizations/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: 'displayName sw "r"',
    });
    expect(search.body.totalResults).toBe(1);
    const cursor = await q('cursor&count=3');
    expect(cursor.body.nextCursor).toBeTruthy();
  });

  it('isolates tenants: foreign ids are unknown (404) and no parent (400)', async () => {
    const one = await fresh();
    const two = await fresh();
    const theirs = await createOrg(one.c, 'Theirs');
    expect((await two.c.get(`/Organizations/${theirs}`)).status).toBe(404);
    expect((await two.c.put(`/Organizations/${theirs}`, orgBody('X'))).status).toBe(404);
    expect(
      (
        await two.c.patch(
          `/Organizations/${theirs}`,
          patchBody({ op: 'replace', path: 'displayName', value: 'X' }),
        )
      ).status,
    ).toBe(404);
    expect((await two.c.delete(`/Organizations/${theirs}`)).status).toBe(404);
    const asParent = await two.c.post('/Organizations', orgBody('Mine', theirs));
    expect(asParent.status).toBe(400);
    const mine = await createOrg(two.c, 'Mine');
    const move = await two.c.patch(
      `/Organizations/${mine}`,
      patchBody({ op: 'replace', path: 'parent.value', value: theirs }),
    );
    expect(move.status).toBe(400);
    const list = await two.c.get('/Organizations');
    expect(list.body.Resources.map((r: { id: string }) => r.id)).toEqual([mine]);
    expect((await one.c.get(`/Organizations/${theirs}`)).body.displayName).toBe('Theirs');
  });

  it('works in bulk with bulkId references', async () => {
    const { c } = await fresh();
    const res = await c.post('/Bulk', {
      schemas: [BULK_REQUEST],
      Operations: [
        { method: 'POST', path: '/Organizations', bulkId: 'p', data: orgBody('Parent') },
        {
          method: 'POST',
          path: '/Organizations',
          bulkId: 'k',
          data: orgBody('Kid', 'bulkId:p'),
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '201']);
    const kid = res.body.Operations[1].location.split('/').pop();
    expect(await pathOf(c, kid)).toBe('Parent/Kid');
  });

  it('answers 405 with Allow for unsupported methods', async () => {
    const { c } = await fresh();
    const res = await c.call('DELETE', '/Organizations');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
  });
});
