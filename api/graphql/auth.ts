import type { Context } from 'hono';
import type { AppEnv } from '../env.ts';
import type { Viewer } from './context.ts';

export type AuthResult = { viewer: Viewer } | { refused: Response };

/** A refusal shaped like a GraphQL response, so GraphiQL and clients show it as one. */
function refuse(c: Context<AppEnv>, status: 401 | 403, code: string, message: string): Response {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="idhub"';
  const body = { errors: [{ message, extensions: { code, requestId: c.get('requestId') } }] };
  return new Response(JSON.stringify(body), { status, headers });
}

/**
 * Authenticates a GraphQL request: the platform operator token, or a tenant token that carries
 * the `admin` scope. SCIM-only tokens are refused here, before anything is parsed.
 */
export async function authenticate(c: Context<AppEnv>): Promise<AuthResult> {
  const match = /^bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
  const token = match?.[1];
  if (!token) {
    return { refused: refuse(c, 401, 'UNAUTHENTICATED', 'a bearer token is required') };
  }
  const { operator, auth, recordTokenUse } = c.get('services');
  if (operator.verify(token)) return { viewer: { kind: 'operator' } };
  const principal = await auth.authenticate(token);
  if (!principal) {
    return {
      refused: refuse(c, 401, 'UNAUTHENTICATED', 'the bearer token is invalid, expired or revoked'),
    };
  }
  if (!principal.scopes.includes('admin')) {
    return {
      refused: refuse(c, 403, 'FORBIDDEN', 'this token does not carry the "admin" scope'),
    };
  }
  recordTokenUse(principal.tokenId);
  return { viewer: { kind: 'tenant', principal } };
}
