import { randomUUID } from 'node:crypto';
import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { groupMembers, groups, users } from '../../db/schema/index.ts';
import { createHarness } from '../../test/harness.ts';
import { attr, groupKind, type ResourceKind, userKind } from '../schemas/index.ts';
import { compileFilter, compileSortKey } from './compile.ts';
import { parseFilter } from './parse.ts';
import { scimError } from './test-helpers.ts';

const h = createHarness();
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

interface Fixture {
  tenantId: string;
  otherTenantId: string;
  ids: Record<string, string>;
}
let fx: Fixture;

async function insertUser(tenantId: string, key: string, doc: Record<string, unknown>, at: string) {
  const id = randomUUID();
  const userName = String(doc.userName);
  await h.db.db.insert(users).values({
    id,
    tenantId,
    userName,
    userNameKey: userName.normalize('NFKC').toLowerCase(),
    externalId: (doc.externalId as string | undefined) ?? null,
    active: doc.active !== false,
    displayName: (doc.displayName as string | undefined) ?? null,
    doc,
    createdAt: new Date(at),
    updatedAt: new Date(at),
  });
  fx.ids[key] = id;
  return id;
}

async function insertGroup(tenantId: string, key: string, displayName: string, members: string[]) {
  const id = randomUUID();
  await h.db.db.insert(groups).values({
    id,
    tenantId,
    displayName,
    displayNameKey: displayName.normalize('NFKC').toLowerCase(),
    doc: { displayName },
  });
  for (const memberId of members) {
    await h.db.db
      .insert(groupMembers)
      .values({ tenantId, groupId: id, memberId, memberType: 'User' });
  }
  fx.ids[key] = id;
  return id;
}

beforeAll(async () => {
  const [t, other] = await Promise.all([h.tenant(), h.tenant()]);
  fx = { tenantId: t.tenantId, otherTenantId: other.tenantId, ids: {} };
  const alice = await insertUser(
    t.tenantId,
    'alice',
    {
      userName: 'Alice@Example.com',
      externalId: 'ext-1',
      name: { givenName: 'Alice', familyName: 'Liddell' },
      title: 'Engineer',
      emails: [
        { value: 'alice@work.example', type: 'work', primary: true },
        { value: 'alice@home.example', type: 'home' },
      ],
      [ENT]: { employeeNumber: '701', manager: { value: 'm-1' } },
    },
    '2024-01-10T00:00:00Z',
  );
  const bob = await insertUser(
    t.tenantId,
    'bob',
    {
      userName: 'bob_50%',
      active: false,
      displayName: 'Bob "The" Builder',
      emails: 'not-an-array',
    },
    '2024-02-10T00:00:00Z',
  );
  await insertUser(
    t.tenantId,
    'carol',
    {
      userName: 'carol',
      title: '',
      emails: [{ value: 'carol@home.example', type: 'home', primary: true }],
    },
    '2024-03-10T00:00:00Z',
  );
  await insertGroup(t.tenantId, 'admins', 'Admins', [alice]);
  await insertGroup(t.tenantId, 'empty', 'Empty', []);
  // A membership row from another tenant pointing at bob must never count.
  const foreign = await insertGroup(other.tenantId, 'foreign', 'Foreign', []);
  await h.db.db
    .insert(groupMembers)
    .values({ tenantId: other.tenantId, groupId: foreign, memberId: bob, memberType: 'User' });
});

async function userKeys(filter: string, order?: SQL): Promise<string[]> {
  const where = and(
    eq(users.tenantId, fx.tenantId),
    compileFilter(parseFilter(filter), userKind, 'users'),
  );
  const rows = await h.db.db
    .select({ id: users.id })
    .from(users)
    .where(where)
    .orderBy(order ?? asc(users.createdAt));
  const byId = Object.fromEntries(Object.entries(fx.ids).map(([k, v]) => [v, k]));
  return rows.map((r) => byId[r.id] ?? r.id);
}

async function groupKeys(filter: string): Promise<string[]> {
  const where = and(
    eq(groups.tenantId, fx.tenantId),
    compileFilter(parseFilter(filter), groupKind, 'groups'),
  );
  const rows = await h.db.db
    .select({ id: groups.id })
    .from(groups)
    .where(where)
    .orderBy(asc(groups.displayNameKey));
  const byId = Object.fromEntries(Object.entries(fx.ids).map(([k, v]) => [v, k]));
  return rows.map((r) => byId[r.id] ?? r.id);
}

describe('compileFilter against PostgreSQL', () => {
  it.each([
    ['userName eq "ALICE@example.COM"', ['alice']],
    ['userName co "_50%"', ['bob']],
    ['userName co "%"', ['bob']],
    ['userName sw "c"', ['carol']],
    ['userName eq "00000000-0000-0000-0000-000000000000"', []],
    ['id eq "not-a-uuid"', []],
    ['id ne "not-a-uuid"', ['alice', 'bob', 'carol']],
    ['externalId eq "ext-1"', ['alice']],
    ['externalId eq "EXT-1"', []],
    ['externalId pr', ['alice']],
    ['active eq false', ['bob']],
    ['active eq "True"', ['alice', 'carol']],
    ['displayName eq "bob \\"the\\" builder"', ['bob']],
    ['name.givenName eq "alice"', ['alice']],
    ['title pr', ['alice']],
    ['title eq null', ['bob', 'carol']],
    ['title ne "Engineer"', ['bob', 'carol']],
    ['not (title eq "Engineer" or active eq false)', ['carol']],
    ['emails co "HOME.example"', ['alice', 'carol']],
    ['emails[type eq "work"].value eq "alice@work.example"', ['alice']],
    ['emails[type eq "home" and primary eq true]', ['carol']],
    ['emails.primary eq true', ['alice', 'carol']],
    ['emails pr', ['alice', 'carol']],
    ['not (emails pr)', ['bob']],
    [`${ENT}:employeeNumber eq "701"`, ['alice']],
    [`${ENT}:manager.value eq "m-1"`, ['alice']],
    [`${ENT}:manager[value eq "m-1"]`, ['alice']],
    ['meta.created ge "2024-02-10T00:00:00Z"', ['bob', 'carol']],
    ['meta.lastModified lt "2024-02-01"', ['alice']],
    ['meta.resourceType eq "User"', ['alice', 'bob', 'carol']],
    ['groups pr', ['alice']],
  ])('users: %s', async (filter, expected) => {
    expect(await userKeys(filter)).toEqual(expected);
  });

  it('filters users by group id, ignoring other tenants’ rows', async () => {
    expect(await userKeys(`groups.value eq "${fx.ids.admins}"`)).toEqual(['alice']);
    expect(await userKeys(`groups[value eq "${fx.ids.foreign}"]`)).toEqual([]);
    expect(await userKeys(`id eq "${fx.ids.bob?.toUpperCase()}"`)).toEqual(['bob']);
  });

  it('filters groups by member and name', async () => {
    expect(await groupKeys(`members[value eq "${fx.ids.alice}"]`)).toEqual(['admins']);
    expect(await groupKeys(`members.value eq "${fx.ids.bob}"`)).toEqual([]);
    expect(await groupKeys('members pr')).toEqual(['admins']);
    expect(await groupKeys('not (members pr)')).toEqual(['empty']);
    expect(await groupKeys('displayName eq "ADMINS"')).toEqual(['admins']);
    expect(await groupKeys('members[type eq "user"]')).toEqual(['admins']);
  });

  it('runs every sort key', async () => {
    const key = (p: string) => compileSortKey(p, userKind, 'users');
    expect(await userKeys('userName pr', asc(key('userName')))).toEqual(['alice', 'bob', 'carol']);
    expect(await userKeys('userName pr', asc(key('emails')))).toEqual(['alice', 'carol', 'bob']);
    for (const p of [
      'name.givenName',
      'active',
      'meta.lastModified',
      'emails.primary',
      `${ENT}:manager.value`,
      'id',
    ]) {
      expect(await userKeys('userName pr', asc(key(p)))).toHaveLength(3);
    }
  });

  it('compares typed document values (dateTime, integer) without casting junk', async () => {
    const kind: ResourceKind = {
      ...userKind,
      core: {
        ...userKind.core,
        attributes: [
          ...userKind.core.attributes,
          attr('hired', 'dateTime'),
          attr('level', 'integer'),
        ],
      },
    };
    await h.db.db
      .update(users)
      .set({ doc: sql`${users.doc} || '{"hired":"2020-05-01T09:00:00Z","level":3}'::jsonb` })
      .where(eq(users.id, fx.ids.alice ?? ''));
    await h.db.db
      .update(users)
      .set({ doc: sql`${users.doc} || '{"hired":"someday","level":"3"}'::jsonb` })
      .where(eq(users.id, fx.ids.bob ?? ''));
    const run = async (filter: string) => {
      const where = and(
        eq(users.tenantId, fx.tenantId),
        compileFilter(parseFilter(filter), kind, 'users'),
      );
      const rows = await h.db.db
        .select({ id: users.id })
        .from(users)
        .where(where)
        .orderBy(asc(compileSortKey('hired', kind, 'users')));
      return rows.map((r) => r.id);
    };
    expect(await run('hired gt "2020-01-01"')).toEqual([fx.ids.alice]);
    expect(await run('not (hired gt "2020-01-01")')).toHaveLength(2);
    expect(await run('level ge 3')).toEqual([fx.ids.alice]);
    expect(await run('level lt 3.5 and level gt 2.5')).toEqual([fx.ids.alice]);
  });

  it('refuses password before any SQL runs', () => {
    scimError(
      () => compileFilter(parseFilter('password eq "x"'), userKind, 'users'),
      403,
      'sensitive',
    );
  });
});
