import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';
import {
  checkedClient,
  createGroup,
  createUser,
  groupBody,
  patchBody,
  type ScimClient,
} from '../test/scim-helpers.ts';

const h = createHarness();

async function fresh(): Promise<ScimClient> {
  const t = await h.tenant();
  return checkedClient(h, t.scimToken);
}

const addMembers = (c: ScimClient, group: string, ids: string[]) =>
  c.patch(
    `/Groups/${group}`,
    patchBody({ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }),
  );

async function memberIds(c: ScimClient, group: string): Promise<string[]> {
  const res = await c.get(`/Groups/${group}`);
  expect(res.status).toBe(200);
  return ((res.body.members ?? []) as { value: string }[]).map((m) => m.value).sort();
}

async function groupsOf(c: ScimClient, user: string): Promise<Record<string, string>> {
  const res = await c.get(`/Users/${user}?attributes=groups`);
  expect(res.status).toBe(200);
  return Object.fromEntries(
    ((res.body.groups ?? []) as { value: string; type: string }[]).map((g) => [g.value, g.type]),
  );
}

const version = async (c: ScimClient, path: string) => (await c.get(path)).body.meta.version;

describe('nested groups', () => {
  it("a group can contain a group; a user's groups show direct and indirect with type", async () => {
    const c = await fresh();
    const u = await createUser(c, 'nested-user');
    const team = await createGroup(c, 'team', [u]);
    const dept = await createGroup(c, 'dept', [team]);
    const org = await createGroup(c, 'org');
    expect((await addMembers(c, org, [dept])).status).toBe(204);
    const unrelated = await createGroup(c, 'unrelated');
    expect(await groupsOf(c, u)).toEqual({
      [team]: 'direct',
      [dept]: 'indirect',
      [org]: 'indirect',
    });
    const deptRes = await c.get(`/Groups/${dept}`);
    expect(deptRes.body.members).toEqual([
      expect.objectContaining({ value: team, type: 'Group', display: 'team' }),
    ]);
    expect(deptRes.body.members[0].$ref).toMatch(new RegExp(`/Groups/${team}$`));
    // A direct membership wins over an indirect one to the same group.
    expect((await addMembers(c, org, [u])).status).toBe(204);
    expect((await groupsOf(c, u))[org]).toBe('direct');
    expect(await groupsOf(c, u)).not.toHaveProperty(unrelated);
  });

  it('filters groups by member and users by group', async () => {
    const c = await fresh();
    const u = await createUser(c, 'filter-user');
    const g = await createGroup(c, 'filter-group', [u]);
    await createGroup(c, 'other-group');
    const byMember = await c.get(`/Groups?filter=${encodeURIComponent(`members.value eq "${u}"`)}`);
    expect(byMember.body.Resources.map((r: { id: string }) => r.id)).toEqual([g]);
    const byGroup = await c.get(`/Users?filter=${encodeURIComponent(`groups.value eq "${g}"`)}`);
    expect(byGroup.body.Resources.map((r: { id: string }) => r.id)).toEqual([u]);
  });

  it('member type must match the referenced resource', async () => {
    const c = await fresh();
    const u = await createUser(c, 'typed');
    const g = await createGroup(c, 'typed-group');
    const res = await c.patch(
      `/Groups/${g}`,
      patchBody({ op: 'add', path: 'members', value: [{ value: u, type: 'Group' }] }),
    );
    expect(res.status).toBe(400);
    expect(await memberIds(c, g)).toEqual([]);
  });
});

describe('cycles are rejected', () => {
  it('self-membership, by PATCH, PUT and replace', async () => {
    const c = await fresh();
    const g = await createGroup(c, 'narcissus');
    const v = await version(c, `/Groups/${g}`);
    const attempts = [
      await addMembers(c, g, [g]),
      await c.put(`/Groups/${g}`, groupBody('narcissus', [g])),
      await c.patch(
        `/Groups/${g}`,
        patchBody({ op: 'replace', path: 'members', value: [{ value: g }] }),
      ),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
    }
    expect(await memberIds(c, g)).toEqual([]);
    expect(await version(c, `/Groups/${g}`)).toBe(v);
  });

  it('A in B, then B in A → 400; also through a longer chain', async () => {
    const c = await fresh();
    const a = await createGroup(c, 'A');
    const b = await createGroup(c, 'B');
    expect((await addMembers(c, b, [a])).status).toBe(204);
    const back = await addMembers(c, a, [b]);
    expect(back.status).toBe(400);
    expect(back.body.scimType).toBe('invalidValue');
    expect(await memberIds(c, a)).toEqual([]);
    const cc = await createGroup(c, 'C', [b]);
    const d = await createGroup(c, 'D', [cc]);
    // D ⊃ C ⊃ B ⊃ A: putting D into A closes a loop of four.
    const loop = await c.put(`/Groups/${a}`, groupBody('A', [d]));
    expect(loop.status).toBe(400);
    expect(await memberIds(c, a)).toEqual([]);
    // Not a cycle: a diamond (D contains B directly as well as through C).
    expect((await addMembers(c, d, [b])).status).toBe(204);
    expect(await memberIds(c, d)).toEqual([b, cc].sort());
  });

  it('a cycle inside a multi-operation PATCH leaves nothing applied', async () => {
    const c = await fresh();
    const u = await createUser(c, 'atomic');
    const a = await createGroup(c, 'atomic-A');
    const b = await createGroup(c, 'atomic-B', [a]);
    const res = await c.patch(
      `/Groups/${a}`,
      patchBody(
        { op: 'add', path: 'members', value: [{ value: u }] },
        { op: 'add', path: 'members', value: [{ value: b }] },
      ),
    );
    expect(res.status).toBe(400);
    expect(await memberIds(c, a)).toEqual([]);
  });
});

describe('deleting members', () => {
  it('deleting a user removes it from its groups and bumps their versions', async () => {
    const c = await fresh();
    const u = await createUser(c, 'doomed');
    const keep = await createUser(c, 'keeper');
    const g1 = await createGroup(c, 'g1', [u, keep]);
    const g2 = await createGroup(c, 'g2', [u]);
    const g3 = await createGroup(c, 'g3', [keep]);
    const before = {
      g1: await c.get(`/Groups/${g1}`),
      g2: await c.get(`/Groups/${g2}`),
      g3: await c.get(`/Groups/${g3}`),
    };
    expect((await c.delete(`/Users/${u}`)).status).toBe(204);
    expect((await c.get(`/Users/${u}`)).status).toBe(404);
    expect(await memberIds(c, g1)).toEqual([keep]);
    expect(await memberIds(c, g2)).toEqual([]);
    expect(await h.db.sql`select 1 from group_members where member_id = ${u}`).toHaveLength(0);
    for (const [key, g] of [
      ['g1', g1],
      ['g2', g2],
    ] as const) {
      const after = await c.get(`/Groups/${g}`);
      expect(after.body.meta.version).not.toBe(before[key].body.meta.version);
      expect(Date.parse(after.body.meta.lastModified)).toBeGreaterThan(
        Date.parse(before[key].body.meta.lastModified),
      );
      // A client holding the old ETag sees the change.
      const cond = await c.get(`/Groups/${g}`, { 'If-None-Match': before[key].body.meta.version });
      expect(cond.status).toBe(200);
    }
    expect((await c.get(`/Groups/${g3}`)).body.meta.version).toBe(before.g3.body.meta.version);
  });

  it('deleting a nested group removes it from its parents; the user loses the indirect group', async () => {
    const c = await fresh();
    const u = await createUser(c, 'inner-user');
    const inner = await createGroup(c, 'inner', [u]);
    const outer = await createGroup(c, 'outer', [inner]);
    const v = await version(c, `/Groups/${outer}`);
    expect(await groupsOf(c, u)).toEqual({ [inner]: 'direct', [outer]: 'indirect' });
    expect((await c.delete(`/Groups/${inner}`)).status).toBe(204);
    expect(await memberIds(c, outer)).toEqual([]);
    expect(await version(c, `/Groups/${outer}`)).not.toBe(v);
    expect(await groupsOf(c, u)).toEqual({});
    expect((await c.get(`/Users/${u}`)).status).toBe(200);
  });
});

describe('member changes', () => {
  it('add is idempotent; remove dialects remove only the listed members', async () => {
    const c = await fresh();
    const [u1, u2, u3, u4] = await Promise.all(
      ['r1', 'r2', 'r3', 'r4'].map((n) => createUser(c, n)),
    );
    const g = await createGroup(c, 'dialects', [u1 as string, u2 as string]);
    expect((await addMembers(c, g, [u1 as string, u3 as string, u4 as string])).status).toBe(204);
    expect(await memberIds(c, g)).toEqual([u1, u2, u3, u4].sort());
    await c.patch(
      `/Groups/${g}`,
      patchBody({ op: 'Remove', path: 'members', value: [{ value: u1 }] }),
    );
    expect(await memberIds(c, g)).toEqual([u2, u3, u4].sort());
    await c.patch(`/Groups/${g}`, patchBody({ op: 'remove', path: `members[value eq "${u2}"]` }));
    expect(await memberIds(c, g)).toEqual([u3, u4].sort());
    // Removing a non-member changes nothing.
    const v = await version(c, `/Groups/${g}`);
    const noop = await c.patch(
      `/Groups/${g}`,
      patchBody({ op: 'remove', path: `members[value eq "${randomUUID()}"]` }),
    );
    expect(noop.status).toBeLessThan(300);
    expect(await version(c, `/Groups/${g}`)).toBe(v);
    await c.patch(`/Groups/${g}`, patchBody({ op: 'remove', path: 'members' }));
    expect(await memberIds(c, g)).toEqual([]);
  });

  it('unknown or malformed member ids are a 400 and never stored', async () => {
    const c = await fresh();
    const g = await createGroup(c, 'strict');
    for (const value of [randomUUID(), 'not-an-id', '']) {
      const res = await c.patch(
        `/Groups/${g}`,
        patchBody({ op: 'add', path: 'members', value: [{ value }] }),
      );
      expect(res.status, value).toBe(400);
    }
    const post = await c.post('/Groups', groupBody('strict-2', [randomUUID()]));
    expect(post.status).toBe(400);
    expect(await memberIds(c, g)).toEqual([]);
  });
});
