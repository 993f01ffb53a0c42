import { describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';

const h = createHarness();
const noNulls = (v: unknown): boolean =>
  v !== null && (typeof v !== 'object' || Object.values(v as object).every(noNulls));

describe('SCIM discovery', () => {
  it('ServiceProviderConfig states what the server supports', async () => {
    const res = await h.request('GET', '/scim/v2/ServiceProviderConfig');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(res.body).toMatchObject({
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 1_048_576 },
      filter: { supported: true, maxResults: 1000 },
      sort: { supported: true },
      etag: { supported: true },
      changePassword: { supported: false },
      pagination: { cursor: true, index: true },
    });
    expect(res.body.authenticationSchemes[0].type).toBe('oauthbearertoken');
    expect(noNulls(res.body)).toBe(true);
  });

  it('lists the schemas and serves each by id, case-insensitively', async () => {
    const res = await h.request('GET', '/scim/v2/Schemas');
    expect(res.status).toBe(200);
    const ids = res.body.Resources.map((s: { id: string }) => s.id);
    expect(ids).toEqual([
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      'urn:idhub:params:scim:schemas:extension:idhub:2.0:User',
      'urn:ietf:params:scim:schemas:core:2.0:Group',
      'urn:idhub:params:scim:schemas:core:2.0:Organization',
    ]);
    expect(res.body.totalResults).toBe(5);
    const one = await h.request(
      'GET',
      '/scim/v2/schemas/urn:ietf:params:scim:schemas:core:2.0:user',
    );
    expect(one.status).toBe(200);
    const userName = one.body.attributes.find((a: { name: string }) => a.name === 'userName');
    expect(userName).toMatchObject({ required: true, caseExact: false, uniqueness: 'server' });
    const password = one.body.attributes.find((a: { name: string }) => a.name === 'password');
    expect(password).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
    const groups = one.body.attributes.find((a: { name: string }) => a.name === 'groups');
    expect(groups).toMatchObject({ mutability: 'readOnly', returned: 'request' });
    for (const name of ['roles', 'x509Certificates']) {
      const computed = one.body.attributes.find((a: { name: string }) => a.name === name);
      expect(computed).toMatchObject({
        mutability: 'readOnly',
        multiValued: true,
        returned: 'request',
      });
      for (const sub of computed.subAttributes) expect(sub.mutability).toBe('readOnly');
    }
    expect(noNulls(res.body)).toBe(true);
  });

  it('404s an unknown schema with a SCIM error', async () => {
    const res = await h.request('GET', '/scim/v2/Schemas/urn:nope');
    expect(res.status).toBe(404);
    expect(res.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  });

  it('lists the resource types with their extensions', async () => {
    const res = await h.request('GET', '/scim/v2/ResourceTypes');
    expect(res.status).toBe(200);
    const user = res.body.Resources.find((r: { id: string }) => r.id === 'User');
    expect(user).toMatchObject({
      endpoint: '/Users',
      schema: 'urn:ietf:params:scim:schemas:core:2.0:User',
      schemaExtensions: [
        { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false },
        { schema: 'urn:idhub:params:scim:schemas:extension:idhub:2.0:User', required: false },
      ],
    });
    const group = await h.request('GET', '/scim/v2/ResourceTypes/Group');
    expect(group.body.endpoint).toBe('/Groups');
    expect(res.body.Resources.map((r: { id: string }) => r.id)).toEqual([
      'User',
      'Group',
      'Organization',
    ]);
    expect(res.body.totalResults).toBe(3);
    const org = await h.request('GET', '/scim/v2/resourcetypes/organization');
    expect(org.status).toBe(200);
    expect(org.body).toMatchObject({
      id: 'Organization',
      name: 'Organization',
      endpoint: '/Organizations',
      schema: 'urn:idhub:params:scim:schemas:core:2.0:Organization',
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType' },
    });
    expect(noNulls(res.body)).toBe(true);
  });

  it('describes the idhub User extension and the Organization schema', async () => {
    const ext = await h.request(
      'GET',
      '/scim/v2/Schemas/urn:idhub:params:scim:schemas:extension:idhub:2.0:User',
    );
    expect(ext.status).toBe(200);
    const byName = (s: { attributes: { name: string }[] }, n: string) =>
      s.attributes.find((a) => a.name === n);
    expect(byName(ext.body, 'organization')).toMatchObject({
      type: 'complex',
      multiValued: false,
      mutability: 'readWrite',
    });
    expect(byName(ext.body, 'accounts')).toMatchObject({
      multiValued: true,
      mutability: 'readOnly',
      returned: 'request',
    });
    expect(byName(ext.body, 'credentials')).toMatchObject({
      multiValued: true,
      mutability: 'readOnly',
      returned: 'request',
    });
    const org = await h.request(
      'GET',
      '/scim/v2/Schemas/urn:idhub:params:scim:schemas:core:2.0:Organization',
    );
    expect(org.status).toBe(200);
    expect(org.body.attributes.map((a: { name: string }) => a.name)).toEqual([
      'displayName',
      'parent',
      'path',
    ]);
    expect(byName(org.body, 'displayName')).toMatchObject({ required: true });
    expect(byName(org.body, 'path')).toMatchObject({ mutability: 'readOnly' });
    expect(noNulls(ext.body) && noNulls(org.body)).toBe(true);
  });

  it('answers 405 with Allow for an unsupported method and 501 for /Me', async () => {
    const res = await h.request('PUT', '/scim/v2/ServiceProviderConfig', { body: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
    const t = await h.tenant();
    const del = await h.request('DELETE', '/scim/v2/Users', { token: t.scimToken });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, POST');
    const me = await h.request('GET', '/scim/v2/Me', { token: t.scimToken });
    expect(me.status).toBe(501);
    expect(me.body.status).toBe('501');
  });
});
