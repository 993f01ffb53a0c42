import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHarness } from '../harness.ts';
import {
  apiMemberIds,
  createGroup,
  createUser,
  expectError,
  filterQ,
  guard,
  memberIds,
  patchOp,
  URN,
  uniq,
  userRow,
} from './helpers.ts';

/** Microsoft Entra ID provisioning with the RFC-compliant behaviour (`aadOptscim062020` on). */
const h = guard(createHarness());

function entraUser(userName: string) {
  return {
    schemas: [URN.user, URN.ent],
    externalId: randomUUID(),
    userName,
    active: true,
    displayName: 'Pat Doe',
    emails: [{ primary: true, type: 'work', value: userName }],
    meta: { resourceType: 'User' },
    name: { formatted: 'Pat Doe', familyName: 'Doe', givenName: 'Pat' },
    roles: [],
    [URN.ent]: { department: 'Sales', employeeNumber: '1001' },
  };
}

async function three(c: Parameters<typeof createUser>[0]) {
  const a = await createUser(c, uniq());
  const b = await createUser(c, uniq());
  const d = await createUser(c, uniq());
  return [a, b, d] as const;
}

describe('Entra current: users', () => {
  it('deactivates with {"op":"replace","path":"active","value":false}; still readable', async () => {
    const t = await h.tenant();
    const id = (await t.c.post('/Users', entraUser(`${uniq()}@x.test`))).body.id;
    const res = await t.c.patch(
      `/Users/${id}`,
      patchOp({ op: 'replace', path: 'active', value: false }),
    );
    expect(res.status).toBe(204);
    expect((await userRow(h, id))?.active).toBe(false);
    const got = await t.c.get(`/Users/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.active).toBe(false);
    expect(got.body.userName).toBeDefined();
  });

  it('no-path replace whose value keys are paths (name.givenName, enterprise URN:attr)', async () => {
    const t = await h.tenant();
    const id = (await t.c.post('/Users', entraUser(`${uniq()}@x.test`))).body.id;
    const res = await t.c.patch(
      `/Users/${id}`,
      patchOp({
        op: 'replace',
        value: {
          displayName: 'Pat Q Doe',
          'name.givenName': 'A',
          [`${URN.ent}:department`]: 'X',
        },
      }),
    );
    expect(res.status).toBe(204);
    const got = (await t.c.get(`/Users/${id}`)).body;
    expect(got.displayName).toBe('Pat Q Doe');
    expect(got.name).toEqual({ formatted: 'Pat Doe', familyName: 'Doe', givenName: 'A' });
    expect(got[URN.ent]).toEqual({ department: 'X', employeeNumber: '1001' });
    const row = await userRow(h, id);
    expect(row?.doc).not.toHaveProperty(['name.givenName']);
    expect(row?.doc).not.toHaveProperty([`${URN.ent}:department`]);
  });

  it('enterprise paths with a colon before the attribute: add, replace, remove', async () => {
    const t = await h.tenant();
    const boss = await createUser(t.c, uniq());
    const id = await createUser(t.c, uniq());
    const res = await t.c.patch(
      `/Users/${id}`,
      patchOp(
        { op: 'add', path: `${URN.ent}:department`, value: 'Finance' },
        { op: 'add', path: `${URN.ent}:employeeNumber`, value: '42' },
        { op: 'add', path: `${URN.ent}:manager`, value: boss },
      ),
    );
    expect(res.status).toBe(204);
    let got = (await t.c.get(`/Users/${id}`)).body;
    expect(got.schemas).toEqual([URN.user, URN.ent]);
    expect(got[URN.ent]).toEqual({
      department: 'Finance',
      employeeNumber: '42',
      manager: { value: boss },
    });
    await t.c.patch(
      `/Users/${id}`,
      patchOp(
        { op: 'replace', path: `${URN.ent}:department`, value: 'Legal' },
        { op: 'remove', path: `${URN.ent}:manager` },
      ),
    );
    got = (await t.c.get(`/Users/${id}`)).body;
    expect(got[URN.ent]).toEqual({ department: 'Legal', employeeNumber: '42' });
    const filtered = await t.c.get(`/Users?${filterQ(`${URN.ent}:employeeNumber eq "42"`)}`);
    expect(filtered.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
  });

  it('filtered paths create phoneNumbers and addresses that do not exist yet', async () => {
    const t = await h.tenant();
    const id = await createUser(t.c, uniq());
    const res = await t.c.patch(
      `/Users/${id}`,
      patchOp(
        { op: 'add', path: 'phoneNumbers[type eq "work"].value', value: '+1 555 0100' },
        { op: 'add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0199' },
        { op: 'add', path: 'addresses[type eq "work"].streetAddress', value: '1 Main St' },
        { op: 'add', path: 'addresses[type eq "work"].locality', value: 'Springfield' },
        { op: 'add', path: 'addresses[type eq "work"].postalCode', value: '12345' },
        { op: 'add', path: 'addresses[type eq "work"].country', value: 'US' },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'pat@work.test' },
      ),
    );
    expect(res.status).toBe(204);
    const got = (await t.c.get(`/Users/${id}`)).body;
    expect(got.phoneNumbers).toEqual([
      { type: 'work', value: '+1 555 0100' },
      { type: 'mobile', value: '+1 555 0199' },
    ]);
    expect(got.addresses).toEqual([
      {
        type: 'work',
        streetAddress: '1 Main St',
        locality: 'Springfield',
        postalCode: '12345',
        country: 'US',
      },
    ]);
    expect(got.emails).toEqual([{ type: 'work', value: 'pat@work.test' }]);
    // the same filtered path now edits the existing value instead of adding another
    await t.c.patch(
      `/Users/${id}`,
      patchOp({ op: 'replace', path: 'phoneNumbers[type eq "work"].value', value: '+1 555 0111' }),
    );
    expect((await t.c.get(`/Users/${id}`)).body.phoneNumbers).toEqual([
      { type: 'work', value: '+1 555 0111' },
      { type: 'mobile', value: '+1 555 0199' },
    ]);
  });

  it('several ops are atomic: a failing 2nd op leaves the 1st unapplied, version unchanged', async () => {
    const t = await h.tenant();
    const id = (await t.c.post('/Users', entraUser(`${uniq()}@x.test`))).body.id;
    const before = await t.c.get(`/Users/${id}`);
    const cases = [
      { op: 'replace', path: 'emails[type eq "work"', value: 'x' },
      { op: 'replace', path: 'active', value: 'maybe' },
      { op: 'remove', path: 'phoneNumbers[type eq "fax"]' },
      { op: 'replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' },
    ];
    for (const bad of cases) {
      const res = await t.c.patch(
        `/Users/${id}`,
        patchOp({ op: 'replace', path: 'displayName', value: 'Changed' }, bad),
      );
      expect(res.status, JSON.stringify(bad)).toBe(400);
      const after = await t.c.get(`/Users/${id}`);
      expect(after.body.displayName).toBe('Pat Doe');
      expect(after.body.meta.version).toBe(before.body.meta.version);
      expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
      expect(after.body).toEqual(before.body);
    }
    expect((await userRow(h, id))?.version).toBe(1);
  });

  it('DELETE /Users/{id} → 204, then 404 with a SCIM error and detail; memberships go', async () => {
    const t = await h.tenant();
    const id = await createUser(t.c, uniq());
    const keep = await createUser(t.c, uniq());
    const gid = await createGroup(t.c, uniq('g'), [id, keep]);
    const del = await t.c.delete(`/Users/${id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    const res = await t.c.get(`/Users/${id}`);
    expectError(res, 404);
    expect(res.body.detail).toMatch(/not found/i);
    expectError(await t.c.delete(`/Users/${id}`), 404);
    expectError(
      await t.c.patch(`/Users/${id}`, patchOp({ op: 'add', path: 'title', value: 'x' })),
      404,
    );
    expect(await memberIds(h, gid)).toEqual([keep]);
  });
});

describe('Entra current: groups', () => {
  it('remove with members[value eq "id"] removes only that member of three', async () => {
    const t = await h.tenant();
    const [a, b, c] = await three(t.c);
    const gid = await createGroup(t.c, uniq('g'), [a, b, c]);
    const res = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'remove', path: `members[value eq "${a}"]` }),
    );
    expect(res.status).toBe(204);
    expect(await memberIds(h, gid)).toEqual([b, c].sort());
    // removing a non-member the same way is a no-op, not an error
    const again = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'remove', path: `members[value eq "${a}"]` }),
    );
    expect(again.status).toBe(204);
    expect(await apiMemberIds(t.c, gid)).toEqual([b, c].sort());
  });

  it('add members then replace displayName in one request', async () => {
    const t = await h.tenant();
    const [a, b] = await three(t.c);
    const gid = await createGroup(t.c, uniq('g'));
    const name = uniq('renamed');
    const res = await t.c.patch(
      `/Groups/${gid}`,
      patchOp(
        { op: 'add', path: 'members', value: [{ value: a }, { value: b }] },
        { op: 'replace', path: 'displayName', value: name },
      ),
    );
    expect(res.status).toBe(204);
    const got = await t.c.get(`/Groups/${gid}`);
    expect(got.body.displayName).toBe(name);
    expect(got.body.members.map((m: { value: string }) => m.value).sort()).toEqual([a, b].sort());
    expect(got.body.members[0]).toMatchObject({ type: 'User' });
    expect(got.body.members[0].$ref).toMatch(/^http:\/\/hub\.test\/scim\/v2\/Users\//);
  });

  it('replace members sets exactly the given list; remove members (no value) clears it', async () => {
    const t = await h.tenant();
    const [a, b, c] = await three(t.c);
    const gid = await createGroup(t.c, uniq('g'), [a, b]);
    const rep = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'replace', path: 'members', value: [{ value: b }, { value: c }] }),
    );
    expect(rep.status).toBe(204);
    expect(await memberIds(h, gid)).toEqual([b, c].sort());
    const clear = await t.c.patch(`/Groups/${gid}`, patchOp({ op: 'remove', path: 'members' }));
    expect(clear.status).toBe(204);
    expect(await memberIds(h, gid)).toEqual([]);
    const got = await t.c.get(`/Groups/${gid}`);
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('members');
    // the users themselves are untouched
    for (const id of [a, b, c]) expect((await t.c.get(`/Users/${id}`)).status).toBe(200);
    // replace with an empty list clears too
    await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'add', path: 'members', value: [{ value: a }] }),
    );
    await t.c.patch(`/Groups/${gid}`, patchOp({ op: 'replace', path: 'members', value: [] }));
    expect(await memberIds(h, gid)).toEqual([]);
  });

  it('members[value eq "a" or value eq "b"] removes exactly those two', async () => {
    const t = await h.tenant();
    const [a, b, c] = await three(t.c);
    const gid = await createGroup(t.c, uniq('g'), [a, b, c]);
    const res = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'remove', path: `members[value eq "${a}" or value eq "${c}"]` }),
    );
    expect(res.status).toBe(204);
    expect(await memberIds(h, gid)).toEqual([b]);
  });

  it('a 2000-member group: one PATCH adds them all, answers 204 without a body', async () => {
    const t = await h.tenant();
    const rows = await h.db.sql<{ id: string }[]>`
      insert into users (tenant_id, user_name, user_name_key, doc)
      select ${t.tenantId}, 'bulk' || i, 'bulk' || i,
        jsonb_build_object('schemas', jsonb_build_array(${URN.user}::text), 'userName', 'bulk' || i)
      from generate_series(1, 2000) as i returning id::text`;
    const gid = await createGroup(t.c, uniq('g'));
    const res = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'add', path: 'members', value: rows.map((r) => ({ value: r.id })) }),
    );
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await memberIds(h, gid)).length).toBe(2000);
    const slim = await t.c.get(`/Groups/${gid}?excludedAttributes=members`);
    expect(slim.text.length).toBeLessThan(1000);
    const one = rows[0]?.id as string;
    const rm = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'remove', path: `members[value eq "${one}"]` }),
    );
    expect(rm.status).toBe(204);
    expect((await memberIds(h, gid)).length).toBe(1999);
  });

  it('the ADSCIM schema URN with an unknown attribute under it → 201', async () => {
    const t = await h.tenant();
    const res = await t.c.post('/Groups', {
      schemas: [URN.group, URN.adscimGroup],
      externalId: randomUUID(),
      displayName: uniq('g'),
      [URN.adscimGroup]: { something: 'x' },
      meta: { resourceType: 'Group' },
    });
    expect(res.status).toBe(201);
    expect(res.body.schemas).toEqual([URN.group]);
    expect(res.body).not.toHaveProperty(URN.adscimGroup);
  });
});
