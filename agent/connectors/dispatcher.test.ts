import net from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataSourceConfig, Secret } from '../config/index.ts';
import { PROTOCOL_VERSION } from '../protocol.ts';
import { createConnectorSet } from './dispatcher.ts';
import { toFailure, toSuccess } from './results.ts';
import { command } from './test-commands.ts';

/** Accepts TCP connections and never answers: a data source that hangs. */
let silent: net.Server;
let silentPort: number;
const sockets: net.Socket[] = [];

beforeAll(async () => {
  silent = net.createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as net.AddressInfo).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

const ldap = (url: string): DataSourceConfig => ({
  type: 'ldap',
  url,
  bindDn: 'cn=x,dc=test',
  password: new Secret('pw'),
  baseDn: 'dc=test',
  tls: { startTls: false },
});
const sqlSource = (url: string): DataSourceConfig => ({
  type: 'sql',
  url,
  table: 't',
  key: ['id'],
  columns: { a: 'a' },
});

const sources = () => ({
  hanging: ldap(`ldap://127.0.0.1:${silentPort}`),
  elsewhere: ldap('ldap://ldap.corp.invalid'),
  closed: sqlSource('postgres://u@127.0.0.1:1/db'),
});

describe('createConnectorSet routing', () => {
  it('answers ping without any data source', async () => {
    const set = createConnectorSet({}, { allowHosts: [], agentVersion: '1.2.3' });
    const r = await set.execute(command('ping', 'anything'));
    expect(r).toEqual({
      ok: true,
      data: { protocolVersion: PROTOCOL_VERSION, agentVersion: '1.2.3', time: expect.any(String) },
    });
    await set.close();
  });

  it('refuses an unknown data source and a connector kind mismatch', async () => {
    const set = createConnectorSet(sources(), { allowHosts: 'any', agentVersion: 't' });
    expect(await set.execute(command('search', 'nope'))).toEqual({
      ok: false,
      error: { code: 'refused', message: 'no data source named nope on this agent' },
    });
    const upsert = { connector: 'sql', op: 'upsert', key: { id: 1 }, values: {} };
    const r = await set.execute(command('export', 'hanging', upsert));
    expect(r).toEqual({
      ok: false,
      error: { code: 'refused', message: 'data source hanging is ldap, not sql' },
    });
    await set.close();
  });

  it('refuses a host outside allowHosts before connecting; "any" skips the check', async () => {
    const strict = createConnectorSet(sources(), { allowHosts: ['127.0.0.1'], agentVersion: 't' });
    const r = await strict.execute(command('testConnection', 'elsewhere'));
    expect(r).toMatchObject({ ok: false, error: { code: 'refused' } });
    expect(!r.ok && r.error.message).toMatch(/ldap\.corp\.invalid.*allowHosts/);
    await strict.close();
    const open = createConnectorSet(sources(), { allowHosts: 'any', agentVersion: 't' });
    const tried = await open.execute(command('testConnection', 'closed'));
    expect(tried).toMatchObject({ ok: false, error: { code: 'connector_error' } });
    await open.close();
  });

  it('answers timeout at the deadline or on abort, and at once for a past deadline', async () => {
    const set = createConnectorSet(sources(), { allowHosts: 'any', agentVersion: 't' });
    const late = await set.execute(command('search', 'hanging', {}, 300));
    expect(late).toMatchObject({ ok: false, error: { code: 'timeout' } });
    const abort = new AbortController();
    const pending = set.execute(command('search', 'hanging'), abort.signal);
    abort.abort();
    expect(await pending).toMatchObject({ ok: false, error: { code: 'timeout' } });
    const past = await set.execute(command('testConnection', 'hanging', {}, -1000));
    expect(past).toMatchObject({ ok: false, error: { code: 'timeout' } });
    await set.close();
  });

  it('refuses commands after close', async () => {
    const set = createConnectorSet(sources(), { allowHosts: 'any', agentVersion: 't' });
    await set.close();
    const r = await set.execute(command('search', 'hanging'));
    expect(r).toMatchObject({ ok: false, error: { code: 'refused' } });
  });

  it('caps the result size', async () => {
    const set = createConnectorSet({}, { allowHosts: [], agentVersion: 't', maxResultBytes: 20 });
    expect(await set.execute(command('ping', 'x'))).toMatchObject({
      ok: false,
      error: { code: 'too_large' },
    });
  });
});

describe('results', () => {
  it('refuses a result that breaks the protocol schema', () => {
    const r = toSuccess('search', { entries: [{ id: 1 }], cookie: null });
    expect(r).toMatchObject({ ok: false, error: { code: 'connector_error' } });
    expect(!r.ok && r.error.message).toMatch(/invalid search result: entries\.0\.id/);
  });

  it('hides an unexpected error from the hub and logs it, URL credentials redacted', () => {
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (l: string) => lines.push(l) });
    const r = toFailure(new TypeError('boom at postgres://u:s3cret@db/x'), log);
    expect(r).toEqual({
      ok: false,
      error: {
        code: 'connector_error',
        message: 'the connector failed unexpectedly (see the agent log)',
      },
    });
    expect(lines.join('')).toContain('boom at postgres://u:[redacted]@db/x');
  });
});
