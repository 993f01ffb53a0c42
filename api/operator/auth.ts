import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';

export const OPERATOR_USER = 'operator';
const REALM = 'idhub operator';

/** The password of `Authorization: Basic …` when the user name is `operator`. */
function basicPassword(header: string | undefined): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(0, colon) !== OPERATOR_USER) return undefined;
  return decoded.slice(colon + 1);
}

function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

function challenge(c: Context<AppEnv>): Response {
  const body = {
    error: {
      code: 'unauthorized',
      message: `operator credentials required (user "${OPERATOR_USER}", the operator token as password)`,
      requestId: c.get('requestId'),
    },
  };
  return c.json(body, 401, { 'WWW-Authenticate': `Basic realm="${REALM}", charset="UTF-8"` });
}

/**
 * Lets the platform operator through: HTTP Basic with user `operator` and the operator token as
 * password (browsers prompt for it), or — with `bearer` — `Authorization: Bearer <operator
 * token>` for scrapers. Tenant tokens never pass. Anything else is a 401 Basic challenge.
 */
export function operatorOnly(opts: { bearer?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const presented = basicPassword(header) ?? (opts.bearer ? bearerToken(header) : undefined);
    if (presented === undefined || !c.get('services').operator.verify(presented)) {
      return challenge(c);
    }
    await next();
  };
}
