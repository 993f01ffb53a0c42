import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from '../../../test/harness.ts';
import { ConnectorError } from '../errors.ts';
import { createScimConnector, type ScimConnector } from './connector.ts';

const h = createHarness();
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let server: http.Server;
let baseUrl: string;
let scim: ScimConnector;

beforeAll(async () => {
  const { scimToken } = await h.tenant();
  server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`;
  scim = createScimConnector({ baseUrl, auth: { type: 'bearer', token: scimToken } });
  for (let i = 1; i <= 7; i++) {
    await scim.export({
      op: 'POST',
      path: '/Users',
      body: { schemas: [USER], userName: `page.${i}`, name: { givenName: `G${i}` } },
    });
  }
});
afterAll(async () => {
  await scim?.close();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

async function failure(p: Promise<unknown>): Promise<ConnectorError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConnectorError);
  return e as ConnectorError;
}

describe('SCIM connector against the hub', () => {
  it('pages by startIndex through every match exactly once', async () => {
    const seen: string[] = [];
    const cookies: (string | null)[] = [];
    let cookie: string | null = null;
    do {
      const page = await scim.search({ filter: 'userName sw "page."', pageSize: 3, cookie });
      seen.push(...page.entries.map((e) => String(e.attributes.userName)));
      cookie = page.cookie;
      cookies.push(cookie);
    } while (cookie);
    expect(cookies).toEqual(['4', '7', null]);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `page.${i}`));
  });

  it('flattens entries: id, strings as is, complex values as JSON', async () => {
    const { entries } = await scim.search({ filter: 'userName eq "page.3"' });
    const entry = entries[0];
    expect(entry?.id).toEqual(expect.any(String));
    expect(entry?.attributes.userName).toEqual(['page.3']);
    expect(JSON.parse(String(entry?.attributes.name?.[0]))).toMatchObject({ givenName: 'G3' });
  });

  it('writes with POST, PUT, PATCH and DELETE, returning the id and resource', async () => {
    const created = await scim.export({
      op: 'POST',
      path: '/Users',
      body: { schemas: [USER], userName: 'w.one' },
    });
    expect(created.resource?.userName).toBe('w.one');
    const path = `/Users/${created.id}`;
    const put = await scim.export({
      op: 'PUT',
      path,
      body: { schemas: [USER], userName: 'w.two' },
    });
    expect(put).toMatchObject({ id: created.id, resource: { userName: 'w.two' } });
    const patch = await scim.export({
      op: 'PATCH',
      path,
      body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'nickName', value: 'n' }] },
    });
    expect(patch.id).toBe(created.id);
    expect(await scim.export({ op: 'DELETE', path })).toEqual({ id: created.id });
    const gone = await failure(scim.export({ op: 'DELETE', path }));
    expect(gone).toMatchObject({ code: 'not_found', remoteCode: 404 });
  });

  it('types failures: conflict, bad filter, bad cookie, wrong token', async () => {
    const dup = await failure(
      scim.export({ op: 'POST', path: '/Users', body: { schemas: [USER], userName: 'page.1' } }),
    );
    expect(dup).toMatchObject({ code: 'connector_error', remoteCode: 409 });
    expect(dup.message).toMatch(/uniqueness/);
    const bad = await failure(scim.search({ filter: 'userName zz "x"' }));
    expect(bad).toMatchObject({ code: 'connector_error', remoteCode: 400 });
    expect((await failure(scim.search({ cookie: 'abc' }))).code).toBe('refused');
    const stranger = createScimConnector({ baseUrl, auth: { type: 'bearer', token: 'idh_nope' } });
    expect((await failure(stranger.search({}))).code).toBe('auth_failure');
    await stranger.close();
  });

  it('lists User attributes with sub-attributes and extensions, and the resource types', async () => {
    const { attributes } = await scim.listAttributes();
    const byName = new Map(attributes.map((a) => [a.name, a]));
    expect(byName.get('userName')).toMatchObject({ type: 'string', required: true });
    expect(byName.get('name.givenName')).toMatchObject({ multiValued: false });
    expect(byName.get('emails.value')).toMatchObject({ multiValued: true });
    expect(
      attributes.some((a) => a.name.startsWith('urn:ietf:params:scim:schemas:extension:')),
    ).toBe(true);
    const { resourceTypes } = await scim.listResourceTypes();
    expect(resourceTypes).toContainEqual(
      expect.objectContaining({ name: 'User', endpoint: '/Users', schema: USER }),
    );
  });

  it('tests the connection through /ServiceProviderConfig', async () => {
    const r = await scim.testConnection();
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.details).toMatch(/patch/);
  });
});
