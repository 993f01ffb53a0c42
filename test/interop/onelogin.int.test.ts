import { describe, expect, it } from 'vitest';
import { createHarness } from '../harness.ts';
import {
  createGroup,
  createUser,
  expectError,
  filterQ,
  guard,
  memberIds,
  patchOp,
  snapshot,
  URN,
  uniq,
  userRow,
} from './helpers.ts';

/**
 * OneLogin SCIM provisioning: bodies come from JSON templates, so booleans arrive as the strings
 * `"True"` / `"False"` and unset template fields as empty strings.
 */
const h = guard(createHarness());

/** The user template with its `{$user.*}` placeholders filled in. */
function templated(userName: string, active: unknown, extra: Record<string, unknown> = {}) {
  return {
    schemas: [URN.user, URN.ent],
    userName,
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ value: userName, type: 'work', primary: 'True' }],
    title: '',
    active,
    [URN.ent]: { department: 'Research', manager: { value: '' } },
    ...extra,
  };
}

describe('OneLogin: users', () => {
  it('POST with "active":"True" → 201 and a real boolean true', async () => {
    const t = await h.tenant();
    const res = await t.c.post('/Users', templated(`${uniq()}@onelogin.test`, 'True'));
    expect(res.status).toBe(201);
    expect(res.body.active).toBe(true);
    expect(res.body.emails).toEqual([{ value: res.body.userName, type: 'work', primary: true }]);
    // unset template values ("") are unassigned, not empty strings
    expect(res.body).not.toHaveProperty('title');
    expect(res.body[URN.ent]).toEqual({ department: 'Research' });
    const row = await userRow(h, res.body.id);
    expect(row?.active).toBe(true);
    expect(row?.doc.active).toBe(true);
  });

  it('POST with "active":"False" creates an inactive user (never Boolean("False"))', async () => {
    const t = await h.tenant();
    const res = await t.c.post('/Users', templated(`${uniq()}@onelogin.test`, 'False'));
    expect(res.status).toBe(201);
    expect(res.body.active).toBe(false);
    const row = await userRow(h, res.body.id);
    expect(row?.active).toBe(false);
    expect(row?.doc.active).toBe(false);
    const listed = await t.c.get(`/Users?${filterQ('active eq false')}`);
    expect(listed.body.totalResults).toBe(1);
  });

  it('the strings are case-insensitive ("TRUE", "false")', async () => {
    const t = await h.tenant();
    const on = await t.c.post('/Users', templated(`${uniq()}@onelogin.test`, 'TRUE'));
    const off = await t.c.post('/Users', templated(`${uniq()}@onelogin.test`, 'false'));
    expect([on.status, off.status]).toEqual([201, 201]);
    expect([on.body.active, off.body.active]).toEqual([true, false]);
  });

  it('a boolean string that is neither true nor false → 400 invalidValue, nothing stored', async () => {
    const t = await h.tenant();
    const before = await snapshot(h, t.tenantId);
    for (const active of ['yes', '1', 'Truee', 'on', 1]) {
      const res = await t.c.post('/Users', templated(`${uniq()}@onelogin.test`, active));
      expectError(res, 400, 'invalidValue');
    }
    expect(await snapshot(h, t.tenantId)).toEqual(before);
  });

  it('PUT with "active":"False" deactivates; PUT with "active":"True" reactivates', async () => {
    const t = await h.tenant();
    const userName = `${uniq()}@onelogin.test`;
    const id = (await t.c.post('/Users', templated(userName, 'True'))).body.id;
    const off = await t.c.put(`/Users/${id}`, templated(userName, 'False'));
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect((await userRow(h, id))?.active).toBe(false);
    expect((await t.c.get(`/Users/${id}`)).body.active).toBe(false);
    const on = await t.c.put(`/Users/${id}`, templated(userName, 'True'));
    expect(on.body.active).toBe(true);
  });

  it('PATCH with "active":"False" as a no-path value and as a path value', async () => {
    const t = await h.tenant();
    const id = (await t.c.post('/Users', templated(`${uniq()}@onelogin.test`, 'True'))).body.id;
    await t.c.patch(`/Users/${id}`, patchOp({ op: 'replace', value: { active: 'False' } }));
    expect((await userRow(h, id))?.active).toBe(false);
    await t.c.patch(`/Users/${id}`, patchOp({ op: 'replace', path: 'active', value: 'True' }));
    expect((await userRow(h, id))?.active).toBe(true);
  });
});

describe('OneLogin: groups', () => {
  it('add and remove members with value arrays, only the listed ones', async () => {
    const t = await h.tenant();
    const a = await createUser(t.c, uniq());
    const b = await createUser(t.c, uniq());
    const c = await createUser(t.c, uniq());
    const gid = await createGroup(t.c, uniq('g'));
    const add = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'add', path: 'members', value: [{ value: a }, { value: b }, { value: c }] }),
    );
    expect(add.status).toBe(204);
    const rm = await t.c.patch(
      `/Groups/${gid}`,
      patchOp({ op: 'remove', path: 'members', value: [{ value: a }, { value: c }] }),
    );
    expect(rm.status).toBe(204);
    expect(await memberIds(h, gid)).toEqual([b]);
  });
});
