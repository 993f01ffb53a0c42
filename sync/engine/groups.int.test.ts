import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import { seededUser, startSambaDc, type TestSambaDc } from '../../test/samba.ts';
import { startSlapd, type TestSlapd } from '../../test/slapd.ts';
import { engineFixture, ldapModify } from './test-helpers.ts';

const h = createHarness();
const f = engineFixture(h);
let ldap: TestSlapd;
beforeAll(async () => {
  ldap = await startSlapd();
});
afterAll(async () => {
  await ldap?.stop();
});

const groupDn = (cn: string) => `cn=${cn},ou=groups,${ldap.baseDn}`;

type GroupRow = {
  id: string;
  display_name: string;
  version: number;
  source: string;
  external_id: string | null;
};

async function groupsOf(tenantId: string): Promise<Map<string, GroupRow>> {
  const rows = await h.db.sql<GroupRow[]>`
    select id, display_name, version, source, external_id from groups
    where tenant_id = ${tenantId}`;
  rows.sort((a, b) => (a.display_name < b.display_name ? -1 : 1));
  return new Map(rows.map((r) => [r.display_name, r]));
}

/** A group's members as `User:<userName>` / `Group:<displayName>`, sorted. */
async function membersOf(groupId: string): Promise<string[]> {
  const rows = await h.db.sql<{ label: string }[]>`
    select gm.member_type || ':' || coalesce(u.user_name, g.display_name) as label
    from group_members gm
      left join users u on u.id = gm.member_id
      left join groups g on g.id = gm.member_id
    where gm.group_id = ${groupId}`;
  return rows.map((r) => r.label).sort();
}

async function groupOutbox(tenantId: string): Promise<number> {
  const [row] = await h.db.sql<{ n: number }[]>`select count(*)::int as n from outbox
    where tenant_id = ${tenantId} and resource_type = 'Group'`;
  return row?.n ?? 0;
}

async function runErrors(runId: string): Promise<{ entry: string; reason: string }[]> {
  return h.db.sql<{ entry: string; reason: string }[]>`
    select entry, reason from sync_run_errors where run_id = ${runId} order by entry`;
}

async function wholeDirectoryJob(tenantId: string) {
  const ds = await f.directSource(tenantId, ldap);
  const job = await f.job(tenantId, {
    dataSourceId: ds.id,
    kind: 'import_active',
    baseDn: ldap.baseDn,
    options: { groups: {} },
  });
  return { ds, job };
}

const STAFF = ['User:alice', 'User:bob', 'User:jsmith', 'User:obrien', 'User:zoe'];

describe('directory groups from OpenLDAP', () => {
  it('imports the groups with their members and nested groups, then writes nothing for an unchanged directory', async () => {
    const t = await h.tenant();
    const { ds, job } = await wholeDirectoryJob(t.tenantId);
    const first = await f.runNow(t.tenantId, job.id);
    expect(first).toMatchObject({ status: 'succeeded', created: 5, failed: 0 });

    const groups = await groupsOf(t.tenantId);
    expect([...groups.keys()]).toEqual(['admins', 'everyone', 'staff']);
    for (const g of groups.values()) {
      expect(g.source).toBe(`ldap:${ds.id}`);
      expect(g.external_id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const id = (name: string) => groups.get(name)?.id as string;
    expect(await membersOf(id('staff'))).toEqual(STAFF);
    expect(await membersOf(id('admins'))).toEqual(['User:alice']);
    expect(await membersOf(id('everyone'))).toEqual(['Group:admins', 'Group:staff']);

    // Over SCIM: nested groups are members of type Group; a user's groups include the nesting.
    const scim = h.scimClient(t.scimToken);
    const everyone = await scim.get(`/Groups/${id('everyone')}`);
    expect(everyone.status).toBe(200);
    expect(everyone.body.externalId).toBe(groups.get('everyone')?.external_id);
    expect(
      (everyone.body.members as { value: string; type: string }[])
        .map((m) => `${m.type}:${m.value}`)
        .sort(),
    ).toEqual([`Group:${id('admins')}`, `Group:${id('staff')}`].sort());

    const [audit] = await h.db.sql<{ summary: Record<string, number> }[]>`
      select summary from audit_log where tenant_id = ${t.tenantId} and action = 'syncRun.groups'`;
    expect(audit?.summary).toMatchObject({
      read: 3,
      created: 3,
      failed: 0,
      membersAdded: 8,
      unresolved: 0,
    });

    // Second run: nothing changed, so no group is written (versions and outbox as they were).
    const versions = new Map([...groups.values()].map((g) => [g.id, g.version]));
    const outbox = await groupOutbox(t.tenantId);
    const second = await f.runNow(t.tenantId, job.id);
    expect(second).toMatchObject({ status: 'succeeded', failed: 0, created: 0, updated: 0 });
    for (const g of (await groupsOf(t.tenantId)).values()) {
      expect(g.version).toBe(versions.get(g.id));
    }
    expect(await groupOutbox(t.tenantId)).toBe(outbox);
  });

  it('follows a member removed in the directory: only that group is written', async () => {
    const t = await h.tenant();
    const { job } = await wholeDirectoryJob(t.tenantId);
    await f.runNow(t.tenantId, job.id);
    const before = await groupsOf(t.tenantId);
    const staff = before.get('staff') as GroupRow;
    const bob = `uid=bob,ou=people,${ldap.baseDn}`;
    await ldapModify(
      ldap,
      `dn: ${groupDn('staff')}\nchangetype: modify\ndelete: member\nmember: ${bob}\n\n`,
    );
    try {
      const r = await f.runNow(t.tenantId, job.id);
      expect(r).toMatchObject({ status: 'succeeded', failed: 0 });
      const after = await groupsOf(t.tenantId);
      for (const [name, g] of after) {
        expect(g.version).toBe((before.get(name)?.version ?? 0) + (name === 'staff' ? 1 : 0));
      }
      expect(await membersOf(staff.id)).toEqual(STAFF.filter((m) => m !== 'User:bob'));
      const [event] = await h.db.sql<{ version: number; detail: any }[]>`
        select version, detail from outbox where tenant_id = ${t.tenantId}
          and resource_type = 'Group' order by id desc limit 1`;
      const [bobUser] = await h.db.sql<{ id: string }[]>`
        select id from users where tenant_id = ${t.tenantId} and user_name = 'bob'`;
      expect(event).toMatchObject({
        version: staff.version + 1,
        detail: { members: { added: [], removed: [bobUser?.id], cleared: false } },
      });
    } finally {
      await ldapModify(
        ldap,
        `dn: ${groupDn('staff')}\nchangetype: modify\nadd: member\nmember: ${bob}\n\n`,
      );
    }
    await f.runNow(t.tenantId, job.id);
    expect(await membersOf(staff.id)).toEqual(STAFF);
  });

  it('correlates an unlinked hub group by displayName; a name taken by a linked group is a per-entry error', async () => {
    const t = await h.tenant();
    const scim = h.scimClient(t.scimToken);
    const post = (displayName: string) =>
      scim.post('/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName,
      });
    const admins = await post('admins');
    const staff = await post('Staff');
    expect([admins.status, staff.status]).toEqual([201, 201]);
    // "Staff" belongs to another directory already.
    await h.db.sql`update groups set source = 'ldap:another-source', external_id = 'elsewhere'
      where id = ${staff.body.id}`;

    const { job } = await wholeDirectoryJob(t.tenantId);
    const r = await f.runNow(t.tenantId, job.id);
    expect(r).toMatchObject({ status: 'succeeded', created: 5, failed: 1 });
    expect(await runErrors(r.id)).toEqual([
      {
        entry: groupDn('staff'),
        reason: 'displayName "staff" is taken by a group linked to another directory entry',
      },
    ]);
    const groups = await groupsOf(t.tenantId);
    expect([...groups.keys()]).toEqual(['Staff', 'admins', 'everyone']);
    expect(groups.get('admins')?.id).toBe(admins.body.id);
    expect(groups.get('admins')?.source).toMatch(/^ldap:/);
    expect(groups.get('Staff')?.source).toBe('ldap:another-source');
    expect(await membersOf(admins.body.id)).toEqual(['User:alice']);
    expect(await membersOf(staff.body.id)).toEqual([]);
    // staff was not imported: everyone holds only admins (the other member is skipped).
    expect(await membersOf(groups.get('everyone')?.id as string)).toEqual(['Group:admins']);
  });

  it('refuses a rename onto a taken displayName and a membership cycle, entry by entry', async () => {
    const t = await h.tenant();
    const { job } = await wholeDirectoryJob(t.tenantId);
    const alice = `uid=alice,ou=people,${ldap.baseDn}`;
    await ldapModify(
      ldap,
      `dn: ${groupDn('projects')}\nchangetype: add\nobjectClass: groupOfNames\ncn: projects\nmember: ${alice}\n\n`,
    );
    let renamed = false;
    try {
      expect(await f.runNow(t.tenantId, job.id)).toMatchObject({ failed: 0 });
      const before = await groupsOf(t.tenantId);
      const scim = h.scimClient(t.scimToken);
      const taken = await scim.post('/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'Clashing',
      });
      expect(taken.status).toBe(201);
      await ldapModify(
        ldap,
        `dn: ${groupDn('projects')}\nchangetype: modrdn\nnewrdn: cn=Clashing\ndeleteoldrdn: 1\n\n` +
          // staff ⊃ everyone ⊃ staff: a cycle
          `dn: ${groupDn('staff')}\nchangetype: modify\nadd: member\nmember: ${groupDn('everyone')}\n\n`,
      );
      renamed = true;
      const r = await f.runNow(t.tenantId, job.id);
      expect(r).toMatchObject({ status: 'succeeded', failed: 2 });
      expect(await runErrors(r.id)).toEqual([
        {
          entry: groupDn('Clashing'),
          reason: 'displayName "Clashing" is already taken by another group',
        },
        {
          entry: groupDn('staff'),
          reason: 'members not updated: adding these members would create a group cycle',
        },
      ]);
      const after = await groupsOf(t.tenantId);
      expect(after.get('projects')?.id).toBe(before.get('projects')?.id);
      expect(after.get('Clashing')?.id).toBe(taken.body.id);
      for (const [name, g] of before) expect(after.get(name)?.version).toBe(g.version);
      expect(await membersOf(after.get('staff')?.id as string)).toEqual(STAFF);
    } finally {
      await ldapModify(
        ldap,
        `dn: ${groupDn(renamed ? 'Clashing' : 'projects')}\nchangetype: delete\n\n` +
          (renamed
            ? `dn: ${groupDn('staff')}\nchangetype: modify\ndelete: member\nmember: ${groupDn('everyone')}\n\n`
            : ''),
      );
    }
  });

  it('writes nothing in a dry run', async () => {
    const t = await h.tenant();
    const { job } = await wholeDirectoryJob(t.tenantId);
    const r = await f.runNow(t.tenantId, job.id, { dryRun: true });
    expect(r).toMatchObject({ status: 'succeeded', created: 5, failed: 0 });
    expect((await groupsOf(t.tenantId)).size).toBe(0);
    expect(await groupOutbox(t.tenantId)).toBe(0);
    const [n] = await h.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log
      where tenant_id = ${t.tenantId} and action like 'syncRun.group%'`;
    expect(n?.n).toBe(0);
  });
});

describe('directory groups from Samba AD', () => {
  let dc: TestSambaDc;
  beforeAll(async () => {
    dc = await startSambaDc();
  }, 240_000);
  afterAll(async () => {
    await dc?.stop();
  });

  it('imports a group above MaxValRange with every member resolved, and a nested pair', async () => {
    const t = await h.tenant();
    const ds = await f.directSource(t.tenantId, dc);
    const job = await f.job(t.tenantId, {
      dataSourceId: ds.id,
      kind: 'import_active',
      baseDn: dc.usersDn,
      // Every seeded user, the disabled ones too: all 1600 members of BigGroup are imported.
      filter: '(&(objectCategory=person)(objectClass=user))',
      options: { directory: 'activeDirectory', groups: { baseDn: dc.groupsDn } },
    });
    const r = await f.runNow(t.tenantId, job.id);
    expect(r).toMatchObject({ status: 'succeeded', created: dc.seed.users, failed: 0 });
    const groups = await groupsOf(t.tenantId);
    expect([...groups.keys()]).toEqual(['BigGroup', 'Inner', 'Outer']);
    const big = groups.get('BigGroup') as GroupRow;
    const [count] = await h.db.sql<{ users: number; all: number }[]>`
      select count(*) filter (where member_type = 'User')::int as users, count(*)::int as all
      from group_members where group_id = ${big.id}`;
    expect(count).toEqual({ users: dc.seed.bigGroupMembers, all: dc.seed.bigGroupMembers });
    expect(await membersOf(groups.get('Outer')?.id as string)).toEqual(['Group:Inner']);
    expect(await membersOf(groups.get('Inner')?.id as string)).toEqual([
      `User:${seededUser(1).sAMAccountName}`,
    ]);

    // Unchanged: the groups are read again in full and none is written.
    const again = await f.runNow(t.tenantId, job.id);
    expect(again).toMatchObject({ status: 'succeeded', failed: 0, created: 0, updated: 0 });
    for (const g of (await groupsOf(t.tenantId)).values()) {
      expect(g.version).toBe(groups.get(g.display_name)?.version);
    }
  }, 120_000);
});
