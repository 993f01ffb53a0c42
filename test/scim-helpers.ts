import { expect } from 'vitest';
import type { Harness, ScimResponse } from './harness.ts';

/** Shared SCIM request bodies and a client that fails the test on any 5xx answer. */

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type ScimClient = ReturnType<Harness['scimClient']>;

/** `scimClient` whose every answer is checked to be below 500. */
export function checkedClient(h: Harness, token: string): ScimClient {
  const inner = h.scimClient(token);
  const check = async (p: Promise<ScimResponse>, what: string) => {
    const res = await p;
    expect(res.status, `${what} answered ${res.status}: ${res.text}`).toBeLessThan(500);
    return res;
  };
  return {
    get: (p, hd) => check(inner.get(p, hd), `GET ${p}`),
    post: (p, b, hd) => check(inner.post(p, b, hd), `POST ${p}`),
    put: (p, b, hd) => check(inner.put(p, b, hd), `PUT ${p}`),
    patch: (p, b, hd) => check(inner.patch(p, b, hd), `PATCH ${p}`),
    delete: (p, hd) => check(inner.delete(p, hd), `DELETE ${p}`),
    call: (m, p, b, hd) => check(inner.call(m, p, b, hd), `${m} ${p}`),
  };
}

export const userBody = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER],
  userName,
  ...extra,
});

export const groupBody = (
  displayName: string,
  members: string[] = [],
  extra: Record<string, unknown> = {},
) => ({
  schemas: [GROUP],
  displayName,
  ...(members.length ? { members: members.map((value) => ({ value })) } : {}),
  ...extra,
});

export const patchBody = (...Operations: Record<string, unknown>[]) => ({
  schemas: [PATCH_OP],
  Operations,
});

/** Creates a user and returns its id; the POST must answer 201. */
export async function createUser(
  c: ScimClient,
  userName: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await c.post('/Users', userBody(userName, extra));
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

/** Creates a group (with member ids) and returns its id; the POST must answer 201. */
export async function createGroup(
  c: ScimClient,
  displayName: string,
  members: string[] = [],
): Promise<string> {
  const res = await c.post('/Groups', groupBody(displayName, members));
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}
