import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import { startSlapd, type TestSlapd } from '../../test/slapd.ts';
import type { DataSourceConfig } from '../config/index.ts';
import type { CommandResult } from '../protocol.ts';
import { parseDirectDataSource } from './direct.ts';
import { createConnectorSet } from './dispatcher.ts';
import { command } from './test-commands.ts';
import type { ConnectorSet } from './types.ts';

const h = createHarness();
const TABLE = `dispatch_${process.pid}_${Date.now()}`;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
let slapd: TestSlapd;
let server: http.Server;
let admin: postgres.Sql;
let set: ConnectorSet;

function direct(kind: 'ldap' | 'sql' | 'scim', config: object, name: string): DataSourceConfig {
  const r = parseDirectDataSource(kind, config, name);
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.value;
}

beforeAll(async () => {
  slapd = await startSlapd();
  admin = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create table ${TABLE} (id int primary key, login text not null);
    insert into ${TABLE} values (1, 'one'), (2, 'two'), (3, 'three')`);
  const { scimToken } = await h.tenant();
  server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const sources = {
    dir: direct(
      'ldap',
      { url: slapd.url, bindDn: slapd.bindDn, password: slapd.password, baseDn: slapd.baseDn },
      'dir',
    ),
    db: direct(
      'sql',
      { url: inject('databaseUrl'), table: TABLE, key: 'id', columns: { userName: 'login' } },
      'db',
    ),
    app: direct(
      'scim',
      { baseUrl: `http://127.0.0.1:${port}/scim/v2`, auth: { type: 'bearer', token: scimToken } },
      'app',
    ),
  };
  set = createConnectorSet(sources, { allowHosts: ['127.0.0.1'], agentVersion: 'test' });
});
afterAll(async () => {
  await set?.close();
  await admin?.unsafe(`drop table if exists ${TABLE}`);
  await admin?.end();
  await new Promise<void>((resolve) => {
    server?.close(() => resolve());
    server?.closeAllConnections();
  });
  await slapd?.stop();
});

function data(r: CommandResult): Record<string, unknown> {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.data as Record<string, unknown>;
}
const run = (...args: Parameters<typeof command>) => set.execute(command(...args));

describe('every command kind through execute', () => {
  it('LDAP: test, search (default base, filter text), export round trip, listings', async () => {
    expect(data(await run('testConnection', 'dir')).details).toMatch(/naming contexts/);
    const found = data(await run('search', 'dir', { filter: '(uid=alice)', attributes: ['uid'] }));
    expect(found.entries).toEqual([
      { id: `uid=alice,ou=people,${slapd.baseDn}`, attributes: { uid: ['alice'] } },
    ]);
    const inert = await run('search', 'dir', { filter: '(uid=\\2a\\29\\28uid=\\2a)' });
    expect(data(inert).entries).toEqual([]);
    const dn = `uid=disp,ou=people,${slapd.baseDn}`;
    const attributes = { objectClass: ['inetOrgPerson'], uid: ['disp'], cn: ['D'], sn: ['D'] };
    const add = { connector: 'ldap', op: 'add', dn, attributes };
    expect(data(await run('export', 'dir', add))).toEqual({ id: dn });
    const dup = await run('export', 'dir', add);
    expect(dup).toMatchObject({ ok: false, error: { code: 'connector_error', remoteCode: 68 } });
    expect(data(await run('export', 'dir', { connector: 'ldap', op: 'delete', dn }))).toEqual({
      id: dn,
    });
    const attrs = data(await run('listAttributes', 'dir')).attributes as { name: string }[];
    expect(attrs.map((a) => a.name)).toContain('uid');
    const classes = data(await run('listResourceTypes', 'dir')).resourceTypes;
    expect(classes).toContainEqual({ name: 'inetOrgPerson', description: 'STRUCTURAL' });
    const bad = await run('search', 'dir', { filter: '(uid=alice' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'refused' } });
  });

  it('SQL: test, search pages, export upsert/delete, listings', async () => {
    expect(data(await run('testConnection', 'db')).details).toMatch(/PostgreSQL/);
    const page = data(
      await run('search', 'db', { pageSize: 2, filter: '{"userName":{"ne":"x"}}' }),
    );
    expect(page.entries).toEqual([
      { id: '1', attributes: { userName: ['one'] } },
      { id: '2', attributes: { userName: ['two'] } },
    ]);
    const next = data(await run('search', 'db', { pageSize: 2, cookie: page.cookie }));
    expect(next).toEqual({
      entries: [{ id: '3', attributes: { userName: ['three'] } }],
      cookie: null,
    });
    const upsert = { connector: 'sql', op: 'upsert', key: { id: 4 }, values: { userName: 'four' } };
    expect(data(await run('export', 'db', upsert))).toEqual({ id: '4' });
    const del = { connector: 'sql', op: 'delete', key: { id: 4 } };
    expect(data(await run('export', 'db', del))).toEqual({ id: '4' });
    expect(data(await run('listAttributes', 'db')).attributes).toEqual([
      { name: 'userName', type: 'text', multiValued: false, required: true },
    ]);
    expect(data(await run('listResourceTypes', 'db')).resourceTypes).toEqual([
      { name: TABLE, description: 'table' },
    ]);
  });

  it('SCIM: test, export, search, listings', async () => {
    expect(data(await run('testConnection', 'app')).latencyMs).toEqual(expect.any(Number));
    const body = { schemas: [USER], userName: 'disp.user' };
    const created = data(
      await run('export', 'app', { connector: 'scim', op: 'POST', path: '/Users', body }),
    );
    expect(created.id).toEqual(expect.any(String));
    const found = data(await run('search', 'app', { filter: 'userName eq "disp.user"' }));
    expect(found.entries).toMatchObject([
      { id: created.id, attributes: { userName: ['disp.user'] } },
    ]);
    const del = { connector: 'scim', op: 'DELETE', path: `/Users/${created.id}` };
    expect(data(await run('export', 'app', del))).toEqual({ id: created.id });
    const attrs = data(await run('listAttributes', 'app')).attributes as { name: string }[];
    expect(attrs.map((a) => a.name)).toContain('userName');
    const types = data(await run('listResourceTypes', 'app')).resourceTypes;
    expect(types).toContainEqual(expect.objectContaining({ name: 'User', endpoint: '/Users' }));
    const gone = await run('export', 'app', del);
    expect(gone).toMatchObject({ ok: false, error: { code: 'not_found', remoteCode: 404 } });
  });

  it('ping answers without touching a data source', async () => {
    expect(data(await run('ping', 'dir'))).toMatchObject({ agentVersion: 'test' });
  });
});
