/** A minimal SCIM client for sequential requests (global fetch, keep-alive). */
export interface ScimClient {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
}

export function scimClient(baseUrl: string, token: string): ScimClient {
  const headers = {
    authorization: `Bearer ${token}`,
    accept: 'application/scim+json',
    'content-type': 'application/scim+json',
  };
  return {
    async call(method, path, body) {
      const res = await fetch(`${baseUrl}/scim/v2${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
  };
}

/** Calls and insists on the expected status, so a broken hub cannot report fast errors as speed. */
export async function expectStatus(
  client: ScimClient,
  status: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<any> {
  const res = await client.call(method, path, body);
  if (res.status !== status) {
    throw new Error(
      `${method} ${path}: expected ${status}, got ${res.status} ${JSON.stringify(res.json)?.slice(0, 300)}`,
    );
  }
  return res.json;
}
