/**
 * The LDAP connector: a small pool of bound ldapts connections per data source (pool.ts) so
 * concurrent paged searches never share a connection; caller-driven paged search (RFC 2696);
 * AD range retrieval; binary values as base64; writes; LDAP result codes mapped to the
 * protocol's typed errors.
 */
import { ResultCodeError } from 'ldapts';
import {
  type LdapConnection,
  type LdapConnectionOptions,
  openLdapConnection,
} from './connection.ts';
import { DnSyntaxError } from './dn.ts';
import { binarySet, type LdapEntry, type LdapValue } from './entries.ts';
import { LdapConnectorError, toLdapError } from './errors.ts';
import { FilterSyntaxError } from './filter.ts';
import { createPagingPool } from './pool.ts';
import type { SchemaItem } from './schema.ts';
import { readBase, type SearchParams, schemaValues, searchPage } from './search.ts';
import { addEntry, deleteEntry, type LdapChange, modifyEntry, modrdnEntry } from './write.ts';

export type { Scope, SearchParams } from './search.ts';
export type { LdapChange } from './write.ts';

export interface LdapConnectorOptions extends LdapConnectionOptions {
  /** Extra attributes to always return as base64 (objectGUID, objectSid … are built in). */
  binaryAttributes?: string[];
  /** Most connections (= concurrent paged searches), default 8. */
  maxConnections?: number;
  /** A paused paged search is dropped after this long without its next page (default 5 min). */
  pagingIdleMs?: number;
}

export interface SearchPage {
  entries: LdapEntry[];
  /** Absent on the last page. Valid once, on this connector, until pagingIdleMs passes. */
  cookie?: string;
}

export interface LdapConnector {
  testConnection(): Promise<{ ok: true; vendor?: string; namingContexts: string[] }>;
  search(params: SearchParams): Promise<SearchPage>;
  listAttributes(): Promise<SchemaItem[]>;
  listObjectClasses(): Promise<SchemaItem[]>;
  add(dn: string, attributes: Record<string, LdapValue[]>): Promise<void>;
  modify(dn: string, changes: LdapChange[]): Promise<void>;
  modrdn(dn: string, newRdn: string, deleteOldRdn: boolean, newSuperior?: string): Promise<void>;
  delete(dn: string): Promise<void>;
  close(): Promise<void>;
}

export const PAGING_COOKIE_EXPIRED = 'paging cookie expired; restart the search';

/** The server answered (the connection is fine) or the request never left: keep the connection. */
const connectionIntact = (e: unknown) =>
  e instanceof ResultCodeError ||
  e instanceof FilterSyntaxError ||
  e instanceof DnSyntaxError ||
  e instanceof LdapConnectorError;

export function createLdapConnector(options: LdapConnectorOptions): LdapConnector {
  const binary = binarySet(options.binaryAttributes ?? []);
  const pool = createPagingPool<LdapConnection>({
    open: () => openLdapConnection(options),
    close: (c) => c.close(),
    max: options.maxConnections,
    idleMs: options.pagingIdleMs,
  });

  async function run<T>(op: (conn: LdapConnection) => Promise<T>): Promise<T> {
    try {
      return await op(pool.any());
    } catch (e) {
      throw toLdapError(e);
    }
  }

  async function search(params: SearchParams): Promise<SearchPage> {
    const lease = params.cookie ? pool.resume(params.cookie) : await pool.start();
    if (!lease) throw new LdapConnectorError('connector_error', PAGING_COOKIE_EXPIRED);
    if (lease.serverCookie && !lease.conn.client.isConnected) {
      lease.fail(); // the socket dropped: the server forgot this search with it
      throw new LdapConnectorError('connector_error', PAGING_COOKIE_EXPIRED);
    }
    try {
      const page = await searchPage(lease.conn, params, lease.serverCookie, binary);
      const cookie = lease.done(page.serverCookie);
      return cookie ? { entries: page.entries, cookie } : { entries: page.entries };
    } catch (e) {
      if (connectionIntact(e)) lease.done();
      else lease.fail();
      throw toLdapError(e);
    }
  }

  return {
    testConnection: () =>
      run(async (conn) => {
        const root = await readBase(conn, '', ['namingContexts', 'vendorName']);
        const vendor = root?.attributes.vendorName?.[0];
        const contexts = root?.attributes.namingContexts ?? [];
        return {
          ok: true as const,
          ...(typeof vendor === 'string' ? { vendor } : {}),
          namingContexts: contexts.filter((c): c is string => typeof c === 'string'),
        };
      }),
    search,
    listAttributes: () => run((conn) => schemaValues(conn, 'attributeTypes')),
    listObjectClasses: () => run((conn) => schemaValues(conn, 'objectClasses')),
    add: (dn, attributes) => run((conn) => addEntry(conn, dn, attributes)),
    modify: (dn, changes) => run((conn) => modifyEntry(conn, dn, changes)),
    modrdn: (dn, newRdn, deleteOldRdn, newSuperior) =>
      run((conn) => modrdnEntry(conn, dn, newRdn, deleteOldRdn, newSuperior)),
    delete: (dn) => run((conn) => deleteEntry(conn, dn)),
    close: () => pool.close(),
  };
}
