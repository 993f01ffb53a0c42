/**
 * What an inactive import must cascade through, seeded with set-based SQL before it runs: for
 * each user of a set, a card and a temporary card (credentials), a certificate per credential,
 * and two granted roles. The same is seeded for a control set of users who stay active, so the
 * check after the run proves the cascade hit exactly the deactivated users.
 */
import type { Db } from '../../db/client.ts';

const ROLES = ['bench-vpn', 'bench-badge'];

/** Seeds credentials, certificates and role grants for the users named `userNames`. */
export async function seedLinkage(db: Db, tenantId: string, userNames: string[]): Promise<void> {
  await db.sql.begin(async (sql) => {
    await sql`
      create temporary table bench_seed_users on commit drop as
      select u.id, u.user_name from users u
      where u.tenant_id = ${tenantId} and u.user_name = any(${userNames}::text[])`;
    const [found] = await sql<{ n: number }[]>`select count(*)::int as n from bench_seed_users`;
    if (found?.n !== userNames.length) {
      throw new Error(`seeding: ${found?.n} of ${userNames.length} users exist in the hub`);
    }
    await sql`
      insert into credentials (tenant_id, user_id, type, serial)
      select ${tenantId}, s.id, t.type, t.type || '-' || s.user_name
      from bench_seed_users s cross join (values ('card'), ('temporary_card')) as t(type)`;
    await sql`
      insert into certificates (tenant_id, credential_id, serial, subject_dn, issuer_dn,
        not_before, not_after)
      select ${tenantId}, c.id, 'cert-' || c.serial, 'CN=' || s.user_name, 'CN=idhub bench CA',
        now() - interval '1 day', now() + interval '365 days'
      from credentials c join bench_seed_users s on s.id = c.user_id`;
    await sql`
      insert into roles (tenant_id, name, name_key)
      select ${tenantId}, r, r from unnest(${ROLES}::text[]) as r
      on conflict do nothing`;
    await sql`
      insert into role_assignments (tenant_id, role_id, user_id, granted_by)
      select ${tenantId}, r.id, s.id, 'bench'
      from bench_seed_users s cross join roles r
      where r.tenant_id = ${tenantId} and r.name = any(${ROLES}::text[])`;
  });
}

export interface CascadeCounts {
  /** users of the set that are inactive */
  usersInactive: number;
  card: Record<string, number>;
  temporaryCard: Record<string, number>;
  cardCertificates: Record<string, number>;
  temporaryCardCertificates: Record<string, number>;
  roles: Record<string, number>;
}

type StateRow = { what: string; state: string; n: number };

/** Counts, by state, the linkage of the users named `userNames`. */
export async function cascadeCounts(
  db: Db,
  tenantId: string,
  userNames: string[],
): Promise<CascadeCounts> {
  const rows = await db.sql<StateRow[]>`
    with s as (
      select id, active from users
      where tenant_id = ${tenantId} and user_name = any(${userNames}::text[])
    )
    select 'users' as what, case when active then 'active' else 'inactive' end as state,
      count(*)::int as n
    from s group by 2
    union all
    select c.type, c.state, count(*)::int from credentials c join s on s.id = c.user_id
    group by 1, 2
    union all
    select c.type || ' certificate', k.state, count(*)::int
    from certificates k join credentials c on c.id = k.credential_id join s on s.id = c.user_id
    group by 1, 2
    union all
    select 'roles', a.state, count(*)::int from role_assignments a join s on s.id = a.user_id
    group by 1, 2`;
  const of = (what: string) =>
    Object.fromEntries(rows.filter((r) => r.what === what).map((r) => [r.state, r.n]));
  return {
    usersInactive: of('users').inactive ?? 0,
    card: of('card'),
    temporaryCard: of('temporary_card'),
    cardCertificates: of('card certificate'),
    temporaryCardCertificates: of('temporary_card certificate'),
    roles: of('roles'),
  };
}

const same = (a: Record<string, number>, b: Record<string, number>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/**
 * The cascade DESIGN.md states for a deactivated user: credentials inactive (temporary cards
 * locked), certificates on hold (temporary-card certificates revoked), every role withdrawn.
 */
export function expectCascade(what: string, got: CascadeCounts, n: number): void {
  const want: CascadeCounts = {
    usersInactive: n,
    card: { inactive: n },
    temporaryCard: { locked: n },
    cardCertificates: { on_hold: n },
    temporaryCardCertificates: { revoked: n },
    roles: { withdrawn: 2 * n },
  };
  expectLinkage(what, got, want);
}

/** The control users: untouched. */
export function expectUntouched(what: string, got: CascadeCounts, n: number): void {
  const want: CascadeCounts = {
    usersInactive: 0,
    card: { active: n },
    temporaryCard: { active: n },
    cardCertificates: { active: n },
    temporaryCardCertificates: { active: n },
    roles: { granted: 2 * n },
  };
  expectLinkage(what, got, want);
}

function expectLinkage(what: string, got: CascadeCounts, want: CascadeCounts): void {
  const keys = Object.keys(want) as (keyof CascadeCounts)[];
  const wrong = keys.filter((k) => {
    const g = got[k];
    const w = want[k];
    return typeof g === 'number' || typeof w === 'number' ? g !== w : !same(g, w);
  });
  if (wrong.length) {
    throw new Error(
      `${what}: ${wrong.map((k) => `${k} ${JSON.stringify(got[k])}, expected ${JSON.stringify(want[k])}`).join('; ')}`,
    );
  }
}

/** One line for the report: `cards inactive 10,000 · …`. */
export function cascadeText(c: CascadeCounts): string {
  const part = (label: string, m: Record<string, number>) =>
    `${label} ${Object.entries(m)
      .map(([s, n]) => `${s} ${n.toLocaleString('en-US')}`)
      .join('/')}`;
  return [
    `users inactive ${c.usersInactive.toLocaleString('en-US')}`,
    part('cards', c.card),
    part('temporary cards', c.temporaryCard),
    part('card certs', c.cardCertificates),
    part('temp-card certs', c.temporaryCardCertificates),
    part('roles', c.roles),
  ].join(' · ');
}
