/**
 * One LDAP connection: an ldapts client bound once and re-bound after a reconnect, plus the
 * narrowed access to ldapts' request core the connector needs for paged search and modrdn.
 */
import {
  Client,
  type ModifyDNRequest,
  type ModifyDNResponse,
  type SearchRequest,
  type SearchResponse,
} from 'ldapts';
import { LdapConnectorError } from './errors.ts';

export interface LdapConnectionOptions {
  url: string;
  bindDn: string;
  /** Kept in this closure only: never logged, never put in an error message. */
  password: string;
  tls?: { ca?: string | Buffer; startTls?: boolean };
  /** Per-operation timeout in ms (default 30 s) and TCP connect timeout (default 10 s). */
  timeoutMs?: number;
  connectTimeoutMs?: number;
}

type Sendable = SearchRequest | ModifyDNRequest;

export interface LdapConnection {
  readonly client: Client;
  /** Connects and binds when needed; concurrent callers share one bind. */
  ready(): Promise<void>;
  nextMessageId(): number;
  /** Sends a request through ldapts' core: paged-results controls and modrdn's deleteOldRdn. */
  send(request: SearchRequest): Promise<SearchResponse | undefined>;
  send(request: ModifyDNRequest): Promise<ModifyDNResponse | undefined>;
  close(): Promise<void>;
}

/**
 * ldapts 8 refuses a caller-supplied PagedResultsControl in `search()`, hides the response
 * controls, and its `modifyDN()` always deletes the old RDN. Narrowed here so a change in
 * ldapts fails loudly in one place (pinned by connector.int.test.ts).
 */
interface LdaptsCore {
  _nextMessageId(): number;
  _send(message: Sendable): Promise<unknown>;
}

function core(client: Client): LdaptsCore {
  const c = client as unknown as Partial<LdaptsCore>;
  if (typeof c._send !== 'function' || typeof c._nextMessageId !== 'function') {
    throw new LdapConnectorError('connector_error', 'unsupported ldapts version (request core)');
  }
  return c as LdaptsCore;
}

export function openLdapConnection(options: LdapConnectionOptions): LdapConnection {
  const secure = options.url.toLowerCase().startsWith('ldaps:');
  const tlsOptions = options.tls?.ca ? { ca: options.tls.ca } : undefined;
  const client = new Client({
    url: options.url,
    timeout: options.timeoutMs ?? 30_000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    ...(secure && tlsOptions ? { tlsOptions } : {}),
  });
  let binding: Promise<void> | undefined;

  /** Binds once per socket; a dropped socket means the next call reconnects and re-binds. */
  function ready(): Promise<void> {
    if (binding && client.isConnected) return binding;
    binding = (async () => {
      if (options.tls?.startTls && !secure) await client.startTLS(tlsOptions ?? {});
      await client.bind(options.bindDn, options.password);
    })();
    binding.catch(() => {
      binding = undefined;
    });
    return binding;
  }

  return {
    client,
    ready,
    nextMessageId: () => core(client)._nextMessageId.call(client),
    send: ((request: Sendable) =>
      core(client)._send.call(client, request)) as LdapConnection['send'],
    close: async () => {
      binding = undefined;
      await client.unbind().catch(() => {});
    },
  };
}
