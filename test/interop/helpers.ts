import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Harness, ScimResponse } from '../harness.ts';

/** Schema URNs the interop tests send and expect. */
export const URN = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  ent: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  search: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  adscimGroup: 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group',
} as const;

/**
 * The global guard of the interop suite: no request may answer 5xx, and every SCIM error
 * (4xx with a body) is an RFC 7644 Error whose `status` is the HTTP status as a string.
 */
export function checkResponse(res: ScimResponse, what: string): ScimResponse {
  expect(res.status, `${what} answered ${res.status}: ${res.text.slice(0, 500)}`).toBeLessThan(500);
  if (res.status >= 400 && res.text) {
    expect(res.body?.schemas, `${what}: SCIM error body`).toEqual([URN.error]);
    expect(res.body?.status, `${what}: error status`).toBe(String(res.status));
    expect(typeof res.body?.detail, `${what}: error detail`).toBe('string');
  }
  return res;
}

export type Client = ReturnType<Harness['scimClient']>;

/** The harness with `request` and `scimClient` wrapped by checkResponse. */
export function guard(h: Harness) {
  const request: Harness['request'] = async (method, path, opts) =>
    checkResponse(await h.request(method, path, opts), `${method} ${path}`);
  function scimClient(token: string): Client {
    const call = async (
      method: string,
      path: string,
      body?: unknown,
      headers?: Record<string, string>,
    ) =>
      checkResponse(
        await h.request(method, `/scim/v2${path}`, { token, body, headers }),
        `${method} ${path}`,
      );
    return {
      get: (p, hd) => call('GET', p, undefined, hd),
      post: (p, b, hd) => call('POST', p, b, hd),
      put: (p, b, hd) => call('PUT', p, b, hd),
      patch: (p, b, hd) => call('PATCH', p, b, hd),
      delete: (p, hd) => call('DELETE', p, undefined, hd),
      call,
    };
  }
  /** A fresh tenant and a SCIM client bound to its token. */
  async function tenant() {
    const t = await h.tenant();
    return { ...t, c: scimClient(t.scimToken) };
  }
  return { ...h, request, scimClient, tenant };
}

export type Guarded = ReturnType<typeof guard>;

/** Expects a SCIM error with this status and scimType (undefined: no scimType asserted). */
export function expectError(res: ScimResponse, status: number, scimType?: string): void {
  expect(res.status, res.text.slice(0, 500)).toBe(status);
  expect(res.body?.schemas).toEqual([URN.error]);
  if (scimType !== undefined) expect(res.body?.scimType).toBe(scimType);
}

/** A PatchOp body. */
export const patchOp = (...Operations: Record<string, unknown>[]) => ({
  schemas: [URN.patch],
  Operations,
});

/** `?filter=` with the filter URL-encoded. */
export const filterQ = (filter: string) => `filter=${encodeURIComponent(filter)}`;

export const uniq = (prefix = 'u') => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Creates a user with a minimal body (plus extra attributes) and returns its id. */
export async function createUser(
  c: Client,
  userName: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await c.post('/Users', { schemas: [URN.user], userName, ...extra });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

/** Creates a group (optionally with members) and returns its id. */
export async function createGroup(
  c: Client,
  displayName: string,
  members: string[] = [],
): Promise<string> {
  const body: Record<string, unknown> = { schemas: [URN.group], displayName };
  if (members.length) body.members = members.map((value) => ({ value }));
  const res = await c.post('/Groups', body);
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

/** The member ids of a group as stored in group_members, sorted. */
export async function memberIds(h: Harness, groupId: string): Promise<string[]> {
  const rows = await h.db.sql<{ member_id: string }[]>`
    select member_id::text from group_members where group_id = ${groupId} order by member_id`;
  return rows.map((r) => r.member_id);
}

/** The member ids of a group as the SCIM API returns them, sorted. */
export async function apiMemberIds(c: Client, groupId: string): Promise<string[]> {
  const res = await c.get(`/Groups/${groupId}`);
  expect(res.status).toBe(200);
  return ((res.body.members ?? []) as { value: string }[]).map((m) => m.value).sort();
}

/** A user's stored row. */
export async function userRow(h: Harness, id: string) {
  const rows = await h.db.sql<
    { user_name: string; active: boolean; version: number; doc: Record<string, unknown> }[]
  >`select user_name, active, version, doc from users where id = ${id}`;
  return rows[0];
}

export interface TenantSnapshot {
  users: number;
  groups: number;
  members: number;
  outbox: number;
  hash: string;
}

/**
 * Everything a tenant holds, reduced to counts and a hash of every row's id, version,
 * document, projected columns and timestamps, so "nothing changed" is one equality.
 */
export async function snapshot(h: Harness, tenantId: string): Promise<TenantSnapshot> {
  const [row] = await h.db.sql<TenantSnapshot[]>`select
    (select count(*)::int from users where tenant_id = ${tenantId}) as users,
    (select count(*)::int from groups where tenant_id = ${tenantId}) as groups,
    (select count(*)::int from group_members where tenant_id = ${tenantId}) as members,
    (select count(*)::int from outbox where tenant_id = ${tenantId}) as outbox,
    concat_ws('|',
      (select string_agg(concat_ws(':', id, version, doc::text, user_name, user_name_key,
          external_id, active, display_name, updated_at), ',' order by id)
        from users where tenant_id = ${tenantId}),
      (select string_agg(concat_ws(':', id, version, doc::text, display_name, external_id,
          updated_at), ',' order by id)
        from groups where tenant_id = ${tenantId}),
      (select string_agg(concat_ws(':', group_id, member_id, member_type, display), ','
          order by group_id, member_id)
        from group_members where tenant_id = ${tenantId}),
      (select max(id)::text from outbox where tenant_id = ${tenantId})
    ) as hash`;
  const s = row as TenantSnapshot;
  return { ...s, hash: createHash('sha256').update(s.hash).digest('hex') };
}
