import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createTenant, createToken } from '../../api/tenants.ts';
import type { Db } from '../../db/client.ts';
import { nameKey } from '../../scim/store/keys.ts';

export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const GIVEN = [
  'Ada',
  'Björn',
  'Chloé',
  'Dmitri',
  'Élodie',
  'Farah',
  'Günter',
  'Hana',
  'Ivan',
  'Jürgen',
  'Kenji',
  'Léa',
  'Mateo',
  'Nadia',
  'Oskar',
  'Priya',
  'Quentin',
  'Rosa',
  'Søren',
  'Tomás',
  'Uma',
  'Václav',
  'Wen',
  'Yusuf',
  'Zoë',
];
const FAMILY = [
  'Andersson',
  'Brown',
  'Castillo',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Hoffmann',
  'Ibrahim',
  'Jansen',
  'Kowalski',
  'López',
  'Müller',
  'Nakamura',
  'Okafor',
  'Petrović',
  'Quinn',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Ueda',
  'Virtanen',
  'Weber',
  'Yılmaz',
  'Zhang',
];

export interface SeededUser {
  id: string;
  userName: string;
}

export interface Seeded {
  tenantId: string;
  token: string;
  /** The users in creation order (the default SCIM list order). */
  users: SeededUser[];
  bigGroupId: string;
  smallGroupId: string;
  /** Step name → seconds. */
  timings: Record<string, number>;
}

/** A realistic SCIM user document for sequence number `i`, as the hub stores it. */
export function userDoc(i: number, tag = 'u'): Record<string, unknown> {
  const givenName = GIVEN[i % GIVEN.length] as string;
  const familyName = FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length] as string;
  const userName = `${givenName}.${familyName}.${tag}${i}@Corp.Example.com`;
  return {
    schemas: [USER_URN],
    userName,
    name: { givenName, familyName },
    emails: [{ value: userName.toLowerCase(), type: 'work', primary: true }],
    active: true,
  };
}

/** The projected columns, as scim/store/resources.ts `columns('users', doc)` computes them. */
function userColumns(doc: Record<string, unknown>) {
  const userName = typeof doc.userName === 'string' ? doc.userName : '';
  return {
    userName,
    userNameKey: nameKey(userName),
    externalId: typeof doc.externalId === 'string' ? doc.externalId : null,
    active: doc.active !== false,
    displayName: typeof doc.displayName === 'string' ? doc.displayName : null,
  };
}

/** COPY text format: NULL is \N; backslash, tab, newline and CR are escaped. */
const copyText = (v: string | null) =>
  v === null
    ? '\\N'
    : v.replace(
        /[\\\t\n\r]/g,
        (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c] as string,
      );

function* copyRows(tenantId: string, from: number, n: number, tag: string, out: SeededUser[]) {
  // Distinct, increasing created_at (a day ago + i ms) so the default order is creation order.
  const base = Date.now() - 86_400_000;
  const chunk: string[] = [];
  for (let i = from; i < from + n; i++) {
    const doc = userDoc(i, tag);
    const c = userColumns(doc);
    const id = randomUUID();
    const at = new Date(base + i).toISOString();
    out.push({ id, userName: c.userName });
    const fields = [
      id,
      tenantId,
      c.userName,
      c.userNameKey,
      c.externalId,
      c.active ? 't' : 'f',
      c.displayName,
      JSON.stringify(doc),
      at,
      at,
    ];
    chunk.push(`${fields.map(copyText).join('\t')}\n`);
    if (chunk.length === 2000) yield chunk.splice(0).join('');
  }
  if (chunk.length) yield chunk.join('');
}

/** Inserts `n` users with COPY; returns them in creation order. */
export async function copyUsers(
  db: Db,
  tenantId: string,
  from: number,
  n: number,
  tag = 'u',
): Promise<SeededUser[]> {
  const out: SeededUser[] = [];
  const writable = await db.sql`copy users (id, tenant_id, user_name, user_name_key, external_id,
    active, display_name, doc, created_at, updated_at) from stdin`.writable();
  await pipeline(Readable.from(copyRows(tenantId, from, n, tag, out)), writable);
  return out;
}

async function insertGroup(db: Db, tenantId: string, displayName: string): Promise<string> {
  const doc = { schemas: [GROUP_URN], displayName };
  const [row] = await db.sql<
    { id: string }[]
  >`insert into groups (tenant_id, display_name, display_name_key, doc)
    values (${tenantId}, ${displayName}, ${nameKey(displayName)}, ${JSON.stringify(doc)}::jsonb) returning id`;
  return (row as { id: string }).id;
}

async function addMembers(db: Db, tenantId: string, groupId: string, limit: number): Promise<void> {
  await db.sql`insert into group_members (tenant_id, group_id, member_id, member_type)
    select ${tenantId}, ${groupId}, id, 'User' from users where tenant_id = ${tenantId}
    order by created_at, id limit ${limit}`;
}

/**
 * VACUUM as well as ANALYZE: a directory that has been live a while is vacuumed (visibility
 * map set, so counts and offsets can use index-only scans), and autovacuum starting halfway
 * through the run would otherwise move the figures. The test cluster commits asynchronously,
 * and VACUUM cannot mark pages all-visible until those commits are flushed: CHECKPOINT
 * flushes them (a short wait does too, where CHECKPOINT is not allowed).
 */
async function settle(db: Db): Promise<void> {
  await db.sql`checkpoint`.catch(() => new Promise((r) => setTimeout(r, 1000)));
  await db.sql`vacuum (analyze) users, groups, group_members`;
}

const timed = async <T>(
  timings: Record<string, number>,
  step: string,
  fn: () => Promise<T>,
): Promise<T> => {
  const t = performance.now();
  const out = await fn();
  timings[step] = (performance.now() - t) / 1000;
  return out;
};

/** A fresh tenant with `n` users, a group holding all of them and a 10-member group. */
export async function seedTenant(db: Db, n: number): Promise<Seeded> {
  const timings: Record<string, number> = {};
  const tenant = await createTenant(db.db, `bench-${Date.now()}-${process.pid}`);
  const token = (await createToken(db.db, tenant.id, ['scim'], { name: 'bench' })).token;
  const users = await timed(timings, `COPY ${n} users`, () => copyUsers(db, tenant.id, 0, n));
  const bigGroupId = await insertGroup(db, tenant.id, 'All Staff');
  const smallGroupId = await insertGroup(db, tenant.id, 'Platform Team');
  await timed(timings, `${n} memberships`, () => addMembers(db, tenant.id, bigGroupId, n));
  await addMembers(db, tenant.id, smallGroupId, 10);
  await timed(timings, 'CHECKPOINT + VACUUM ANALYZE', () => settle(db));
  await db.sql`analyze api_tokens, tenants`;
  return { tenantId: tenant.id, token, users, bigGroupId, smallGroupId, timings };
}
