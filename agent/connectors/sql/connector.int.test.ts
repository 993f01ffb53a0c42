import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Entry } from '../../protocol.ts';
import { ConnectorError } from '../errors.ts';
import { createSqlConnector, type SqlConnector, type SqlConnectorOptions } from './connector.ts';

const T = `sqlconn_${randomBytes(4).toString('hex')}`;
const ROWS = 1234;
let admin: postgres.Sql;
const open: SqlConnector[] = [];

function connector(over: Partial<SqlConnectorOptions> = {}): SqlConnector {
  const c = createSqlConnector({
    url: inject('databaseUrl'),
    table: `${T}.people`,
    key: ['id'],
    columns: { userName: 'login', email: 'email', active: 'active', dept: 'dept', age: 'age' },
    ...over,
  });
  open.push(c);
  return c;
}

beforeAll(async () => {
  admin = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} });
  await admin.unsafe(`
    create schema ${T};
    create table ${T}.people (
      id int primary key, login text not null, email text, active boolean, dept text, age int);
    insert into ${T}.people
      select i, 'user' || i, case when i % 10 = 0 then null else 'u' || i || '@x.test' end,
             i % 2 = 0, (array['hr','it','ops'])[i % 3 + 1], 20 + i % 50
      from generate_series(1, ${ROWS}) i;
    create table ${T}.members (org text not null, emp int not null, role text,
      primary key (org, emp));
    insert into ${T}.members select o, e, 'r' || e
      from unnest(array['a,b', 'acme', 'z\\']) o, generate_series(1, 7) e;
    create table ${T}.loose (id int, login text);
    create view ${T}.people_view as select id, login from ${T}.people;
  `);
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await admin?.unsafe(`drop schema ${T} cascade`);
  await admin?.end();
});

async function failure(p: Promise<unknown>): Promise<ConnectorError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConnectorError);
  return e as ConnectorError;
}

async function all(c: SqlConnector, filter?: string, pageSize = 100): Promise<Entry[]> {
  const out: Entry[] = [];
  let cookie: string | null = null;
  do {
    const page = await c.search({ ...(filter ? { filter } : {}), pageSize, cookie });
    expect(page.entries.length).toBeLessThanOrEqual(pageSize);
    out.push(...page.entries);
    cookie = page.cookie;
  } while (cookie);
  return out;
}

describe('SQL connector against PostgreSQL', () => {
  it('tests the connection and refuses a wrong password as auth_failure', async () => {
    const ok = await connector().testConnection();
    expect(ok.details).toMatch(/^PostgreSQL/);
    expect(ok.latencyMs).toBeGreaterThanOrEqual(0);
    const e = await failure(connector({ password: 'wrong-pw-123' }).testConnection());
    expect(e.code).toBe('auth_failure');
    expect(e.remoteCode).toBe('28P01');
    expect(e.message).not.toContain('wrong-pw-123');
  });

  it('pages by key through every row exactly once, values as strings', async () => {
    const entries = await all(connector(), undefined, 100);
    expect(entries).toHaveLength(ROWS);
    expect(new Set(entries.map((e) => e.id)).size).toBe(ROWS);
    expect(entries.map((e) => Number(e.id))).toEqual([...Array(ROWS)].map((_, i) => i + 1));
    expect(entries[9]).toEqual({
      id: '10',
      attributes: { userName: ['user10'], active: ['true'], dept: ['it'], age: ['30'] },
    });
  });

  it('ends on an exactly full last page without an extra empty one', async () => {
    const c = connector();
    // age 20 ⇔ id % 50 = 0: 24 rows
    const first = await c.search({ filter: '{"age":{"lt":21}}', pageSize: 24 });
    expect(first.entries).toHaveLength(24);
    expect(first.cookie).toBeNull();
  });

  it('filters by equality, in, ranges and ne, with values cast to the column type', async () => {
    const c = connector();
    const ids = async (f: object) => (await all(c, JSON.stringify(f), 500)).map((e) => e.id);
    expect(await ids({ userName: 'user7' })).toEqual(['7']);
    expect(await ids({ dept: 'hr', age: { ge: 68 }, active: true })).toEqual(
      (await ids({ age: { in: [68, 69] }, dept: { in: ['hr'] }, active: 'true' })).slice(),
    );
    expect((await ids({ email: null })).length).toBe(123);
    expect((await ids({ email: { ne: null } })).length).toBe(ROWS - 123);
    expect((await ids({ dept: { ne: 'hr' } })).length).toBe(ROWS - 411);
    expect(await ids({ age: { gt: 20, lt: 22 }, userName: { in: ['user1', 'user2'] } })).toEqual([
      '1',
    ]);
    expect(await ids({ dept: { in: [] } })).toEqual([]);
  });

  it('keeps injection-looking filter values and attribute names inert', async () => {
    const c = connector();
    for (const v of ["' or 1=1 --", 'user1; drop table x', '*)(uid=*']) {
      expect((await c.search({ filter: JSON.stringify({ userName: v }) })).entries).toEqual([]);
    }
    const e = await failure(c.search({ filter: '{"login\\" = login or \\"1":"x"}' }));
    expect(e.code).toBe('refused');
    expect(e.message).toMatch(/unknown attribute/);
    expect((await failure(c.search({ filter: '{"id":"1"}' }))).code).toBe('refused');
    expect((await failure(c.search({ attributes: ['id'] }))).message).toMatch(/known: userName/);
  });

  it('reports a bad value for the column type with its SQLSTATE', async () => {
    const e = await failure(connector().search({ filter: '{"age":"old"}' }));
    expect(e.code).toBe('connector_error');
    expect(e.remoteCode).toBe('22P02');
  });

  it('pages a composite key and escapes commas in the entry id', async () => {
    const c = connector({
      table: `${T}.members`,
      key: ['org', 'emp'],
      columns: { role: 'role' },
    });
    const entries = await all(c, undefined, 4);
    expect(entries).toHaveLength(21);
    expect(entries[0]?.id).toBe('a\\,b,1');
    expect(entries.map((e) => e.id)).toContain('z\\\\,7');
  });

  it('upserts through ON CONFLICT (partial updates too) and deletes by key', async () => {
    const c = connector();
    await c.upsert({ id: 5000 }, { userName: 'new', dept: 'it', age: 41 });
    await c.upsert({ id: 5000 }, { email: 'new@x.test', age: null });
    const [row] = await admin.unsafe(`select * from ${T}.people where id = 5000`);
    expect(row).toMatchObject({ login: 'new', dept: 'it', email: 'new@x.test', age: null });
    expect(await c.delete({ id: 5000 })).toEqual({ id: '5000' });
    expect((await failure(c.delete({ id: 5000 }))).code).toBe('not_found');
  });

  it('falls back to UPDATE then INSERT when the key has no unique index', async () => {
    const c = connector({ table: `${T}.loose`, columns: { userName: 'login' } });
    await c.upsert({ id: 1 }, { userName: 'a' });
    await Promise.all([c.upsert({ id: 1 }, { userName: 'b' }), c.upsert({ id: 2 }, {})]);
    await c.upsert({ id: 2 }, {});
    const rows = await admin.unsafe(`select id, login from ${T}.loose order by id`);
    expect(rows).toEqual([
      { id: 1, login: 'b' },
      { id: 2, login: null },
    ]);
  });

  it('refuses unknown attributes, a wrong key and a NOT NULL violation is typed', async () => {
    const c = connector();
    expect((await failure(c.upsert({ id: 1 }, { nope: 'x' }))).code).toBe('refused');
    expect((await failure(c.upsert({ login: 'x' }, {}))).message).toMatch(/key columns: id/);
    expect((await failure(c.upsert({ id: null }, {}))).code).toBe('refused');
    const e = await failure(c.upsert({ id: 6000 }, { email: 'x' }));
    expect(e.remoteCode).toBe('23502');
  });

  it('lists mapped attributes from information_schema and the relation kind', async () => {
    const c = connector({ columns: { userName: 'login', age: 'age', ghost: 'nope' } });
    expect((await c.listAttributes()).attributes).toEqual([
      { name: 'userName', type: 'text', multiValued: false, required: true },
      { name: 'age', type: 'integer', multiValued: false, required: false },
      {
        name: 'ghost',
        multiValued: false,
        required: false,
        description: 'column "nope" not found',
      },
    ]);
    expect(await c.listResourceTypes()).toEqual({
      resourceTypes: [{ name: `${T}.people`, description: 'table' }],
    });
    const view = connector({ table: `${T}.people_view`, columns: { userName: 'login' } });
    expect((await view.listResourceTypes()).resourceTypes[0]?.description).toBe('view');
  });

  it('maps a missing table to not_found (42P01)', async () => {
    const c = connector({ table: `${T}.missing` });
    for (const call of [() => c.search({}), () => c.listAttributes()]) {
      const e = await failure(call());
      expect(e.code).toBe('not_found');
      expect(e.remoteCode).toBe('42P01');
    }
  });
});
