import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../api/env.ts';
import { ScimError } from './errors.ts';

const challenge = { 'WWW-Authenticate': 'Bearer realm="idhub", error="invalid_token"' };

/** Bearer-token auth for SCIM: the tenant comes only from the token, which needs the `scim` scope. */
export const scimAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) {
    throw new ScimError(401, undefined, 'a bearer token is required', {
      'WWW-Authenticate': 'Bearer realm="idhub"',
    });
  }
  const { auth, recordTokenUse } = c.get('services');
  const principal = await auth.authenticate(match[1]);
  if (!principal)
    throw new ScimError(
      401,
      undefined,
      'the bearer token is invalid, expired or revoked',
      challenge,
    );
  if (!principal.scopes.includes('scim')) {
    throw new ScimError(403, undefined, 'this token does not carry the "scim" scope');
  }
  c.set('principal', principal);
  recordTokenUse(principal.tokenId);
  await next();
};
