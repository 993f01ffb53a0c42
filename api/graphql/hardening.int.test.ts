import { describe, expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { createHarness } from '../../test/harness.ts';
import { createApp } from '../app.ts';
import { dataOf, gqlClient } from './test-client.ts';
import { LIMITS } from './yoga.ts';

const h = createHarness();
const gql = gqlClient(h);

const firstError = (body: any): string => body?.errors?.[0]?.message ?? '';

describe('GraphQL hardening', () => {
  it('rejects documents deeper than the limit', async () => {
    const t = await h.tenant();
    const deep = `{ users { edges { node { groups { edges { node { members { edges { node {
      ... on Group { members { edges { node { __typename } } } } } } } } } } } } } }`;
    const res = await gql(t.adminToken, deep);
    expect(firstError(res.body)).toMatch(/depth limit/i);
    expect(res.body.data).toBeUndefined();
  });

  it('rejects too many aliases', async () => {
    const t = await h.tenant();
    const aliases = Array.from(
      { length: LIMITS.maxAliases + 1 },
      (_, i) => `a${i}: viewer { kind }`,
    );
    const res = await gql(t.adminToken, `{ ${aliases.join(' ')} }`);
    expect(firstError(res.body)).toMatch(/aliases/i);
  });

  it('rejects documents with too many tokens', async () => {
    const t = await h.tenant();
    const res = await gql(t.adminToken, `{ viewer { ${'kind '.repeat(LIMITS.maxTokens + 10)} } }`);
    expect(firstError(res.body)).toMatch(/token limit/i);
  });

  it('rejects documents costing more than the limit', async () => {
    const t = await h.tenant();
    const user = 'userName displayName active externalId version source createdAt updatedAt';
    const wide = Array.from(
      { length: 12 },
      (_, i) =>
        `f${i}: groups { edges { node { members { edges { node { ... on User { ${user} } } } } } } }`,
    );
    const res = await gql(t.adminToken, `{ users { edges { node { ${wide.join(' ')} } } } }`);
    expect(firstError(res.body)).toMatch(/cost/i);
  });

  it('rejects too many directives', async () => {
    const t = await h.tenant();
    const res = await gql(
      t.adminToken,
      `{ viewer { kind ${'@include(if: true) '.repeat(LIMITS.maxDirectives + 1)}} }`,
    );
    expect(firstError(res.body)).toMatch(/directives/i);
  });

  it('has batching off', async () => {
    const t = await h.tenant();
    const res = await h.request('POST', '/graphql', {
      token: t.adminToken,
      body: [{ query: '{ viewer { kind } }' }, { query: '{ viewer { kind } }' }],
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(Array.isArray(res.body)).toBe(false);
  });

  it('refuses simple (form-style) POSTs, which browsers send cross-site without preflight', async () => {
    const t = await h.tenant();
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'query=%7Bviewer%7Bkind%7D%7D'],
      ['text/plain', JSON.stringify({ query: '{ viewer { kind } }' })],
      ['multipart/form-data; boundary=x', '--x--'],
    ] as const) {
      const res = await h.request('POST', '/graphql', {
        token: t.adminToken,
        body,
        headers: { 'Content-Type': type },
      });
      expect(res.status, type).toBe(403);
      expect(firstError(res.body)).toMatch(/csrf/i);
    }
  });

  it('does not suggest field names to callers', async () => {
    const t = await h.tenant();
    const res = await gql(t.adminToken, '{ viewer { kinds } }');
    expect(firstError(res.body)).not.toMatch(/did you mean/i);
  });

  it('masks unexpected errors with the request id and logs them', async () => {
    const t = await h.tenant();
    const failing = new Proxy(h.db.db, {
      get(target, prop, receiver) {
        if (prop === 'execute' || prop === 'select') {
          return () => {
            throw new Error('connection refused to 10.0.0.7:5432 (secret detail)');
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const app = createApp({ ...h.services, db: { ...h.db, db: failing } as Db });
    const res = await app.request('http://hub.test/graphql', {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${t.adminToken}`,
        'Content-Type': 'application/json',
        'X-Request-Id': 'req-masking-1',
      },
      body: JSON.stringify({ query: '{ viewer { kind } users { totalCount } }' }),
    });
    const body: any = await res.json();
    expect(body.data.viewer.kind).toBe('TENANT_TOKEN');
    expect(body.data.users).toBeNull();
    expect(body.errors[0]).toMatchObject({
      message: 'Unexpected error.',
      path: ['users'],
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-masking-1' },
    });
    expect(JSON.stringify(body)).not.toMatch(/secret|10\.0\.0\.7|stack/);
  });

  it('lets JSON requests through without the CSRF header', async () => {
    const t = await h.tenant();
    expect(dataOf(await gql(t.adminToken, '{ viewer { kind } }')).viewer.kind).toBe('TENANT_TOKEN');
  });
});
