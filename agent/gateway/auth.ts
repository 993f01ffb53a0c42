/**
 * Who is calling the agent endpoints: a registered, unrevoked agent, by basic credentials
 * (scrypt-verified once, then cached by a SHA-256 of the pair for a minute) or by its client
 * certificate's SHA-256 fingerprint — from the TLS socket when the hub terminates TLS, or from
 * a configured header set by a TLS-terminating proxy. Revocation clears the cache everywhere.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type postgres from 'postgres';
import { verifyAgentPassword } from './credentials.ts';

export interface AgentPrincipal {
  agentId: string;
  tenantId: string;
  name: string;
  group: string;
}

export type AgentAuthResult =
  | { ok: true; agent: AgentPrincipal }
  | { ok: false; status: 401 | 403; code: string; message: string };

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;

interface Row extends AgentPrincipal {
  passwordHash: string | null;
  revokedAt: Date | null;
}

export interface AgentAuthOptions {
  /** Header with the URL-encoded PEM client certificate, set by a trusted TLS proxy. */
  certHeader?: string;
  /** The hub verifies client certificates against a CA: an unverified one is ignored. */
  requireChain?: boolean;
}

/** The certificate the client presented: from the TLS socket, or the proxy's header. */
function presentedFingerprint(
  headers: Headers,
  incoming: IncomingMessage | undefined,
  certHeader?: string,
  requireChain?: boolean,
): string | undefined {
  const socket = incoming?.socket as TLSSocket | undefined;
  if (
    socket &&
    typeof socket.getPeerCertificate === 'function' &&
    (socket.authorized || !requireChain)
  ) {
    const cert = socket.getPeerCertificate();
    if (cert && 'fingerprint256' in cert && cert.fingerprint256) return cert.fingerprint256;
  }
  if (!certHeader) return undefined;
  const raw = headers.get(certHeader);
  if (!raw) return undefined;
  try {
    return new X509Certificate(decodeURIComponent(raw)).fingerprint256;
  } catch {
    return undefined;
  }
}

function basicCredentials(headers: Headers): { user: string; password: string } | undefined {
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(headers.get('authorization') ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function createAgentAuth(sql: postgres.Sql, opts: AgentAuthOptions = {}) {
  const cache = new Map<string, { agent: AgentPrincipal; until: number }>();
  const columns = sql`id as "agentId", tenant_id as "tenantId", name, agent_group as "group",
    password_hash as "passwordHash", revoked_at as "revokedAt"`;

  const refuse = (status: 401 | 403, code: string, message: string): AgentAuthResult => ({
    ok: false,
    status,
    code,
    message,
  });
  const accept = (row: Row, tenantHeader: string | null): AgentAuthResult => {
    if (row.revokedAt) return refuse(403, 'agent_revoked', 'this agent registration was revoked');
    if (tenantHeader && tenantHeader.toLowerCase() !== row.tenantId) {
      return refuse(403, 'tenant_mismatch', 'the agent is registered in another tenant');
    }
    const { agentId, tenantId, name, group } = row;
    return { ok: true, agent: { agentId, tenantId, name, group } };
  };

  async function byCertificate(fingerprint: string, tenant: string | null) {
    const [row] = await sql<Row[]>`
      select ${columns} from agents where cert_fingerprint = ${fingerprint}`;
    return row
      ? accept(row, tenant)
      : refuse(401, 'unknown_certificate', 'no agent is registered with this certificate');
  }

  async function byPassword(user: string, password: string, tenant: string | null) {
    const key = createHash('sha256').update(`${user}\0${password}`).digest('hex');
    const hit = cache.get(key);
    if (hit && hit.until > Date.now())
      return accept({ ...hit.agent, passwordHash: null, revokedAt: null }, tenant);
    const [row] = await sql<Row[]>`select ${columns} from agents where user_name = ${user}`;
    const valid = row?.passwordHash ? await verifyAgentPassword(password, row.passwordHash) : false;
    if (!row || !valid) return refuse(401, 'bad_credentials', 'invalid agent credentials');
    const result = accept(row, tenant);
    if (result.ok) {
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(key, { agent: result.agent, until: Date.now() + CACHE_TTL_MS });
    }
    return result;
  }

  return {
    /** A client certificate wins over basic credentials, as on the agent's side. */
    async authenticate(
      headers: Headers,
      incoming: IncomingMessage | undefined,
    ): Promise<AgentAuthResult> {
      const tenant = headers.get('idhub-tenant');
      const fingerprint = presentedFingerprint(
        headers,
        incoming,
        opts.certHeader,
        opts.requireChain,
      );
      if (fingerprint) return byCertificate(fingerprint, tenant);
      const basic = basicCredentials(headers);
      if (basic) return byPassword(basic.user, basic.password, tenant);
      return refuse(
        401,
        'unauthenticated',
        'agent credentials are required (basic or certificate)',
      );
    },
    /** Forgets cached credentials of a revoked agent. */
    forget(agentId: string): void {
      for (const [k, v] of cache) if (v.agent.agentId === agentId) cache.delete(k);
    },
  };
}

export type AgentAuthenticator = ReturnType<typeof createAgentAuth>;
