import type { Harness } from '../../test/harness.ts';

export interface GqlResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the server sent
  body: any;
  text: string;
}

/** Test-only (imported by *.int.test.ts): POSTs a GraphQL document as JSON through the in-process app. */
export function gqlClient(h: Harness) {
  return (
    token: string | undefined,
    query: string,
    variables?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<GqlResponse> =>
    h.request('POST', '/graphql', {
      token,
      body: { query, variables },
      headers: { 'Content-Type': 'application/json', ...headers },
    });
}

/** The data of a successful response, failing loudly with the errors otherwise. */
// biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the server sent
export function dataOf(res: GqlResponse): any {
  if (res.status !== 200 || res.body?.errors) {
    throw new Error(`GraphQL failed (${res.status}): ${res.text}`);
  }
  return res.body.data;
}
